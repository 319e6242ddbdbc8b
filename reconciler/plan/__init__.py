"""Diff specs against live jobs into a Plan, the checks that guard it, and saved plans."""
