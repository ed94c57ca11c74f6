"""The Dagster code location: replication into DuckDB, its checks, dbt, the published warehouse
(`warehouse_definitions`), and the weekly exports read from it."""

from __future__ import annotations

import dagster as dg

from dagster_project.assets.exports import weekly_exports
from dagster_project.jobs import weekly_exports_job
from dagster_project.resources import ExportsResource
from dagster_project.schedules import warehouse_every_15_minutes, weekly_exports_hourly
from dagster_project.warehouse_definitions import warehouse_defs

defs = dg.Definitions.merge(
    warehouse_defs,
    dg.Definitions(
        assets=[weekly_exports],
        jobs=[weekly_exports_job],
        schedules=[warehouse_every_15_minutes, weekly_exports_hourly],
        resources={"exports": ExportsResource()},
    ),
)
