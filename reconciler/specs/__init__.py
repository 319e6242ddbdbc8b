"""Load spec files: find them, read YAML with places, interpolate, check schema and rules, build JobSpecs."""
