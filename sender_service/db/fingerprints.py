"""Compaction of the row fingerprint log (migration 0018_row_fingerprints).

Triggers add a row per writing statement; a reader only ever needs each table's sum. Compacting
replaces a table's rows by one row holding their sum, in one transaction, so every snapshot
sums to the same fingerprint before and after it. It first takes ACCESS SHARE on the tables
(what a SELECT takes): a TRUNCATE waits for it, and its reset then sees the summed row.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from psycopg import sql

from sender_service.db.models import RowFingerprintDelta

LOG = RowFingerprintDelta.__tablename__

_COMPACT = f"""
with gone as (
    delete from {LOG} where table_name = any(%(tables)s) and table_name in (
        select table_name from {LOG} where table_name = any(%(tables)s)
        group by table_name having count(*) > 1
    )
    returning table_name, rows, id_checksum
), summed as (
    insert into {LOG} (table_name, rows, id_checksum)
    select table_name, sum(rows), sum(id_checksum) from gone group by table_name
    returning 1
)
select (select count(*) from gone) - (select count(*) from summed)
"""


def compact(conn: psycopg.Connection, tables: Iterable[str]) -> int:
    """Sum each of `tables`' log rows into one, in `conn`'s transaction (the caller commits);
    how many rows fewer the log has."""
    tables = list(tables)
    conn.execute(
        sql.SQL("lock table {} in access share mode").format(
            sql.SQL(", ").join(sql.Identifier(t) for t in tables)
        )
    )
    row = conn.execute(_COMPACT, {"tables": tables}).fetchone()
    return int(row[0]) if row else 0
