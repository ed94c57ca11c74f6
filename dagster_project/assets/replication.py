"""One asset per operational table, `raw/<table>`, materialized together by one step.

They are one multi-asset, not subsettable: every run copies all tables from one Postgres
snapshot, so `raw` is consistent across tables (see `dagster_project.replication`).
"""

# No `from __future__ import annotations`: Dagster reads the parameter annotations.
from collections.abc import Iterator

import dagster as dg
import psycopg

from dagster_project import replication
from dagster_project.resources import WarehouseResource
from sender_service.db import fingerprints
from sender_service.db.models import REPLICATED_TABLES

RAW_SPECS = [
    dg.AssetSpec(
        ["raw", table],
        group_name="raw",
        description=f"Postgres `public.{table}` copied into DuckDB `raw.{table}`.",
        kinds={"duckdb"},
    )
    for table in REPLICATED_TABLES
]


class ReplicationConfig(dg.Config):
    full: bool = False
    """Reload every table whole instead of copying what changed since the watermark."""


@dg.multi_asset(specs=RAW_SPECS, can_subset=False, pool="warehouse", name="replicate_postgres")
def replicate_postgres(
    context: dg.AssetExecutionContext, config: ReplicationConfig, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult[None]]:
    # Its own short transaction before the copy's snapshot: the run then sums a row or so per
    # table of the fingerprint log, not one per write since the last run.
    with psycopg.connect(warehouse.source_url()) as conn:
        fingerprints.compact(conn, REPLICATED_TABLES)
    with warehouse.build(attach_source=True) as con:
        results = replication.replicate(
            con, REPLICATED_TABLES, full=config.full, overlap=warehouse.overlap
        )
    for result in results:
        context.log.info(
            f"{result.table}: {result.mode} ({result.reason}), {result.rows_copied:,} rows copied,"
            f" {result.rows_deleted:,} deleted, {result.rows_total:,} in raw,"
            f" {result.duration_s:.2f}s"
        )
        yield dg.MaterializeResult(
            asset_key=["raw", result.table],
            metadata={
                "mode": result.mode,
                "reason": result.reason,
                "rows_copied": dg.MetadataValue.int(result.rows_copied),
                "rows_deleted": dg.MetadataValue.int(result.rows_deleted),
                "dagster/row_count": dg.MetadataValue.int(result.rows_total),
                "watermark": dg.MetadataValue.timestamp(result.watermark),
                "duration_s": dg.MetadataValue.float(round(result.duration_s, 3)),
            },
        )
