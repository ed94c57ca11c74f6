"""The "Download dataset for ChatGPT" zip: leads.csv, messages.jsonl and README.md.

Everything is read on one read-only, repeatable-read snapshot, streamed from the server in
fixed-size chunks and written into the zip as it is read, so memory stays flat whatever the
workspace's size. Each file is produced in a background thread while the zip compresses the
previous chunk. messages.jsonl is written by DuckDB: Postgres sorts the messages and streams
them in binary `COPY` to DuckDB's postgres extension, which builds the JSON lines a vector at a
time; Python only moves each batch's bytes. (Postgres building the JSON itself cost twice the
CPU, and on two cores the export is bound by CPU.)
Only the requested workspace's rows are ever selected. The CLI writes the bytes to a file; the
HTTP endpoint and the Dagster asset iterate the same `ChatGPTExport`.

Everything that can be refused (the filters, the connection, the snapshot, both queries'
plans) is checked before the first byte, so a bad request never becomes a 200 download; a
failure after that raises from the iterator, and the caller must not pass the bytes on as a
finished zip (the server aborts the connection, the CLI exits non-zero and keeps no file).
"""

from __future__ import annotations

import csv
import functools
import io
import stat
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any, Final, Protocol

import duckdb
import psycopg
import pyarrow as pa
from isal import isal_zlib
from psycopg import sql
from stream_zip import ZIP_64, stream_zip

from sender_service.booking import is_meeting_booked
from sender_service.db import postgres_scanner
from sender_service.db.models import CHANNELS, DIRECTIONS, Lead, Workspace
from sender_service.definitions import (
    MEETING_REQUESTED_SENTIMENTS,
    POSITIVE_SENTIMENTS,
    headcount_bucket,
)
from sender_service.exports.prefetch import Prefetched

LEAD_COLUMNS: Final = (
    "lead_id",
    "email",
    "first_name",
    "last_name",
    "company",
    "title",
    "industry",
    "headcount",
    "headcount_bucket",
    "campaign_id",
    "campaign_name",
    "response_mode",
    "sentiment",
    "is_positive",
    "is_meeting_requested",
    "is_booked",
    "booked_at",
    "booking_provider",
    "first_positive_at",
    "first_response_by",
)
MESSAGE_KEYS: Final = (
    "message_id",
    "lead_id",
    "lead_email",
    "lead_name",
    "campaign_id",
    "campaign_name",
    "direction",
    "channel",
    "subject",
    "body",
    "sentiment",
    "sentBy",
    "ai_draft_id",
    "follow_up_step",
    "occurred_at",
)
# Senders whose message counts as answering a lead (the platform's campaign email does not).
RESPONDERS: Final = ("ai", "setter", "sequence")
# Cells a spreadsheet would evaluate as a formula (OWASP "CSV injection").
_FORMULA_STARTS: Final = "=+-@\t\r"
_STREAM_ROWS: Final = 5_000
_CHUNK_BYTES: Final = 256 * 1024
_FILE_MODE: Final = stat.S_IFREG | 0o600  # as unzipped: personal data, for the owner only
# The export's connections, as pg_stat_activity shows them.
APPLICATION_NAME: Final = "replyline-export"
# Rows per Arrow batch DuckDB hands over (about _CHUNK_BYTES of JSON lines).
_ARROW_ROWS: Final = 256
# DuckDB converts 2,048 rows at a time, so its memory follows the widest messages: past this
# many bytes of subject and body in one message, Postgres builds the lines instead (2,048
# such rows and their JSON fit the limit). Its result buffer is kept to a chunk or so.
_DUCKDB_MEMORY: Final = "64MB"
_DUCKDB_MAX_MESSAGE_BYTES: Final = 8 * 1024
_DUCKDB_BUFFER: Final = "16KB"
# A message's JSON line, keys in MESSAGE_KEYS order: compact, text escaped as orjson and
# Postgres do (control characters as \u00XX, with upper-case hex digits here; non-ASCII as
# it is), timestamps spelt as Python's isoformat (microseconds only when there are some).
_OCCURRED_AT: Final = (
    "case when microsecond(occurred_at) % 1000000 = 0"
    " then strftime(occurred_at, '%Y-%m-%dT%H:%M:%S+00:00')"
    " else strftime(occurred_at, '%Y-%m-%dT%H:%M:%S.%f+00:00') end"
)
_JSON_LINES: Final = (
    "select to_json({"
    + ", ".join(
        f"'{key}': " + (_OCCURRED_AT if key == "occurred_at" else f'"{key}"')
        for key in MESSAGE_KEYS
    )
    + "})::varchar || chr(10) from postgres_query('pg', ?)"
)


class UnknownWorkspaceError(LookupError):
    """No workspace has this id."""


@dataclass(frozen=True)
class ExportFilters:
    positive_only: bool = False
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    channels: frozenset[str] = frozenset(CHANNELS)
    directions: frozenset[str] = frozenset(DIRECTIONS)

    def __post_init__(self) -> None:
        if unknown := self.channels - set(CHANNELS):
            raise ValueError(f"unknown channel {sorted(unknown)[0]!r}; use {', '.join(CHANNELS)}")
        if unknown := self.directions - set(DIRECTIONS):
            raise ValueError(
                f"unknown direction {sorted(unknown)[0]!r}; use {', '.join(DIRECTIONS)}"
            )
        if not self.channels or not self.directions:
            raise ValueError("channels and directions must name at least one value each")
        if self.occurred_from and self.occurred_to and self.occurred_from >= self.occurred_to:
            raise ValueError("from must be before to")
        for moment in (self.occurred_from, self.occurred_to):
            if moment is not None and moment.tzinfo is None:
                raise ValueError("from and to need a time zone (e.g. 2025-01-31T00:00:00Z)")

    def describe(self) -> str:
        parts = []
        if self.positive_only:
            parts.append("positive leads only")
        if self.occurred_from:
            parts.append(f"from {self.occurred_from.isoformat()}")
        if self.occurred_to:
            parts.append(f"to {self.occurred_to.isoformat()}")
        if self.channels != set(CHANNELS):
            parts.append("channels " + ", ".join(sorted(self.channels)))
        if self.directions != set(DIRECTIONS):
            parts.append("directions " + ", ".join(sorted(self.directions)))
        return "; ".join(parts) or "none (every lead and message)"


class ExportProgress(Protocol):
    def start(self, leads: int, messages: int) -> None: ...

    def advance(self, kind: str, rows: int) -> None: ...


def _deflater() -> Any:
    """Raw deflate by ISA-L at level 1: compressing was a third of the export's time with
    zlib; ISA-L does the same work several times faster (and smaller on these files)."""
    return isal_zlib.compressobj(1, isal_zlib.DEFLATED, -isal_zlib.MAX_WBITS)


def export_filename(workspace_id: uuid.UUID, day: date) -> str:
    return f"replyline-{workspace_id}-{day.isoformat()}.zip"


def _iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat() if moment else ""


def _text(value: str | None) -> str:
    """A text cell: empty for null, prefixed with `'` if a spreadsheet would run it."""
    if not value:
        return ""
    return "'" + value if value[0] in _FORMULA_STARTS else value


_BOOL: Final = {True: "true", False: "false"}


@dataclass
class ChatGPTExport:
    """One export, ready to stream: iterate it for the zip's bytes (once)."""

    database_url: str
    workspace: Workspace
    filters: ExportFilters
    progress: ExportProgress | None = None
    exported_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def filename(self) -> str:
        return export_filename(self.workspace.id, self.exported_at.date())

    def __iter__(self) -> Iterator[bytes]:
        """The zip's bytes (iterate once). Connecting, taking the snapshot and planning both
        queries with the filters bound happen here, before the first byte is produced."""
        chunks = self._zip()
        next(chunks)  # runs up to the first byte; any refusal raises now
        return chunks

    def _zip(self) -> Iterator[bytes]:
        # leads.csv is read on this connection while messages.jsonl is produced on another
        # on the same snapshot: both run at once.
        with self._connect() as conn, conn.transaction():
            conn.execute("set local time zone 'UTC'")
            # JIT compiling these plans cost more (seconds at 1M messages) than it saved.
            conn.execute("set local jit = off")
            row = conn.execute("select pg_export_snapshot()").fetchone()
            assert row is not None
            by_duckdb = self._widest_message(conn) <= _DUCKDB_MAX_MESSAGE_BYTES
            messages_sql = self._plan(
                conn, self._messages_query() if by_duckdb else self._messages_json_query()
            )
            with self._messages_source(row[0], messages_sql, by_duckdb) as (jsonl, interrupt):
                if self.progress is not None:
                    self.progress.start(*self._counts(conn))
                yield b""
                with (
                    Prefetched(jsonl, "export messages.jsonl", interrupt) as messages,
                    Prefetched(
                        self._leads_csv(conn), "export leads.csv", conn.cancel_safe
                    ) as leads,
                ):
                    at, mode = self.exported_at, _FILE_MODE
                    yield from stream_zip(
                        (
                            ("README.md", at, mode, ZIP_64, (self._readme(),)),
                            ("leads.csv", at, mode, ZIP_64, iter(leads)),
                            ("messages.jsonl", at, mode, ZIP_64, iter(messages)),
                        ),
                        chunk_size=_CHUNK_BYTES,
                        get_compressobj=_deflater,
                    )

    def _connect(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(self.database_url, application_name=APPLICATION_NAME)
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        return conn

    @contextmanager
    def _messages_source(
        self, snapshot: str, messages_sql: str, by_duckdb: bool
    ) -> Iterator[tuple[Iterator[bytes], Callable[[], None]]]:
        """messages.jsonl's chunks from `messages_sql` read on `snapshot`, and how to
        interrupt their query.

        DuckDB builds the lines unless a message is so wide that its batches of 2,048 rows
        would not fit in _DUCKDB_MEMORY; then Postgres builds them, a row at a time."""
        if by_duckdb:
            with self._duckdb_on(snapshot) as duck:
                yield self._jsonl_by_duckdb(duck, messages_sql), duck.interrupt
        else:
            with self._connect() as other, other.transaction():
                other.execute(sql.SQL("set transaction snapshot {}").format(sql.Literal(snapshot)))
                other.execute("set local time zone 'UTC'")
                other.execute("set local jit = off")
                yield self._jsonl_by_postgres(other, messages_sql), other.cancel_safe

    @contextmanager
    def _duckdb_on(self, snapshot: str) -> Iterator[duckdb.DuckDBPyConnection]:
        """An in-memory DuckDB with our database attached, its transaction on `snapshot`."""
        # One thread: it only converts a stream Postgres already sorted (a second thread
        # cost CPU and memory and gained nothing).
        duck = duckdb.connect(config={"threads": 1, "memory_limit": _DUCKDB_MEMORY})
        # DuckDB's result buffer counts rows, not their text: at its default it read a
        # whole 100 MB workspace ahead of a slow download. This keeps it to a chunk or so.
        duck.execute(f"set streaming_buffer_size = '{_DUCKDB_BUFFER}'")
        try:
            with _database_errors():
                postgres_scanner.attach(duck, self.database_url, application_name=APPLICATION_NAME)
                duck.execute("begin")
                duck.execute(
                    "call postgres_execute('pg', ?)", [f"set transaction snapshot '{snapshot}'"]
                )
                duck.execute("call postgres_execute('pg', 'set local jit = off')")
            yield duck
        finally:
            # The Postgres transaction is ended here, where a lost connection raises: left to
            # close(), the extension's ROLLBACK on a lost connection aborts the process.
            with suppress(duckdb.Error):
                duck.execute("rollback")
            duck.close()

    # -- queries -------------------------------------------------------------------------------

    def _params(self) -> dict[str, Any]:
        f = self.filters
        return {
            "workspace_id": self.workspace.id,
            "positive": sorted(POSITIVE_SENTIMENTS),
            "meeting": sorted(MEETING_REQUESTED_SENTIMENTS),
            "responders": list(RESPONDERS),
            "from": f.occurred_from,
            "to": f.occurred_to,
            "channels": sorted(f.channels),
            "directions": sorted(f.directions),
        }

    def _message_conditions(self, alias: str) -> sql.Composable:
        """Which messages are exported: the workspace's, delivered if outbound, filtered."""
        m = sql.Identifier(alias)
        conditions = [
            sql.SQL("{m}.workspace_id = %(workspace_id)s"),
            sql.SQL(
                "({m}.direction = 'inbound' or coalesce({m}.delivery_status, 'sent') = 'sent')"
            ),
            sql.SQL("{m}.channel = any(%(channels)s)"),
            sql.SQL("{m}.direction = any(%(directions)s)"),
        ]
        if self.filters.occurred_from:
            conditions.append(sql.SQL("{m}.occurred_at >= %(from)s"))
        if self.filters.occurred_to:
            conditions.append(sql.SQL("{m}.occurred_at < %(to)s"))
        if self.filters.positive_only:
            conditions.append(
                sql.SQL(
                    "exists (select 1 from messages p where p.lead_id = {m}.lead_id"
                    " and p.workspace_id = %(workspace_id)s and p.direction = 'inbound'"
                    " and p.sentiment = any(%(positive)s))"
                )
            )
        return sql.SQL(" and ").join(c.format(m=m) for c in conditions)

    def _lead_conditions(self) -> sql.Composable:
        conditions: list[sql.Composable] = [sql.SQL("l.workspace_id = %(workspace_id)s")]
        if self.filters.positive_only:
            conditions.append(sql.SQL("coalesce(r.is_positive, false)"))
        if self.filters.occurred_from or self.filters.occurred_to:
            conditions.append(
                sql.SQL("exists (select 1 from messages w where w.lead_id = l.id and {})").format(
                    self._message_conditions("w")
                )
            )
        return sql.SQL(" and ").join(conditions)

    def _leads_query(self) -> sql.Composed:
        return sql.SQL(
            """
            with replies as (
                select
                    lead_id,
                    bool_or(sentiment = any(%(positive)s)) as is_positive,
                    bool_or(sentiment = any(%(meeting)s)) as is_meeting_requested,
                    min(occurred_at) filter (where sentiment = any(%(positive)s))
                        as first_positive_at
                from messages
                where workspace_id = %(workspace_id)s
                    and direction = 'inbound'
                    and lead_id is not null
                group by lead_id
            ),
            -- Who first answered each lead once it was positive: one pass over the outbound
            -- messages, not a subquery per lead.
            first_responses as (
                select distinct on (s.lead_id) s.lead_id, s.sent_by
                from messages s
                join replies r on r.lead_id = s.lead_id
                where s.direction = 'outbound'
                    and s.sent_by = any(%(responders)s)
                    and coalesce(s.delivery_status, 'sent') = 'sent'
                    and s.occurred_at >= r.first_positive_at
                order by s.lead_id, s.occurred_at, s.id
            )
            select
                l.id::text, l.email, l.first_name, l.last_name, l.company, l.title,
                l.industry, l.headcount, c.id::text, c.name, c.response_mode, l.sentiment_tag,
                coalesce(r.is_positive, false), coalesce(r.is_meeting_requested, false),
                l.ghl_appointment_id, l.calendly_invitee_uri, l.calendly_scheduled_event_uri,
                l.appointment_status, l.booked_at, r.first_positive_at,
                f.sent_by
            from leads l
            left join email_campaigns c on c.id = l.email_campaign_id
            left join replies r on r.lead_id = l.id
            left join first_responses f on f.lead_id = l.id
            where {conditions}
            order by l.created_at, l.id
            """
        ).format(conditions=self._lead_conditions())

    def _message_columns(self, occurred_at: str) -> sql.SQL:
        """A message's fields in MESSAGE_KEYS order, occurred_at as the given expression."""
        return sql.SQL(
            """
                m.id as message_id,
                m.lead_id,
                l.email as lead_email,
                nullif(concat_ws(' ', l.first_name, l.last_name), '') as lead_name,
                c.id as campaign_id,
                c.name as campaign_name,
                m.direction,
                m.channel,
                m.subject,
                m.body,
                m.sentiment,
                m.sent_by as "sentBy",
                m.ai_draft_id,
                m.follow_up_step,
                """
            + occurred_at
            + " as occurred_at"
        )

    def _messages_from(self) -> sql.SQL:
        return sql.SQL(
            """
            from messages m
            left join leads l on l.id = m.lead_id
            left join email_campaigns c on c.id = coalesce(l.email_campaign_id, m.email_campaign_id)
            """
        )

    def _messages_query(self) -> sql.Composed:
        """The messages to export in the file's order, one row each, for `_JSON_LINES`
        (occurred_at as UTC wall time: DuckDB formats it with no time zone data)."""
        return sql.SQL(
            "select {columns} {source} where {conditions}"
            " order by m.lead_id nulls last, m.occurred_at, m.id"
        ).format(
            columns=self._message_columns("m.occurred_at at time zone 'UTC'"),
            source=self._messages_from(),
            conditions=self._message_conditions("m"),
        )

    def _messages_json_query(self) -> sql.Composed:
        """The same messages as one JSON text each, built by Postgres.

        `row_to_json` of the lateral row writes compact JSON (no spaces) that escapes text as
        orjson did; timestamps are spelt as Python's isoformat (microseconds only when there
        are some) by to_char, as Postgres's own JSON drops trailing zeros.
        """
        occurred_at = """to_char(
                    m.occurred_at,
                    case when extract(microseconds from m.occurred_at)::bigint %% 1000000 = 0
                        then 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'
                        else 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'
                    end
                )"""
        return sql.SQL(
            "select row_to_json(j) {source} cross join lateral (select {columns}) j"
            " where {conditions} order by m.lead_id nulls last, m.occurred_at, m.id"
        ).format(
            columns=self._message_columns(occurred_at),
            source=self._messages_from(),
            conditions=self._message_conditions("m"),
        )

    def _widest_message(self, conn: psycopg.Connection[Any]) -> int:
        """Bytes of the longest subject and body among the messages to export."""
        row = conn.execute(
            sql.SQL(
                "select max(coalesce(octet_length(m.body), 0)"
                " + coalesce(octet_length(m.subject), 0)) from messages m where {}"
            ).format(self._message_conditions("m")),
            self._params(),
        ).fetchone()
        return (row[0] or 0) if row else 0

    def _plan(self, conn: psycopg.Connection[Any], messages: sql.Composed) -> str:
        """EXPLAIN the leads' and the `messages` query with the filters bound as they will be:
        the database refuses a value (or a query) here, before the first byte, not in the
        middle of the zip. Returns the messages query with its values bound into its text
        (DuckDB and COPY take no parameters)."""
        conn.execute(sql.SQL("explain {}").format(self._leads_query()), self._params())
        with psycopg.ClientCursor(conn) as client_side:
            messages_sql = client_side.mogrify(messages, self._params())
        conn.execute(f"explain {messages_sql}")
        return messages_sql

    def _counts(self, conn: psycopg.Connection[Any]) -> tuple[int, int]:
        leads = conn.execute(
            sql.SQL("select count(*) from ({}) q").format(self._leads_query()), self._params()
        ).fetchone()
        messages = conn.execute(
            sql.SQL("select count(*) from messages m where {}").format(
                self._message_conditions("m")
            ),
            self._params(),
        ).fetchone()
        return (leads[0] if leads else 0, messages[0] if messages else 0)

    # -- files ---------------------------------------------------------------------------------

    def _readme(self) -> bytes:
        template = resources.files(__package__).joinpath("chatgpt_readme.md").read_text()
        return template.format(
            workspace_name=self.workspace.name,
            workspace_id=self.workspace.id,
            exported_at=_iso(self.exported_at),
            filters=self.filters.describe(),
        ).encode()

    def _rows(self, conn: psycopg.Connection[Any], query: sql.Composed) -> Iterator[Any]:
        # Chunked streaming, not a named cursor: Postgres never runs a cursor's query in
        # parallel, and the 1M-message sort took twice as long serially. Memory stays bounded
        # by one chunk of rows either way.
        with conn.cursor(binary=True) as cursor:
            yield from cursor.stream(query, self._params(), size=_STREAM_ROWS)

    def _leads_csv(self, conn: psycopg.Connection[Any]) -> Iterator[bytes]:
        buffer = io.StringIO()
        # RFC 4180: CR LF rows, and QUOTE_MINIMAL then quotes every cell holding a CR, an LF,
        # a quote or a comma, so a line break inside a value never splits its row.
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(LEAD_COLUMNS)
        # A detached Lead carries the booking fields so the one booking rule can judge it.
        # Building one per row was a tenth of the export, so the common case of no booking
        # fields at all is judged once, and headcounts (few distinct values) bucketed once.
        # Each column is formatted by what it holds, not by a type test per cell: this loop
        # was most of the Python time spent on leads.csv.
        workspace = self.workspace
        unbooked_fields = (None, None, None, None)
        unbooked = is_meeting_booked(Lead(), workspace)
        bucket = functools.lru_cache(maxsize=4096)(lambda raw: _text(headcount_bucket(raw)))
        provider = _text(workspace.booking_provider)
        rows = 0
        for row in self._rows(conn, self._leads_query()):
            (lead_id, email, first, last, company, title, industry, headcount) = row[:8]
            (campaign_id, campaign_name, mode, sentiment, positive, meeting) = row[8:14]
            (ghl_appt, invitee, event, status, booked_at, first_positive, first_by) = row[14:]
            if (ghl_appt, invitee, event, status) == unbooked_fields:
                booked = unbooked
            else:
                booked = is_meeting_booked(
                    Lead(
                        ghl_appointment_id=ghl_appt,
                        calendly_invitee_uri=invitee,
                        calendly_scheduled_event_uri=event,
                        appointment_status=status,
                    ),
                    workspace,
                )
            writer.writerow(
                (
                    lead_id,  # ids are hex and dashes: never formula-like
                    _text(email),
                    _text(first),
                    _text(last),
                    _text(company),
                    _text(title),
                    _text(industry),
                    _text(headcount),
                    bucket(headcount),
                    campaign_id or "",
                    _text(campaign_name),
                    _text(mode),
                    _text(sentiment),
                    _BOOL[positive],
                    _BOOL[meeting],
                    _BOOL[booked],
                    _iso(booked_at) if booked else "",
                    provider,
                    _iso(first_positive),
                    _text(first_by),
                )
            )
            rows += 1
            if buffer.tell() >= _CHUNK_BYTES:
                yield from self._flush(buffer, "leads", rows)
                rows = 0
        yield from self._flush(buffer, "leads", rows)

    def _jsonl_by_duckdb(
        self, duck: duckdb.DuckDBPyConnection, messages_sql: str
    ) -> Iterator[bytes]:
        # Each batch's lines end to end are its string column's data buffer: no row is ever
        # a Python object.
        with _database_errors():
            batches = duck.execute(_JSON_LINES, [messages_sql]).to_arrow_reader(_ARROW_ROWS)
            for batch in batches:
                yield self._counted(_joined(batch.column(0)), "messages", batch.num_rows)

    def _jsonl_by_postgres(
        self, conn: psycopg.Connection[Any], messages_sql: str
    ) -> Iterator[bytes]:
        # COPY's CSV format with a delimiter and a quote that JSON text never holds (it
        # escapes every control character): each row comes out as its JSON text plus "\n".
        copy_sql = f"copy ({messages_sql}) to stdout (format csv, delimiter E'\\x01', quote E'\\x02')"
        chunk = bytearray()
        rows = 0
        with conn.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for line in copy:
                chunk += line
                rows += 1
                if len(chunk) >= _CHUNK_BYTES:
                    yield self._counted(bytes(chunk), "messages", rows)
                    chunk, rows = bytearray(), 0
        if chunk:
            yield self._counted(bytes(chunk), "messages", rows)

    def _counted(self, chunk: bytes, kind: str, rows: int) -> bytes:
        if self.progress is not None:
            self.progress.advance(kind, rows)
        return chunk

    def _flush(self, buffer: io.StringIO, kind: str, rows: int) -> Iterable[bytes]:
        data = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if self.progress is not None and rows:
            self.progress.advance(kind, rows)
        return [data.encode()] if data else []


@contextmanager
def _database_errors() -> Iterator[None]:
    """Postgres's failures as DuckDB's postgres extension reports them, raised as the
    database error every caller of the export already handles."""
    try:
        yield
    except duckdb.Error as exc:
        raise psycopg.OperationalError(str(exc).strip()) from exc


def _joined(column: pa.Array) -> bytes:
    """A string column's values end to end, read straight from its data buffer."""
    _, offsets, data = column.buffers()
    if pa.types.is_string(column.type):
        bounds = memoryview(offsets).cast("i")
    elif pa.types.is_large_string(column.type):
        bounds = memoryview(offsets).cast("q")
    else:
        raise TypeError(f"expected a string column, got {column.type}")
    start, end = bounds[column.offset], bounds[column.offset + len(column)]
    return bytes(memoryview(data)[start:end])


def chatgpt_export(
    database_url: str,
    workspace_id: uuid.UUID,
    filters: ExportFilters | None = None,
    progress: ExportProgress | None = None,
) -> ChatGPTExport:
    """The export of one workspace; raises UnknownWorkspaceError at once if there is none.

    The HTTP endpoint streams `iter(export)` with `export.filename`; nothing is read until then.
    """
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "select name, booking_provider from workspaces where id = %s", (workspace_id,)
        ).fetchone()
    if row is None:
        raise UnknownWorkspaceError(f"no workspace {workspace_id}")
    workspace = Workspace(id=workspace_id, name=row[0], booking_provider=row[1])
    return ChatGPTExport(database_url, workspace, filters or ExportFilters(), progress)
