"""Dagster project: replicates Postgres into DuckDB, runs dbt, writes the weekly exports.

Filled by the warehouse issues: `definitions.py`, `assets/`, `resources.py`, `jobs.py`,
`schedules.py`, `checks.py`.
"""
