"""Enqueue, claim, finish and retry jobs in the `jobs` table.

Enqueue runs in the caller's transaction, so a job exists exactly when the data it is about
was committed. A claimed job is also held by a session-level advisory lock on the claiming
worker's connection: when a worker dies its connection drops, Postgres frees the lock, and
`recover_orphans` can tell a dead worker's `running` job from a live one without a timeout.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import psycopg
from psycopg.rows import dict_row
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from sender_service.db.models import Job

CHANNEL: Final = "replyline_jobs"
BACKOFF_BASE_SECONDS: Final = 5.0
BACKOFF_CAP_SECONDS: Final = 3600.0


@dataclass(frozen=True)
class ClaimedJob:
    id: uuid.UUID
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


def lock_key(job_id: uuid.UUID) -> int:
    """The advisory-lock key of a job: its id's first 8 bytes as a signed bigint."""
    return int.from_bytes(job_id.bytes[:8], "big", signed=True)


_ENQUEUE = text(
    """
    with job as (
        insert into jobs (kind, payload, dedupe_key, run_at, max_attempts)
        values (:kind, cast(:payload as jsonb), :dedupe_key, coalesce(:run_at, now()),
                coalesce(:max_attempts, 8))
        on conflict (dedupe_key) where dedupe_key is not null do nothing
        returning id, kind
    )
    select id, pg_notify(:channel, kind) from job
    """
)


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    dedupe_key: str | None = None,
    run_at: datetime | None = None,
    max_attempts: int | None = None,
) -> uuid.UUID | None:
    """Add a job in the session's transaction; None when `dedupe_key` already exists.

    One round trip (it runs on every webhook). The NOTIFY is transactional too: listeners
    hear it only once the job is committed.
    """
    job_id: uuid.UUID | None = (
        session.connection()
        .execute(
            _ENQUEUE,
            {
                "kind": kind,
                "payload": json.dumps(payload),
                "dedupe_key": dedupe_key,
                "run_at": run_at,
                "max_attempts": max_attempts,
                "channel": CHANNEL,
            },
        )
        .scalar_one_or_none()
    )
    return job_id


_CLAIM = """
with next_job as (
    select id from jobs
    where status = 'queued' and run_at <= now() and kind = any(%(kinds)s)
    order by run_at
    limit 1
    for update skip locked
)
update jobs
set status = 'running', attempts = jobs.attempts + 1, locked_by = %(worker)s,
    locked_at = now()
from next_job
where jobs.id = next_job.id
returning jobs.id, jobs.kind, jobs.payload, jobs.attempts, jobs.max_attempts
"""


def claim(conn: psycopg.Connection[Any], worker: str, kinds: list[str]) -> ClaimedJob | None:
    """Claim the oldest due job of `kinds` and hold its advisory lock on `conn`.

    The lock is taken before the claim commits, so no one ever sees the job running unlocked.
    `conn` must be the worker's own autocommit connection, kept open while the job runs.
    """
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_CLAIM, {"kinds": kinds, "worker": worker}).fetchone()
        if row is None:
            return None
        cur.execute("select pg_advisory_lock(%s)", (lock_key(row["id"]),))
    return ClaimedJob(**row)


def release(conn: psycopg.Connection[Any], job_id: uuid.UUID) -> None:
    conn.execute("select pg_advisory_unlock(%s)", (lock_key(job_id),))


def mark_done(session: Session, job_id: uuid.UUID, worker: str) -> None:
    """Finish a job in the handler's own transaction: its effects and `done` commit together."""
    session.execute(
        text(
            "update jobs set status = 'done', finished_at = now(), locked_by = null,"
            " locked_at = null where id = :id and status = 'running' and locked_by = :worker"
        ),
        {"id": job_id, "worker": worker},
    )


def backoff_seconds(attempts: int, base: float = BACKOFF_BASE_SECONDS) -> float:
    """Exponential backoff with jitter: ~5 s, 10 s, 20 s ... capped at an hour."""
    delay = min(BACKOFF_CAP_SECONDS, base * 2.0 ** max(0, attempts - 1))
    return float(delay * random.uniform(0.8, 1.2))


def mark_failed(
    session: Session,
    job: ClaimedJob,
    worker: str,
    error: str,
    *,
    permanent: bool = False,
    base: float = BACKOFF_BASE_SECONDS,
) -> str:
    """Requeue a failed job with backoff, or bury it as `dead` after its last attempt."""
    status = "dead" if permanent or job.attempts >= job.max_attempts else "queued"
    session.execute(
        text(
            "update jobs set status = :status, last_error = :error, locked_by = null,"
            " locked_at = null, run_at = now() + make_interval(secs => :delay),"
            " finished_at = case when :dead then now() end"
            " where id = :id and status = 'running' and locked_by = :worker"
        ),
        {
            "status": status,
            "dead": status == "dead",
            "error": error[:4000],
            "delay": backoff_seconds(job.attempts, base),
            "id": job.id,
            "worker": worker,
        },
    )
    return status


_ORPHANS = """
select id, attempts, max_attempts from jobs
where status = 'running'
for update skip locked
"""


def recover_orphans(conn: psycopg.Connection[Any]) -> list[uuid.UUID]:
    """Requeue (or bury) running jobs whose worker is gone: their advisory lock is free.

    The transaction-level try-lock is released at commit; a live worker's lock makes it fail.
    """
    recovered: list[uuid.UUID] = []
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        for row in cur.execute(_ORPHANS).fetchall():
            got = cur.execute(
                "select pg_try_advisory_xact_lock(%s)", (lock_key(row["id"]),)
            ).fetchone()
            if not got or not got["pg_try_advisory_xact_lock"]:
                continue
            dead = row["attempts"] >= row["max_attempts"]
            cur.execute(
                "update jobs set status = %s, locked_by = null, locked_at = null,"
                " last_error = 'worker lost while running the job', run_at = now(),"
                " finished_at = case when %s then now() end where id = %s",
                ("dead" if dead else "queued", dead, row["id"]),
            )
            recovered.append(row["id"])
        if recovered:
            cur.execute("select pg_notify(%s, 'recovered')", (CHANNEL,))
    return recovered


class RetryError(ValueError):
    """The job cannot be retried (unknown id, or running / done)."""


def retry(session: Session, job_id: uuid.UUID) -> Job:
    """Put a dead (or waiting) job back in the queue now, with a fresh set of attempts."""
    job = session.get(Job, job_id, with_for_update=True)
    if job is None:
        raise RetryError(f"no job {job_id}")
    if job.status not in ("dead", "queued"):
        raise RetryError(f"job {job_id} is {job.status}; only dead or queued jobs can be retried")
    job.status = "queued"
    job.attempts = 0
    job.finished_at = None
    job.run_at = session.execute(select(func.now())).scalar_one()
    session.flush()
    session.execute(select(func.pg_notify(CHANNEL, job.kind)))
    return job
