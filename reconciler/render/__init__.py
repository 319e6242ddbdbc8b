"""Render a Plan for people (text, markdown for a PR comment) and for machines (JSON)."""
