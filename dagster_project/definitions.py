"""The Dagster code location: replication into DuckDB, its checks, dbt, the published warehouse,
the weekly exports read from it, the marts' freshness checks and the run-failure alert."""

from __future__ import annotations

import dagster as dg

from dagster_project.alerts import post_run_failures_to_slack
from dagster_project.assets.dbt import dbt_build
from dagster_project.assets.exports import weekly_exports
from dagster_project.assets.publish import published_warehouse
from dagster_project.assets.replication import replicate_postgres
from dagster_project.checks import raw_matches_postgres
from dagster_project.dbt_project import dbt_resource
from dagster_project.freshness import (
    marts_fresh,
    marts_freshness_every_5_minutes,
    marts_freshness_job,
)
from dagster_project.jobs import warehouse_job, weekly_exports_job
from dagster_project.resources import ExportsResource, WarehouseResource
from dagster_project.schedules import warehouse_every_15_minutes, weekly_exports_hourly

defs = dg.Definitions(
    assets=[replicate_postgres, dbt_build, published_warehouse, weekly_exports],
    asset_checks=[raw_matches_postgres, marts_fresh],
    jobs=[warehouse_job, weekly_exports_job, marts_freshness_job],
    schedules=[warehouse_every_15_minutes, weekly_exports_hourly, marts_freshness_every_5_minutes],
    sensors=[post_run_failures_to_slack],
    resources={
        "warehouse": WarehouseResource(),
        "dbt": dbt_resource(),
        "exports": ExportsResource(),
    },
)
