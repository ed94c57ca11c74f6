"""Postgres → DuckDB `raw`: every operational table, incrementally by `updated_at`.

One run reads every table inside one DuckDB transaction, which the postgres scanner serves
from one Postgres REPEATABLE READ snapshot: the copy is consistent across tables (no message
without its lead), and a failure leaves the working copy as it was.

Per table, `raw._replication_state` keeps the watermark: the snapshot's start, pulled back to
the start of the oldest writing transaction still open then (its rows were invisible to us
but carry `updated_at` at or after its start). The next run re-reads rows changed or deleted
after `watermark - overlap`, the overlap covering transactions `pg_stat_activity` hides from
a non-superuser; the upsert (delete by id, then insert) makes re-reading harmless. Deletes
come from the `row_deletions` log kept by triggers; a TRUNCATE marker there, a new column, or
`full=True` reloads the table whole.

The same snapshot also yields each table's row count and id checksum, kept in the state so the
asset check compares the warehouse with Postgres as of the copy, not as of some later moment.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

import duckdb

from sender_service.db.models import RowDeletion

STATE_TABLE = "raw._replication_state"
DELETE_LOG = RowDeletion.__tablename__

# Secrets stay in Postgres: analysts can read the warehouse, and none of these is analytics.
REDACTED_COLUMNS: dict[str, frozenset[str]] = {
    "workspaces": frozenset({"webhook_secret_hash"}),
    "workspace_secrets": frozenset({"ciphertext"}),
    "users": frozenset({"password_hash"}),
    "api_tokens": frozenset({"token_hash"}),
}

# An order-independent checksum of a table's ids, computed alike on both sides: the sum of
# each UUID's first 60 bits. A lost, extra or substituted id changes it.
PG_ID_CHECKSUM = "coalesce(sum(('x' || left(replace(id::text, '-', ''), 15))::bit(60)::bigint), 0)"
DUCK_ID_CHECKSUM = (
    "coalesce(sum(('0x' || left(replace(id::varchar, '-', ''), 15))::bigint)::hugeint, 0)"
)

Mode = Literal["full", "incremental"]


@dataclass(frozen=True)
class TableResult:
    table: str
    mode: Mode
    reason: str  # why this mode: "requested", "first run", "truncated", "columns changed", ...
    rows_copied: int
    rows_deleted: int
    rows_total: int
    watermark: datetime
    duration_s: float


@dataclass(frozen=True)
class Fingerprint:
    rows: int
    id_checksum: int


@dataclass
class Phases:
    """Seconds spent per phase of a run, summed over tables: where a run's time goes."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


@dataclass(frozen=True)
class _State:
    watermark: datetime
    truncate_seen: datetime | None


def _pg_query(sql: str) -> str:
    """A query run by Postgres itself (aggregates stay there) in the attached transaction."""
    return "select * from postgres_query('pg', '" + sql.replace("'", "''") + "')"


def _ts(value: datetime) -> str:
    return f"timestamptz '{value.isoformat()}'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute(
        f"""create table if not exists {STATE_TABLE} (
            table_name varchar primary key,
            watermark timestamptz not null,
            truncate_seen timestamptz,
            source_rows bigint not null,
            source_id_checksum hugeint not null,
            last_mode varchar not null,
            last_rows_copied bigint not null,
            last_rows_deleted bigint not null,
            last_duration_s double not null,
            replicated_at timestamptz not null
        )"""
    )


def _snapshot_horizon(con: duckdb.DuckDBPyConnection) -> datetime:
    """The new watermark; as the transaction's first query it also fixes the snapshot."""
    row = con.execute(
        _pg_query(
            "select least(now(), (select min(xact_start) from pg_stat_activity"
            " where backend_xid is not null and pid <> pg_backend_pid()))"
        )
    ).fetchone()
    assert row is not None
    horizon: datetime = row[0]
    return horizon


def _source_columns(
    con: duckdb.DuckDBPyConnection, tables: Iterable[str]
) -> dict[str, list[tuple[str, str]]]:
    names = ", ".join(f"'{t}'" for t in tables)
    rows = con.execute(
        _pg_query(
            "select table_name::text, column_name::text, udt_name::text"
            " from information_schema.columns where table_schema = 'public'"
            f" and table_name in ({names}) order by table_name, ordinal_position"
        )
    ).fetchall()
    columns: dict[str, list[tuple[str, str]]] = {}
    for table, column, udt in rows:
        columns.setdefault(table, []).append((column, udt))
    return columns


def _select_list(table: str, columns: list[tuple[str, str]]) -> tuple[str, list[str]]:
    """The SELECT list copying `table` with exact types, and the column names it yields."""
    redacted = REDACTED_COLUMNS.get(table, frozenset())
    kept = [(c, udt) for c, udt in columns if c not in redacted]
    # The scanner reads json/jsonb as VARCHAR; DuckDB's JSON type keeps them JSON.
    parts = [
        f"{_ident(c)}::json as {_ident(c)}" if udt in ("json", "jsonb") else _ident(c)
        for c, udt in kept
    ]
    return ", ".join(parts), [c for c, _ in kept]


def _state(con: duckdb.DuckDBPyConnection, table: str) -> _State | None:
    row = con.execute(
        f"select watermark, truncate_seen from {STATE_TABLE} where table_name = ?", [table]
    ).fetchone()
    return _State(row[0], row[1]) if row else None


def _raw_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "select column_name from duckdb_columns() where database_name = current_database()"
        " and schema_name = 'raw' and table_name = ? order by column_index",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def _last_truncate(con: duckdb.DuckDBPyConnection, table: str, since: datetime) -> datetime | None:
    row = con.execute(
        f"select max(deleted_at) from pg.public.{DELETE_LOG}"
        f" where table_name = ? and row_id is null and deleted_at > {_ts(since)}",
        [table],
    ).fetchone()
    return row[0] if row else None


def source_fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> Fingerprint:
    row = con.execute(
        _pg_query(f"select count(*), {PG_ID_CHECKSUM}::text from public.{_ident(table)}")
    ).fetchone()
    assert row is not None
    return Fingerprint(int(row[0]), int(row[1]))


def warehouse_fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> Fingerprint:
    row = con.execute(f"select count(*), {DUCK_ID_CHECKSUM} from raw.{_ident(table)}").fetchone()
    assert row is not None
    return Fingerprint(int(row[0]), int(row[1]))


def _replicate_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: list[tuple[str, str]],
    horizon: datetime,
    overlap: timedelta,
    full: bool,
    phases: Phases,
) -> TableResult:
    started = time.perf_counter()
    select, names = _select_list(table, columns)
    target = f"raw.{_ident(table)}"
    with phases("plan"):
        state = _state(con, table)
        truncated = None
        reason = "requested"
        if not full:
            if state is None or not _raw_columns(con, table):
                full, reason = True, "first run"
            elif _raw_columns(con, table) != names:
                full, reason = True, "columns changed"
            else:
                truncated = _last_truncate(con, table, state.watermark - overlap)
                if truncated is not None and (
                    state.truncate_seen is None or truncated > state.truncate_seen
                ):
                    full, reason = True, "truncated"
        if full:
            # A full copy reflects every TRUNCATE before the snapshot: none of them is news later.
            truncated = _last_truncate(con, table, datetime.min.replace(tzinfo=UTC))
        truncate_seen = truncated or (state.truncate_seen if state else None)

    if full:
        with phases("copy"):
            con.execute(
                f"create or replace table {target} as select {select}"
                f" from pg.public.{_ident(table)}"
            )
            copied, deleted = _count(con, target), 0
    else:
        assert state is not None
        since = _ts(state.watermark - overlap)
        with phases("deletes"):
            deleted = _affected(
                con.execute(
                    f"delete from {target} where id in (select row_id from pg.public.{DELETE_LOG}"
                    f" where table_name = ? and row_id is not null and deleted_at > {since})",
                    [table],
                )
            )
        with phases("changes"):
            con.execute(
                f"create or replace temp table _changes as select {select}"
                f" from pg.public.{_ident(table)} where updated_at > {since}"
            )
        with phases("upsert"):
            # Upsert: rows re-read inside the overlap replace their earlier copy.
            con.execute(f"delete from {target} where id in (select id from _changes)")
            con.execute(f"insert into {target} select * from _changes")
            copied = _count(con, "_changes")
            con.execute("drop table _changes")
        reason = "changes since the watermark"

    with phases("fingerprint"):
        fingerprint = source_fingerprint(con, table)
    duration = time.perf_counter() - started
    with phases("bookkeeping"):
        con.execute(
            f"insert or replace into {STATE_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
            [
                table,
                horizon,
                truncate_seen,
                fingerprint.rows,
                fingerprint.id_checksum,
                "full" if full else "incremental",
                copied,
                deleted,
                duration,
            ],
        )
        rows_total = _count(con, target)
    return TableResult(
        table=table,
        mode="full" if full else "incremental",
        reason=reason,
        rows_copied=copied,
        rows_deleted=deleted,
        rows_total=rows_total,
        watermark=horizon,
        duration_s=duration,
    )


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    row = con.execute(f"select count(*) from {relation}").fetchone()
    assert row is not None
    return int(row[0])


def _affected(cursor: duckdb.DuckDBPyConnection) -> int:
    row = cursor.fetchone()
    return int(row[0]) if row else 0


def replicate(
    con: duckdb.DuckDBPyConnection,
    tables: Iterable[str],
    *,
    full: bool = False,
    overlap: timedelta = timedelta(minutes=5),
    phases: Phases | None = None,
) -> list[TableResult]:
    """Copy `tables` from the attached Postgres `pg` into `raw`, all or nothing."""
    tables = list(tables)
    phases = phases if phases is not None else Phases()
    ensure_schema(con)
    con.execute("begin transaction")
    try:
        with phases("snapshot"):
            horizon = _snapshot_horizon(con)
            columns = _source_columns(con, tables)
        missing = [t for t in tables if t not in columns]
        if missing:
            raise LookupError(f"tables missing in Postgres (migrate it?): {', '.join(missing)}")
        results = [
            _replicate_table(con, t, columns[t], horizon, overlap, full, phases) for t in tables
        ]
        with phases("commit"):
            con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return results


def stored_fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> Fingerprint | None:
    """Postgres's count and checksum for `table` as of the last copy."""
    row = con.execute(
        f"select source_rows, source_id_checksum from {STATE_TABLE} where table_name = ?",
        [table],
    ).fetchone()
    return Fingerprint(int(row[0]), int(row[1])) if row else None
