"""What must hold after each copy: no row lost or invented in `raw`.

Per table, the warehouse's row count and id checksum must equal those Postgres had at the
snapshot the copy read (kept by the replication step), not at some later moment: the
operational database keeps changing while a run is under way. The checks are blocking, so a
failure stops the publish and readers keep the last good warehouse.
"""

# No `from __future__ import annotations`: Dagster reads the parameter annotations.
from collections.abc import Iterator

import dagster as dg

from dagster_project import replication
from dagster_project.assets.replication import RAW_SPECS
from dagster_project.resources import WarehouseResource

CHECK_NAME = "rows_and_ids_match_postgres"


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=spec.key,
            blocking=True,
            description="Row count and id checksum equal Postgres at the copied snapshot.",
        )
        for spec in RAW_SPECS
    ],
    name="raw_matches_postgres",
)
def raw_matches_postgres(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> Iterator[dg.AssetCheckResult]:
    tables = [spec.key.path[-1] for spec in RAW_SPECS]
    with warehouse.build() as con:
        replication.ensure_schema(con)
        sources = replication.stored_fingerprints(con)
        # Tables never copied have no `raw` table to count yet.
        copies = replication.warehouse_fingerprints(con, [t for t in tables if t in sources])
    for spec, table in zip(RAW_SPECS, tables, strict=True):
        source = sources.get(table)
        copied = copies.get(table)
        passed = source is not None and source == copied
        if source is None or copied is None:
            description = f"{table} has never been replicated"
        elif passed:
            description = f"{copied.rows:,} rows, ids match Postgres"
        else:
            description = (
                f"{table}: {copied.rows:,} rows in the warehouse, {source.rows:,} in Postgres"
                f"{'' if copied.rows != source.rows else ', but the ids differ'};"
                " run `replyline warehouse refresh --full`"
            )
        yield dg.AssetCheckResult(
            asset_key=spec.key,
            check_name=CHECK_NAME,
            passed=passed,
            description=description,
            metadata={
                "warehouse_rows": copied.rows if copied else 0,
                "postgres_rows": source.rows if source else 0,
            },
        )
