"""The worker loop: claim a due job, run its handler, record the outcome, repeat.

Woken by NOTIFY on enqueue; polls anyway every `poll_interval` (missed notifications, jobs
whose backoff ran out). Every `reap_interval` it requeues jobs whose worker died, and every
`sweep_interval` it marks sends whose worker died mid-send as of unknown outcome
(`sending.recovery`): run by the loop rather than as a self-rescheduling job, so no lost or
doubled job can stop the sweep, and any number of workers may run it at once.

Losing the database (a restart, a failover, `pg_terminate_backend`) does not end the worker:
it reconnects with backoff and carries on; a job cut off mid-run is requeued by the reaper
once its advisory lock is gone. As it polls it refreshes its row in `worker_heartbeats`, so
`/healthz` can tell a worker that stopped polling from one that is idle.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
import traceback
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

import psycopg
import sqlalchemy.exc

from sender_service import logs
from sender_service.db.engine import session_scope
from sender_service.jobs import queue, schedule  # schedule registers booking/follow-up jobs
from sender_service.jobs.handlers import HANDLERS, RECONCILE_SEND, Handler, PermanentJobError
from sender_service.notify import review_actions as _review_actions  # noqa: F401  (registers)
from sender_service.pipeline import jobs as _pipeline_jobs  # noqa: F401  (registers handlers)
from sender_service.sending import recovery
from sender_service.services import Services
from sender_service.settings import load_settings

log = logging.getLogger(__name__)

# Well under the shortest period (a minute), so no slot is missed.
SCHEDULE_INTERVAL_SECONDS = 20.0
# Often enough that a worker polling normally is never a minute behind (see web.health).
HEARTBEAT_INTERVAL_SECONDS = 10.0
# Reconnecting after a lost database connection: 1 s, 2 s, 4 s … at most 30 s apart.
RECONNECT_FIRST_SECONDS = 1.0
RECONNECT_MAX_SECONDS = 30.0
# What a lost or refused database connection raises, through psycopg or SQLAlchemy.
CONNECTION_LOST = (psycopg.OperationalError, sqlalchemy.exc.OperationalError)


def _gone_for_good(exc: Exception) -> bool:
    """A restart or failover never removes the database: a dropped one (or a deleted role)
    will not come back, so waiting for it would leave a worker retrying forever."""
    return "does not exist" in str(exc)


class Worker:
    def __init__(
        self,
        url: str,
        *,
        handlers: Mapping[str, Handler] | None = None,
        services: Services | None = None,
        poll_interval: float = 5.0,
        reap_interval: float = 10.0,
        sweep_interval: float = 60.0,
        claim_timeout: timedelta = recovery.CLAIM_TIMEOUT,
        backoff_base: float = queue.BACKOFF_BASE_SECONDS,
        periodic: bool = False,
    ) -> None:
        """`periodic`: also offer the scheduled jobs (follow-ups each minute, booking
        reconciliation every 15 minutes; see `jobs.schedule`)."""
        self.url = url
        self.handlers = dict(HANDLERS if handlers is None else handlers)
        self.services = services or Services(url, load_settings())
        self.poll_interval = poll_interval
        self.reap_interval = reap_interval
        self.sweep_interval = sweep_interval
        self.claim_timeout = claim_timeout
        self.backoff_base = backoff_base
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.stopping = False
        self._next_reap = 0.0
        self._next_sweep = 0.0
        self.periodic = periodic
        self._next_schedule = 0.0
        self._next_heartbeat = 0.0
        self.processed = 0
        self.reconnects = 0

    def stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        """Finish the current job, then leave (the SIGTERM/SIGINT handler)."""
        self.stopping = True

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def run(self, *, drain: bool = False) -> int:
        """Process jobs until stopped (or, with `drain`, until none is due); return the count.

        A lost (or not yet reachable) database is waited out: reconnect after 1 s, 2 s, 4 s …
        (30 s at most), then carry on where the queue stands. With `drain` it raises instead."""
        log.info("worker %s started (kinds: %s)", self.name, ", ".join(sorted(self.handlers)))
        delay = RECONNECT_FIRST_SECONDS
        while not self.stopping:
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    conn.execute(f"listen {queue.CHANNEL}")
                    # Killed workers leave their rows; a day on, they tell nobody anything.
                    conn.execute(
                        "delete from worker_heartbeats where polled_at < now() - interval '1 day'"
                    )
                    delay = RECONNECT_FIRST_SECONDS
                    self._loop(conn, drain)
                    self._forget_heartbeat(conn)
                break
            except CONNECTION_LOST as exc:
                if drain or _gone_for_good(exc):
                    raise  # a one-shot run reports the failure; a long-running worker waits
                self.reconnects += 1
                self._next_heartbeat = 0.0
                log.warning(
                    "worker %s lost the database (%s); reconnecting in %.0fs",
                    self.name,
                    type(exc).__name__,
                    delay,
                )
                self._sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)
        log.info("worker %s stopped after %d job(s)", self.name, self.processed)
        return self.processed

    def _loop(self, conn: psycopg.Connection[Any], drain: bool) -> None:
        while not self.stopping:
            self._maybe_heartbeat(conn)
            self._maybe_reap(conn)
            self._maybe_sweep()
            self._maybe_schedule()
            if self.run_one(conn):
                self.processed += 1
                continue
            if drain:
                return
            self._wait(conn)

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def _maybe_heartbeat(self, conn: psycopg.Connection[Any]) -> None:
        now = time.monotonic()
        if now < self._next_heartbeat:
            return
        self._next_heartbeat = now + HEARTBEAT_INTERVAL_SECONDS
        conn.execute(
            "insert into worker_heartbeats (worker, polled_at) values (%s, now())"
            " on conflict (worker) do update set polled_at = excluded.polled_at",
            (self.name,),
        )

    def _forget_heartbeat(self, conn: psycopg.Connection[Any]) -> None:
        # A worker stopped on purpose is not a stalled one.
        conn.execute("delete from worker_heartbeats where worker = %s", (self.name,))

    def run_one(self, conn: psycopg.Connection[Any]) -> bool:
        job = queue.claim(conn, self.name, sorted(self.handlers))
        if job is None:
            return False
        try:
            self._execute(job)
        finally:
            queue.release(conn, job.id)
        return True

    def _execute(self, job: queue.ClaimedJob) -> None:
        token = logs.job_id.set(str(job.id))
        try:
            self._run_handler(job)
        finally:
            logs.job_id.reset(token)

    def _run_handler(self, job: queue.ClaimedJob) -> None:
        started = time.monotonic()
        try:
            with session_scope(self.url) as session:
                session.info.update(url=self.url, services=self.services)
                self.handlers[job.kind](session, job.payload)
                queue.mark_done(session, job.id, self.name)
        except Exception as exc:  # a handler's failure is the job's, never the worker's
            permanent = isinstance(exc, PermanentJobError)
            error = "".join(traceback.format_exception_only(exc)).strip()
            with session_scope(self.url) as session:
                status = queue.mark_failed(
                    session, job, self.name, error, permanent=permanent, base=self.backoff_base
                )
            log.warning("job %s (%s) failed, now %s: %s", job.id, job.kind, status, error)
            return
        log.info("job %s (%s) done in %.3fs", job.id, job.kind, time.monotonic() - started)

    def _maybe_reap(self, conn: psycopg.Connection[Any]) -> None:
        now = time.monotonic()
        if now < self._next_reap:
            return
        self._next_reap = now + self.reap_interval
        for job_id in queue.recover_orphans(conn):
            log.warning("job %s recovered from a lost worker", job_id)

    def _maybe_sweep(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep or RECONCILE_SEND not in self.handlers:
            return
        self._next_sweep = now + self.sweep_interval
        with session_scope(self.url) as session:
            stale = recovery.sweep_stale_claims(session, self.claim_timeout)
        for message_id in stale:
            log.warning("send %s was claimed by a lost worker: outcome unknown", message_id)

    def _maybe_schedule(self) -> None:
        now = time.monotonic()
        if not self.periodic or now < self._next_schedule:
            return
        self._next_schedule = now + SCHEDULE_INTERVAL_SECONDS
        with session_scope(self.url) as session:
            schedule.enqueue_periodic(session, datetime.now(UTC))

    def _wait(self, conn: psycopg.Connection[Any]) -> None:
        # Short slices so a stop signal is noticed quickly even when nothing arrives.
        deadline = time.monotonic() + min(
            self.poll_interval, self.reap_interval, self.sweep_interval
        )
        while not self.stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            for _ in conn.notifies(timeout=min(remaining, 0.5), stop_after=1):
                return
