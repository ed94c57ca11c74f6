"""The published warehouse: the file at WAREHOUSE_PATH that readers open.

It depends on every replicated table and every dbt model and seed (`PUBLISHED_FROM`): dbt
builds in the same working copy after replication, so publishing waits for both, and a failed
model, test or check stops the publish. The `warehouse` job is everything upstream of this asset.
A run that changed nothing in the working copy since the last publish (no table moved, dbt built
nothing) leaves the published file as it is and materializes nothing.
"""

# No `from __future__ import annotations`: Dagster reads the parameter annotations.
import os
from collections.abc import Iterator
from datetime import timedelta

import dagster as dg
import psycopg

from dagster_project import build_state
from dagster_project import warehouse as files
from dagster_project.assets.dbt import dbt_build
from dagster_project.assets.replication import RAW_SPECS
from dagster_project.progress import NOTE
from dagster_project.replication import DELETE_LOG, STATE_TABLE
from dagster_project.resources import WarehouseResource

PUBLISHED_FROM: list[dg.AssetKey] = [spec.key for spec in RAW_SPECS] + sorted(dbt_build.keys)

# Deletions stay logged a week past the oldest watermark: plenty for the overlap window, and
# for a working copy rebuilt from a published file a few runs old.
DELETE_LOG_RETENTION = timedelta(days=7)


@dg.asset(
    key="published_warehouse",
    deps=PUBLISHED_FROM,
    group_name="warehouse",
    pool="warehouse",
    kinds={"duckdb"},
    description="The DuckDB file analysts and the service read, swapped in atomically.",
    output_required=False,
)
def published_warehouse(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult[None]]:
    with warehouse.build() as con:
        needed = (
            build_state.publish_needed(con)
            if warehouse.files.published.exists()
            else "no published file"
        )
        if needed is None:
            context.log.info(f"{NOTE}nothing changed since the last publish; file left as it is")
            files.confirm_current(warehouse.files)
            return
        started = build_state.now(con)
        con.execute("checkpoint")
        row = con.execute(f"select min(watermark) from {STATE_TABLE}").fetchone()
    seconds = files.publish(warehouse.files)
    with warehouse.build() as con:
        build_state.record(con, build_state.PUBLISH_STEP, started)
    oldest = row[0] if row else None
    if oldest is not None:
        with psycopg.connect(warehouse.source_url(), autocommit=True) as pg:
            pruned = pg.execute(
                f"delete from {DELETE_LOG} where deleted_at < %s",
                (oldest - DELETE_LOG_RETENTION,),
            ).rowcount
        context.log.info(f"pruned {pruned:,} old entries from {DELETE_LOG}")
    path = warehouse.files.published
    yield dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "size_mb": dg.MetadataValue.float(round(os.path.getsize(path) / 1e6, 2)),
            "publish_s": dg.MetadataValue.float(round(seconds, 3)),
        }
    )
