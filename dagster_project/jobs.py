"""The `warehouse` job: replicate, check, dbt build, publish — all the published file needs."""

from __future__ import annotations

import dagster as dg

from dagster_project.assets.publish import published_warehouse

warehouse_job = dg.define_asset_job(
    "warehouse",
    selection=dg.AssetSelection.assets(published_warehouse).upstream(),
    description="Copy Postgres into the working copy, check it, build the dbt marts, publish.",
    # In process: the writers' lock (held by the resource for the run) then spans every step.
    executor_def=dg.in_process_executor,
)

weekly_exports_job = dg.define_asset_job(
    "exports",
    selection=dg.AssetSelection.assets("weekly_exports"),
    description="Write the weekly reports and ChatGPT zips that are due; delete expired exports.",
)
