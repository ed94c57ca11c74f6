"""`replyline seed`: generate the data set in chunks of leads and stream each chunk into
Postgres with COPY, so memory stays flat however many leads are asked for."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from sender_service.db.models import TABLES
from sender_service.seed.plan import PLAN_COLUMNS, build_plan
from sender_service.seed.threads import (
    BOOKING_COLUMNS,
    DRAFT_COLUMNS,
    ENROLLMENT_COLUMNS,
    LEAD_COLUMNS,
    MESSAGE_COLUMNS,
    LeadThread,
    Rows,
)

CHUNK_LEADS = 2_000


class SeedError(ValueError):
    """The database cannot take the seed as asked (e.g. it already holds data)."""


@dataclass(frozen=True)
class SeedRequest:
    workspaces: int
    leads: int
    random_seed: int
    end: datetime  # the data set's "now": history covers the twelve weeks before it
    reset: bool


def seed(
    url: str, request: SeedRequest, on_progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Load the data set in one transaction; rows written per table."""
    rng = random.Random(request.random_seed)
    counts: dict[str, int] = {}
    with psycopg.connect(url) as conn:
        if request.reset:
            conn.execute(
                sql.SQL("truncate {} cascade").format(
                    sql.SQL(", ").join(sql.Identifier(t) for t in TABLES)
                )
            )
        elif conn.execute("select exists (select 1 from workspaces)").fetchone() == (True,):
            raise SeedError("the database already holds workspaces; pass --reset to replace them")
        plan = build_plan(rng, request.workspaces, request.end)
        for table, rows in plan.rows.items():
            _copy(conn, table, PLAN_COLUMNS[table], rows, counts)
        done = 0
        while done < request.leads:
            size = min(CHUNK_LEADS, request.leads - done)
            chunk = Rows()
            for n in range(done, done + size):
                ws = plan.workspaces[n % len(plan.workspaces)]
                LeadThread(rng, ws, chunk, plan.start, plan.end).run()
            _copy_chunk(conn, chunk, counts)
            done += size
            if on_progress:
                on_progress(size)
    return counts


def _copy_chunk(conn: psycopg.Connection[Any], chunk: Rows, counts: dict[str, int]) -> None:
    # Foreign-key order: a draft names its inbound message; an AI send names its draft.
    _copy(conn, "leads", LEAD_COLUMNS, chunk.leads, counts)
    # Before the messages: a follow-up send names its enrollment.
    _copy(conn, "followup_enrollments", ENROLLMENT_COLUMNS, chunk.enrollments, counts)
    _copy(conn, "messages", MESSAGE_COLUMNS, chunk.messages, counts)
    _copy(conn, "ai_drafts", DRAFT_COLUMNS, chunk.drafts, counts)
    _copy(conn, "messages", MESSAGE_COLUMNS, chunk.draft_sends, counts)
    _copy(conn, "booking_events", BOOKING_COLUMNS, chunk.booking_events, counts)


def _copy(
    conn: psycopg.Connection[Any],
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    counts: dict[str, int],
) -> None:
    if rows:
        statement = sql.SQL("copy {} ({}) from stdin").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        with conn.cursor() as cur, cur.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    counts[table] = counts.get(table, 0) + len(rows)
