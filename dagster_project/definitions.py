"""The Dagster code location: replication into DuckDB, its checks, dbt, the published warehouse
(`warehouse_definitions`), the weekly exports read from it, the marts' freshness checks and the
run-failure alert."""

from __future__ import annotations

import dagster as dg

from dagster_project.alerts import post_run_failures_to_slack
from dagster_project.assets.exports import weekly_exports
from dagster_project.freshness import (
    marts_fresh,
    marts_freshness_every_5_minutes,
    marts_freshness_job,
)
from dagster_project.jobs import weekly_exports_job
from dagster_project.resources import ExportsResource
from dagster_project.schedules import warehouse_every_15_minutes, weekly_exports_hourly
from dagster_project.warehouse_definitions import warehouse_defs

defs = dg.Definitions.merge(
    warehouse_defs,
    dg.Definitions(
        assets=[weekly_exports],
        asset_checks=[marts_fresh],
        jobs=[weekly_exports_job, marts_freshness_job],
        schedules=[
            warehouse_every_15_minutes,
            weekly_exports_hourly,
            marts_freshness_every_5_minutes,
        ],
        sensors=[post_run_failures_to_slack],
        resources={"exports": ExportsResource()},
    ),
)
