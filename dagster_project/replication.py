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

The same snapshot also yields each table's row count and id checksum, summed from the log
that Postgres triggers keep (`row_fingerprint_deltas`, migration 0018_row_fingerprints: no
table is scanned for it), kept in the state so the asset check compares the warehouse with
Postgres as of the copy, not as of some later moment. A table with nothing changed, deleted or
truncated since the watermark and the same fingerprint has the same ids as at the last
snapshot: it is not copied (the check still recomputes the warehouse's side every run).

A run costs a handful of round trips whatever the number of tables: one query plans them all,
one reads the fingerprints, one writes the state.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import duckdb

from sender_service.db.models import RowDeletion, RowFingerprintDelta

STATE_TABLE = "raw._replication_state"
# How far before the watermark a run re-reads (see above); the warehouse resource's default.
DEFAULT_OVERLAP = timedelta(minutes=5)
# The postgres extension splits a big table's scan into `COPY`s of this many pages (default
# 1,000): at 1M messages 48 of them became 5, and a full copy took 1.95 s instead of 2.05 s
# (means of 9 alternated runs on bench replication's data; 5,000 pages 1.97 s, 25,000 2.14 s).
PAGES_PER_COPY = 10_000
DELETE_LOG = RowDeletion.__tablename__
FINGERPRINT_LOG = RowFingerprintDelta.__tablename__

# Secrets stay in Postgres: analysts can read the warehouse, and none of these is analytics.
REDACTED_COLUMNS: dict[str, frozenset[str]] = {
    "workspaces": frozenset({"webhook_secret_hash"}),
    # A lead's custom variables as delivered: personal data the marts never read.
    "leads": frozenset({"custom_variables"}),
    "workspace_secrets": frozenset({"ciphertext"}),
    "users": frozenset({"password_hash"}),
    "api_tokens": frozenset({"token_hash"}),
}

# An order-independent checksum of a table's ids: the sum of each UUID's first 60 bits. A lost,
# extra or substituted id changes it. Postgres's triggers sum the same bits from each UUID's
# bytes as rows come and go (migration 0018); DuckDB recomputes it here from the copied text.
DUCK_ID_CHECKSUM = (
    "coalesce(sum(('0x' || left(replace(id::varchar, '-', ''), 15))::bigint)::hugeint, 0)"
)

Mode = Literal["full", "incremental", "unchanged"]


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
    """What the last run left for a table in the state table."""

    watermark: datetime
    truncate_seen: datetime | None
    source: Fingerprint
    changed_at: datetime | None  # when a run last found the table's rows changed


@dataclass(frozen=True)
class _Activity:
    """What Postgres says about a table at the snapshot, cheaply (indexes and logs)."""

    source: Fingerprint  # its row count and id checksum, from the fingerprint log
    last_change: datetime | None  # max(updated_at)
    last_truncate: datetime | None  # newest TRUNCATE marker in the delete log, ever
    deleted_since: bool  # delete log entries after this table's `watermark - overlap`


def _pg_query(sql: str) -> str:
    """A query run by Postgres itself (aggregates stay there) in the attached transaction."""
    return "select * from postgres_query('pg', '" + sql.replace("'", "''") + "')"


def _ts(value: datetime | None) -> str:
    return f"timestamptz '{value.isoformat()}'" if value is not None else "null"


def _string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


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
            replicated_at timestamptz not null,
            changed_at timestamptz
        )"""
    )
    # Working copies made before `changed_at` existed: null reads as "changed", so dbt rebuilds.
    con.execute(f"alter table {STATE_TABLE} add column if not exists changed_at timestamptz")


def _snapshot_horizon(con: duckdb.DuckDBPyConnection) -> datetime:
    """The new watermark; as the transaction's first query it also fixes the snapshot."""
    row = con.execute(
        _pg_query(
            "select least(now(), (select min(xact_start) from pg_stat_activity"
            " where backend_xid is not null and pid <> pg_backend_pid()"
            # Other databases' transactions cannot write our tables: they must not hold us back.
            " and datname = current_database()))"
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


def _states(con: duckdb.DuckDBPyConnection) -> dict[str, _State]:
    rows = con.execute(
        f"select table_name, watermark, truncate_seen, source_rows, source_id_checksum,"
        f" changed_at from {STATE_TABLE}"
    ).fetchall()
    return {r[0]: _State(r[1], r[2], Fingerprint(int(r[3]), int(r[4])), r[5]) for r in rows}


def _raw_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = con.execute(
        "select table_name, list(column_name order by column_index) from duckdb_columns()"
        " where database_name = current_database() and schema_name = 'raw'"
        " group by table_name"
    ).fetchall()
    return {r[0]: list(r[1]) for r in rows}


def _activity(
    con: duckdb.DuckDBPyConnection, since: dict[str, datetime | None]
) -> dict[str, _Activity]:
    """Every table's activity in one Postgres query (one round trip, not a few per table)."""
    sources = _source_fingerprints(con)
    untracked = [t for t in since if t not in sources]
    if untracked:
        raise LookupError(
            f"no row fingerprint kept for {', '.join(untracked)} in {FINGERPRINT_LOG}"
            " (migrate Postgres?)"
        )
    parts = []
    for t, start in since.items():
        deleted = (
            f"exists (select from {DELETE_LOG} where table_name = '{t}'"
            f" and row_id is not null and deleted_at > {_ts(start)})"
            if start is not None
            else "true"
        )
        parts.append(
            f"select '{t}'::text as t, (select max(updated_at) from public.{_ident(t)}) as changed,"
            f" (select max(deleted_at) from {DELETE_LOG} where table_name = '{t}'"
            f" and row_id is null) as truncated, {deleted} as deleted"
        )
    rows = con.execute(_pg_query(" union all ".join(parts))).fetchall()
    return {r[0]: _Activity(sources[r[0]], r[1], r[2], bool(r[3])) for r in rows}


def _source_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, Fingerprint]:
    """Postgres's row count and id checksum of every table the triggers track, as of the
    snapshot: the sum of each table's rows in the fingerprint log (compacted, a few rows)."""
    rows = con.execute(
        _pg_query(
            f"select table_name, sum(rows)::int8 as n, sum(id_checksum)::text as id_checksum"
            f" from {FINGERPRINT_LOG} group by table_name"
        )
    ).fetchall()
    return {r[0]: Fingerprint(int(r[1]), int(r[2])) for r in rows}


def warehouse_fingerprints(
    con: duckdb.DuckDBPyConnection, tables: Iterable[str]
) -> dict[str, Fingerprint]:
    """The warehouse's row count and id checksum of each table in `raw`, in one query."""
    tables = list(tables)
    if not tables:
        return {}
    parts = [f"select '{t}', count(*), {DUCK_ID_CHECKSUM} from raw.{_ident(t)}" for t in tables]
    rows = con.execute(" union all ".join(parts)).fetchall()
    return {r[0]: Fingerprint(int(r[1]), int(r[2])) for r in rows}


@dataclass(frozen=True)
class _Plan:
    mode: Mode
    reason: str
    truncate_seen: datetime | None


def _plan(
    state: _State | None,
    activity: _Activity,
    raw_columns: list[str] | None,
    names: list[str],
    since: datetime | None,
    full: bool,
) -> _Plan:
    if full:
        reason = "requested"
    elif state is None or since is None or not raw_columns:
        full, reason = True, "first run"
    elif raw_columns != names:
        full, reason = True, "columns changed"
    elif (
        activity.last_truncate is not None
        and activity.last_truncate > since
        and (state.truncate_seen is None or activity.last_truncate > state.truncate_seen)
    ):
        full, reason = True, "truncated"
    if full:
        # A full copy reflects every TRUNCATE before the snapshot: none of them is news later.
        return _Plan("full", reason, activity.last_truncate)
    assert state is not None and since is not None
    changed = activity.last_change is not None and activity.last_change > since
    # No change since the watermark, no delete logged and the same fingerprint: the table's
    # rows are those of the last snapshot (an INSERT that kept an old updated_at changes the
    # fingerprint), so its copy still holds.
    if not changed and not activity.deleted_since and activity.source == state.source:
        return _Plan("unchanged", "nothing changed since the watermark", state.truncate_seen)
    return _Plan("incremental", "changes since the watermark", state.truncate_seen)


def _copy_full(
    con: duckdb.DuckDBPyConnection, table: str, select: str, phases: Phases
) -> tuple[int, int]:
    with phases("copy"):
        con.execute(
            f"create or replace table raw.{_ident(table)} as select {select}"
            f" from pg.public.{_ident(table)}"
        )
        return _count(con, f"raw.{_ident(table)}"), 0


def _copy_changes(
    con: duckdb.DuckDBPyConnection,
    table: str,
    select: str,
    names: list[str],
    since: datetime,
    activity: _Activity,
    phases: Phases,
) -> tuple[int, int, bool]:
    """Rows upserted, rows deleted, and whether the table's content moved at all: rows
    re-read inside the overlap, already copied in the same version, are no change."""
    target = f"raw.{_ident(table)}"
    deleted = 0
    if activity.deleted_since:
        with phases("deletes"):
            deleted = _affected(
                con.execute(
                    f"delete from {target} where id in ("
                    + _pg_query(
                        f"select row_id from {DELETE_LOG} where table_name = '{table}'"
                        f" and row_id is not null and deleted_at > {_ts(since)}"
                    )
                    + ")"
                )
            )
    if activity.last_change is None or activity.last_change <= since:
        return 0, deleted, deleted > 0
    with phases("changes"):
        # Postgres runs the filter itself, on the updated_at index where there is one.
        columns = ", ".join(_ident(n) for n in names)
        con.execute(
            f"create or replace temp table _changes as select {select} from ("
            + _pg_query(
                f"select {columns} from public.{_ident(table)} where updated_at > {_ts(since)}"
            )
            + ")"
        )
    with phases("upsert"):
        # Every write sets updated_at, so an id already copied with the same updated_at is
        # the same version of the row.
        new = _count(
            con,
            f"_changes c where not exists (select 1 from {target} t"
            " where t.id = c.id and t.updated_at = c.updated_at)",
        )
        # Upsert: rows re-read inside the overlap replace their earlier copy.
        con.execute(f"delete from {target} where id in (select id from _changes)")
        copied = _affected(con.execute(f"insert into {target} select * from _changes"))
        con.execute("drop table _changes")
    return copied, deleted, new + deleted > 0


def _counts(con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> dict[str, int]:
    parts = [f"select '{t}', count(*) from raw.{_ident(t)}" for t in tables]
    return {r[0]: int(r[1]) for r in con.execute(" union all ".join(parts)).fetchall()}


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    row = con.execute(f"select count(*) from {relation}").fetchone()
    assert row is not None
    return int(row[0])


def _affected(cursor: duckdb.DuckDBPyConnection) -> int:
    row = cursor.fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class _Survey:
    """What a run learns before copying anything: one snapshot, a few round trips."""

    horizon: datetime
    columns: dict[str, list[tuple[str, str]]]
    states: dict[str, _State]
    raw_columns: dict[str, list[str]]
    since: dict[str, datetime | None]
    activity: dict[str, _Activity]

    def plan(self, table: str, full: bool) -> tuple[_Plan, str, list[str]]:
        """The table's plan, and the SELECT list and column names that copy it."""
        select, names = _select_list(table, self.columns[table])
        plan = _plan(
            self.states.get(table),
            self.activity[table],
            self.raw_columns.get(table),
            names,
            self.since[table],
            full,
        )
        return plan, select, names


def _survey(
    con: duckdb.DuckDBPyConnection, tables: list[str], overlap: timedelta, phases: Phases
) -> _Survey:
    """Inside the caller's transaction: the snapshot, the state, each table's activity."""
    with phases("snapshot"):
        horizon = _snapshot_horizon(con)
        columns = _source_columns(con, tables)
    missing = [t for t in tables if t not in columns]
    if missing:
        raise LookupError(f"tables missing in Postgres (migrate it?): {', '.join(missing)}")
    with phases("plan"):
        states = _states(con)
        raw_columns = _raw_columns(con)
        since = {t: states[t].watermark - overlap if t in states else None for t in tables}
        activity = _activity(con, since)
    return _Survey(horizon, columns, states, raw_columns, since, activity)


def _already_copied(
    con: duckdb.DuckDBPyConnection, table: str, since: datetime, activity: _Activity
) -> bool:
    """Whether every row changed after `since` is in `raw` in the same version, and every row
    deleted after it is gone: what an incremental copy would re-read is no change. Reads ids
    and `updated_at` only, of the rows inside the overlap."""
    target = f"raw.{_ident(table)}"
    if activity.deleted_since:
        row = con.execute(
            f"select count(*) from {target} where id in ("
            + _pg_query(
                f"select row_id from {DELETE_LOG} where table_name = '{table}'"
                f" and row_id is not null and deleted_at > {_ts(since)}"
            )
            + ")"
        ).fetchone()
        if row is None or row[0]:
            return False
    if activity.last_change is not None and activity.last_change > since:
        row = con.execute(
            "select count(*) from ("
            + _pg_query(
                f"select id, updated_at from public.{_ident(table)} where updated_at > {_ts(since)}"
            )
            + f") c where not exists (select 1 from {target} t"
            " where t.id = c.id and t.updated_at = c.updated_at)"
        ).fetchone()
        if row is None or row[0]:
            return False
    return True


def all_unchanged(
    con: duckdb.DuckDBPyConnection, tables: Iterable[str], overlap: timedelta
) -> bool:
    """Whether a run now would find every table unchanged, its copy counting what Postgres did
    at the last run (so a row lost in `raw` since is not taken for nothing to do). Writes
    nothing: the probe `replyline warehouse refresh` makes before starting a run.

    Rows changed inside the overlap window are re-read by every run for `overlap` after a
    change; when they are all in `raw` already (same `updated_at`), and Postgres still counts
    the rows it did, the table has not moved either."""
    tables = list(tables)
    ensure_schema(con)
    con.execute("begin transaction")
    try:
        survey = _survey(con, tables, overlap, Phases())
        reread = []
        for table in tables:
            mode = survey.plan(table, full=False)[0].mode
            if mode == "full":
                return False
            if mode == "incremental":
                since = survey.since[table]
                assert since is not None
                if not _already_copied(con, table, since, survey.activity[table]):
                    return False
                reread.append(table)
        counts = _counts(con, tables)
        if not all(counts[t] == survey.states[t].source.rows for t in tables):
            return False
        return all(survey.activity[t].source == survey.states[t].source for t in reread)
    finally:
        con.execute("rollback")


def replicate(
    con: duckdb.DuckDBPyConnection,
    tables: Iterable[str],
    *,
    full: bool = False,
    overlap: timedelta = DEFAULT_OVERLAP,
    phases: Phases | None = None,
) -> list[TableResult]:
    """Copy `tables` from the attached Postgres `pg` into `raw`, all or nothing."""
    tables = list(tables)
    phases = phases if phases is not None else Phases()
    ensure_schema(con)
    # `raw` promises no row order (readers sort), and keeping the scan's order costs the copy
    # ~17 % of its CPU (measured on bench replication's full copy: 7.7 → 6.4 s).
    con.execute("set preserve_insertion_order = false")
    con.execute(f"set pg_pages_per_task = {PAGES_PER_COPY}")
    con.execute("begin transaction")
    try:
        survey = _survey(con, tables, overlap, phases)
        horizon, states, since, activity = (
            survey.horizon,
            survey.states,
            survey.since,
            survey.activity,
        )
        results: dict[str, tuple[_Plan, int, int, float]] = {}
        moved: set[str] = set()  # tables whose rows differ from the last run's
        for table in tables:
            started = time.perf_counter()
            plan, select, names = survey.plan(table, full)
            if plan.mode == "full":
                copied, deleted = _copy_full(con, table, select, phases)
                moved.add(table)
            elif plan.mode == "incremental":
                start = since[table]
                assert start is not None
                copied, deleted, changed = _copy_changes(
                    con, table, select, names, start, activity[table], phases
                )
                if changed:
                    moved.add(table)
            else:
                copied, deleted = 0, 0
            results[table] = (plan, copied, deleted, time.perf_counter() - started)
        fingerprints = {t: activity[t].source for t in tables}
        with phases("bookkeeping"):
            totals = _counts(con, tables)
            # One statement for every table's state, its values inlined: binding any parameter
            # makes DuckDB's Python client import pandas, a second on each refresh. A table
            # whose rows are as the last run left them keeps its `changed_at`: dbt rebuilds
            # only what is downstream of tables changed since its last build.
            con.execute(
                f"insert or replace into {STATE_TABLE} values "
                + ", ".join(
                    f"({_string(table)}, {_ts(horizon)}, {_ts(plan.truncate_seen)},"
                    f" {fingerprints[table].rows}, {fingerprints[table].id_checksum},"
                    f" {_string(plan.mode)}, {copied}, {deleted}, {duration!r}, now(),"
                    + (
                        " now())"
                        if table in moved
                        # Unknown (a working copy older than the column): changed, once.
                        else f" coalesce({_ts(states[table].changed_at)}, now()))"
                    )
                    for table, (plan, copied, deleted, duration) in results.items()
                )
            )
        with phases("commit"):
            con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return [
        TableResult(
            table=table,
            mode=plan.mode,
            reason=plan.reason,
            rows_copied=copied,
            rows_deleted=deleted,
            rows_total=totals[table],
            watermark=horizon,
            duration_s=duration,
        )
        for table, (plan, copied, deleted, duration) in results.items()
    ]


def changed_since(con: duckdb.DuckDBPyConnection, moment: datetime | None) -> list[str]:
    """Tables some run copied or deleted rows of after `moment` (all of them when None)."""
    ensure_schema(con)
    rows = con.execute(
        f"select table_name from {STATE_TABLE} where changed_at is null"
        f" or {_ts(moment)} is null or changed_at > {_ts(moment)} order by table_name"
    ).fetchall()
    return [r[0] for r in rows]


def stored_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, Fingerprint]:
    """Postgres's count and checksum for each table as of the last copy."""
    return {table: state.source for table, state in _states(con).items()}
