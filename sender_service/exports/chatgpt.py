"""The "Download dataset for ChatGPT" zip: leads.csv, messages.jsonl and README.md.

Everything is read in one read-only, repeatable-read transaction, streamed from the server in
fixed-size chunks and written into the zip as it is read, so memory stays flat whatever the
workspace's size.
Only the requested workspace's rows are ever selected. The CLI writes the bytes to a file; the
HTTP endpoint and the Dagster asset iterate the same `ChatGPTExport`.
"""

from __future__ import annotations

import csv
import functools
import io
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any, Final, Protocol

import orjson
import psycopg
from psycopg import sql
from zipstream import ZIP_DEFLATED, ZipStream

from sender_service.booking import is_meeting_booked
from sender_service.db.models import CHANNELS, DIRECTIONS, Lead, Workspace
from sender_service.definitions import (
    MEETING_REQUESTED_SENTIMENTS,
    POSITIVE_SENTIMENTS,
    headcount_bucket,
)

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
    "sent_by",
    "ai_draft_id",
    "follow_up_step",
    "occurred_at",
)
# Senders whose message counts as answering a lead (the platform's campaign email does not).
RESPONDERS: Final = ("ai", "setter", "sequence")
# Cells a spreadsheet would evaluate as a formula (OWASP "CSV injection").
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
_STREAM_ROWS: Final = 5_000
_CHUNK_BYTES: Final = 256 * 1024


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


def neutralise(value: str) -> str:
    """Prefix a cell a spreadsheet would run as a formula with `'`."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def export_filename(workspace_id: uuid.UUID, day: date) -> str:
    return f"replyline-{workspace_id}-{day.isoformat()}.zip"


def _iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat() if moment else ""


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _iso(value)
    return neutralise(str(value))


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
        with psycopg.connect(self.database_url) as conn:
            conn.read_only = True
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            with conn.transaction():
                conn.execute("set local time zone 'UTC'")
                # JIT compiling these plans cost more (seconds at 1M messages) than it saved.
                conn.execute("set local jit = off")
                if self.progress is not None:
                    self.progress.start(*self._counts(conn))
                stream = ZipStream(compress_type=ZIP_DEFLATED, compress_level=1)
                stream.add(self._readme(), "README.md")
                stream.add(self._leads_csv(conn), "leads.csv")
                stream.add(self._messages_jsonl(conn), "messages.jsonl")
                yield from stream

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

    def _messages_query(self) -> sql.Composed:
        # Plain columns in MESSAGE_KEYS order; each JSON line is built in Python, which costs
        # less than json_build_object did (and Postgres then sorted the wider JSON text).
        return sql.SQL(
            """
            select
                m.id, m.lead_id, l.email, nullif(concat_ws(' ', l.first_name, l.last_name), ''),
                c.id, c.name, m.direction, m.channel, m.subject, m.body, m.sentiment, m.sent_by,
                m.ai_draft_id, m.follow_up_step, m.occurred_at
            from messages m
            left join leads l on l.id = m.lead_id
            left join email_campaigns c on c.id = coalesce(l.email_campaign_id, m.email_campaign_id)
            where {conditions}
            order by m.lead_id nulls last, m.occurred_at, m.id
            """
        ).format(conditions=self._message_conditions("m"))

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
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(LEAD_COLUMNS)
        # A detached Lead carries the booking fields so the one booking rule can judge it.
        # Building one per row was a tenth of the export, so the common case of no booking
        # fields at all is judged once, and headcounts (few distinct values) bucketed once.
        workspace = self.workspace
        unbooked_fields = (None, None, None, None)
        unbooked = is_meeting_booked(Lead(), workspace)
        bucket = functools.lru_cache(maxsize=4096)(headcount_bucket)
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
                _cell(v)
                for v in (
                    lead_id,
                    email,
                    first,
                    last,
                    company,
                    title,
                    industry,
                    headcount,
                    bucket(headcount),
                    campaign_id,
                    campaign_name,
                    mode,
                    sentiment,
                    positive,
                    meeting,
                    booked,
                    booked_at if booked else None,
                    workspace.booking_provider,
                    first_positive,
                    first_by,
                )
            )
            rows += 1
            if buffer.tell() >= _CHUNK_BYTES:
                yield from self._flush(buffer, "leads", rows)
                rows = 0
        yield from self._flush(buffer, "leads", rows)

    def _messages_jsonl(self, conn: psycopg.Connection[Any]) -> Iterator[bytes]:
        # orjson writes UUIDs and UTC datetimes exactly as Postgres's JSON did (RFC 3339).
        dumps = orjson.dumps
        chunk = bytearray()
        rows = 0
        for row in self._rows(conn, self._messages_query()):
            chunk += dumps(dict(zip(MESSAGE_KEYS, row, strict=True)))
            chunk += b"\n"
            rows += 1
            if len(chunk) >= _CHUNK_BYTES:
                yield self._counted(chunk, "messages", rows)
                chunk, rows = bytearray(), 0
        if chunk:
            yield self._counted(chunk, "messages", rows)

    def _counted(self, chunk: bytearray, kind: str, rows: int) -> bytes:
        if self.progress is not None:
            self.progress.advance(kind, rows)
        return bytes(chunk)

    def _flush(self, buffer: io.StringIO, kind: str, rows: int) -> Iterable[bytes]:
        data = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if self.progress is not None and rows:
            self.progress.advance(kind, rows)
        return [data.encode()] if data else []


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
