"""The Dagster code location: replication into DuckDB, its checks, dbt, the published warehouse."""

from __future__ import annotations

import dagster as dg

from dagster_project.assets.dbt import dbt_build
from dagster_project.assets.publish import published_warehouse
from dagster_project.assets.replication import replicate_postgres
from dagster_project.checks import raw_matches_postgres
from dagster_project.dbt_project import dbt_resource
from dagster_project.jobs import warehouse_job
from dagster_project.resources import WarehouseResource
from dagster_project.schedules import warehouse_every_15_minutes

defs = dg.Definitions(
    assets=[replicate_postgres, dbt_build, published_warehouse],
    asset_checks=[raw_matches_postgres],
    jobs=[warehouse_job],
    schedules=[warehouse_every_15_minutes],
    resources={"warehouse": WarehouseResource(), "dbt": dbt_resource()},
)
