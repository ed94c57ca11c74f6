"""The warehouse's own definitions: replication, its checks, dbt, the publish and their job.

The code location (`definitions.py`) adds the exports and the schedules to these. The CLI's
refresh loads only these: the exports pull in the report libraries (matplotlib and friends),
a second of imports a refresh does not use.
"""

from __future__ import annotations

import dagster as dg

from dagster_project.assets.dbt import dbt_build
from dagster_project.assets.publish import published_warehouse
from dagster_project.assets.replication import replicate_postgres
from dagster_project.checks import raw_matches_postgres
from dagster_project.dbt_project import dbt_resource
from dagster_project.jobs import warehouse_job
from dagster_project.resources import WarehouseResource

warehouse_defs = dg.Definitions(
    assets=[replicate_postgres, dbt_build, published_warehouse],
    asset_checks=[raw_matches_postgres],
    jobs=[warehouse_job],
    resources={"warehouse": WarehouseResource(), "dbt": dbt_resource()},
)
