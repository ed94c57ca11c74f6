"""The durable job queue: claiming, retries, dead jobs, the CLI, and real worker processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import select

from sender_service.cli import cli
from sender_service.db.engine import session_scope
from sender_service.db.models import Job, Message
from sender_service.jobs import queue
from sender_service.jobs.handlers import PermanentJobError
from sender_service.jobs.worker import Worker
from tests import emailbison_payloads as eb

ROOT = Path(__file__).resolve().parent.parent


def enqueue(db_url: str, kind: str, payload: dict[str, Any], **options: Any) -> uuid.UUID:
    with session_scope(db_url) as session:
        job_id = queue.enqueue(session, kind, payload, **options)
    assert job_id is not None
    return job_id


def job(db_url: str, job_id: uuid.UUID) -> Job:
    with session_scope(db_url) as session:
        found = session.get(Job, job_id)
        assert found is not None
        return found


def drain(db_url: str, handlers: dict[str, Any]) -> int:
    return Worker(db_url, handlers=handlers, poll_interval=0.1).run(drain=True)


def test_a_job_runs_once_and_is_done(db_url):
    seen: list[dict[str, Any]] = []
    job_id = enqueue(db_url, "echo", {"n": 1}, dedupe_key="echo:1")
    with session_scope(db_url) as session:
        assert queue.enqueue(session, "echo", {"n": 1}, dedupe_key="echo:1") is None
    assert drain(db_url, {"echo": lambda s, p: seen.append(p)}) == 1
    assert seen == [{"n": 1}]
    done = job(db_url, job_id)
    assert (done.status, done.attempts, done.locked_by) == ("done", 1, None)
    assert done.finished_at is not None


def test_a_failing_job_is_retried_with_backoff_then_dead(db_url):
    def boom(session, payload):
        raise RuntimeError("provider said no")

    job_id = enqueue(db_url, "boom", {}, max_attempts=2)
    assert drain(db_url, {"boom": boom}) == 1
    waiting = job(db_url, job_id)
    assert (waiting.status, waiting.attempts) == ("queued", 1)
    assert "provider said no" in (waiting.last_error or "")
    delay = (waiting.run_at - datetime.now(UTC)).total_seconds()
    assert 2 < delay <= 6.5  # ~5 s, jittered
    assert drain(db_url, {"boom": boom}) == 0  # not due yet

    with session_scope(db_url) as session:
        session.get(Job, job_id).run_at = datetime.now(UTC)  # type: ignore[union-attr]
    assert drain(db_url, {"boom": boom}) == 1
    dead = job(db_url, job_id)
    assert (dead.status, dead.attempts) == ("dead", 2)
    assert queue.backoff_seconds(20) <= queue.BACKOFF_CAP_SECONDS * 1.2


def test_a_permanent_error_buries_the_job_at_once(db_url):
    def gone(session, payload):
        raise PermanentJobError("message deleted")

    job_id = enqueue(db_url, "gone", {})
    drain(db_url, {"gone": gone})
    assert job(db_url, job_id).status == "dead"


def test_a_handlers_writes_roll_back_with_its_failure(db_url):
    from sqlalchemy import text

    def half(session, payload):
        session.execute(text("update jobs set payload = '{\"touched\": true}'"))
        raise RuntimeError("after writing")

    job_id = enqueue(db_url, "half", {"n": 1})
    drain(db_url, {"half": half})
    assert job(db_url, job_id).payload == {"n": 1}


def test_jobs_cli_lists_dead_jobs_and_retries_them(db_url, cli_runner):
    job_id = enqueue(db_url, "gone", {"why": "test"})
    other = enqueue(db_url, "fine", {})

    def gone(session, payload):
        raise PermanentJobError("nope")

    drain(db_url, {"gone": gone, "fine": lambda s, p: None})
    env = {"DATABASE_URL": db_url}
    result = cli_runner.invoke(cli, ["jobs", "list", "--dead", "--json"], env=env)
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert [(j["id"], j["status"], j["kind"]) for j in listed] == [(str(job_id), "dead", "gone")]
    assert "nope" in listed[0]["last_error"]

    everything = json.loads(cli_runner.invoke(cli, ["jobs", "list", "--json"], env=env).output)
    assert {j["id"] for j in everything} == {str(job_id), str(other)}

    result = cli_runner.invoke(cli, ["jobs", "retry", str(job_id)], env=env)
    assert result.exit_code == 0, result.output
    retried = job(db_url, job_id)
    assert (retried.status, retried.attempts) == ("queued", 0)

    result = cli_runner.invoke(cli, ["jobs", "retry", str(other)], env=env)
    assert result.exit_code == 2
    assert "is done" in result.output
    assert cli_runner.invoke(cli, ["jobs", "retry", "nope"], env=env).exit_code == 2
    assert cli_runner.invoke(cli, ["jobs", "retry", str(uuid.uuid4())], env=env).exit_code == 2


def test_worker_drain_classifies_ingested_replies(db_url, service, workspace, cli_runner):
    path = f"/webhooks/emailbison/{workspace[0]}"
    for reply_id in (1, 2, 3):
        status, _ = service.post_json(
            path, eb.lead_replied(reply_id), {"X-Replyline-Secret": workspace[1]}
        )
        assert status == 202
    env = {"DATABASE_URL": db_url, "LLM_PROVIDER": "offline"}
    result = cli_runner.invoke(cli, ["worker", "--drain"], env=env)
    assert result.exit_code == 0, result.output
    assert "drained 3 job(s)" in result.output
    with session_scope(db_url) as session:
        assert {j.status for j in session.execute(select(Job)).scalars()} == {"done"}
        inbound = select(Message.sentiment).where(Message.direction == "inbound")
        assert None not in set(session.execute(inbound).scalars())


# --- real worker processes -------------------------------------------------------------


@pytest.fixture
def probe_table(db_url: str) -> Iterator[None]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "create table probe_runs (n int, pid int, started_at timestamptz,"
            " finished_at timestamptz)"
        )
    yield
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("drop table probe_runs")


def start_worker(db_url: str, start_log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.job_probe", db_url, str(start_log)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def starts(start_log: Path) -> list[tuple[int, int, float]]:
    if not start_log.exists():
        return []
    rows = [line.split() for line in start_log.read_text().splitlines() if line]
    return [(int(n), int(pid), float(t)) for _, n, pid, t in rows]


def wait_for(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def statuses(db_url: str) -> dict[str, int]:
    with psycopg.connect(db_url) as conn:
        return dict(conn.execute("select status, count(*) from jobs group by status").fetchall())


def test_two_workers_and_a_killed_one_never_lose_or_double_run_a_job(db_url, probe_table, tmp_path):
    start_log = tmp_path / "starts.log"
    for n in range(30):
        enqueue(db_url, "probe", {"n": n, "sleep": 0.1})
    doomed, survivor = start_worker(db_url, start_log), start_worker(db_url, start_log)
    try:
        wait_for(lambda: sum(1 for _, pid, _ in starts(start_log) if pid == doomed.pid) >= 3)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        killed_at = time.time()
        wait_for(lambda: statuses(db_url) == {"done": 30})
    finally:
        for proc in (doomed, survivor):
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=10)

    with psycopg.connect(db_url) as conn:
        runs = conn.execute(
            "select n, pid, extract(epoch from started_at)::float8 from probe_runs"
        ).fetchall()
        attempts: dict[int, int] = dict(
            conn.execute("select (payload->>'n')::int, attempts from jobs").fetchall()
        )
    completed = sorted(n for n, _, _ in runs)
    assert completed == list(range(30)), "every job completed exactly once"
    pids = {pid for _, pid, _ in runs}
    assert pids == {doomed.pid, survivor.pid}, "both workers took jobs"

    completed_by = {n: (pid, started) for n, pid, started in runs}
    interrupted = [
        n for n, pid, _ in starts(start_log) if pid == doomed.pid and completed_by[n][0] != pid
    ]
    assert len(interrupted) == 1, "the killed worker was mid-job"
    n = interrupted[0]
    assert attempts[n] == 2
    # The recovered run began only after the first holder was dead: never two at once.
    assert completed_by[n][1] >= killed_at - 0.05


def test_sigterm_finishes_the_current_job_then_exits(db_url, probe_table, tmp_path):
    start_log = tmp_path / "starts.log"
    job_id = enqueue(db_url, "probe", {"n": 1, "sleep": 0.5})
    proc = start_worker(db_url, start_log)
    try:
        wait_for(lambda: starts(start_log))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert job(db_url, job_id).status == "done"


def test_notify_wakes_an_idle_worker_at_once(db_url):
    import threading

    done = threading.Event()
    worker = Worker(db_url, handlers={"ping": lambda s, p: done.set()}, poll_interval=30)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        time.sleep(0.3)  # let it go idle on LISTEN
        started = time.monotonic()
        enqueue(db_url, "ping", {})
        assert done.wait(5)
        assert time.monotonic() - started < 1  # far below the 30 s poll
    finally:
        worker.stop()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_worker_ignores_kinds_it_has_no_handler_for(db_url):
    job_id = enqueue(db_url, "someone_elses", {})
    assert drain(db_url, {"echo": lambda s, p: None}) == 0
    assert job(db_url, job_id).status == "queued"


def test_a_worker_that_loses_its_database_reconnects_and_keeps_going(db_url):
    import threading

    seen: list[int] = []
    worker = Worker(db_url, handlers={"echo": lambda s, p: seen.append(p["n"])}, poll_interval=0.1)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        enqueue(db_url, "echo", {"n": 1})
        deadline = time.monotonic() + 10
        while seen != [1]:
            assert time.monotonic() < deadline, seen
            time.sleep(0.05)
        with psycopg.connect(db_url, autocommit=True) as conn:
            # The worker's LISTEN connection among them: what a restart or failover does.
            conn.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity"
                " where datname = current_database() and pid <> pg_backend_pid()"
            )
            row = conn.execute("select now()").fetchone()
            assert row is not None
            blip = row[0]
        enqueue(db_url, "echo", {"n": 2})
        while seen != [1, 2]:
            assert time.monotonic() < deadline + 10, seen
            time.sleep(0.05)
        assert thread.is_alive() and worker.reconnects >= 1
        with psycopg.connect(db_url) as conn:
            polled = conn.execute(
                "select polled_at from worker_heartbeats where worker = %s", (worker.name,)
            ).fetchone()
        assert polled is not None and polled[0] > blip  # its heartbeat goes on after it
    finally:
        worker.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_a_one_shot_drain_reports_an_unreachable_database():
    worker = Worker("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1", handlers={})
    with pytest.raises(psycopg.OperationalError):
        worker.run(drain=True)


def test_a_worker_whose_database_is_dropped_stops(make_database, pg_server_url):
    import threading

    from psycopg import sql

    from sender_service.db import migrate
    from sender_service.db.urls import database_name

    url = make_database()
    migrate.upgrade(url)
    worker = Worker(url, handlers={}, poll_interval=0.1)
    failed: list[BaseException] = []

    def run() -> None:
        try:
            worker.run()
        except psycopg.OperationalError as exc:
            failed.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.5)
    name = database_name(url)  # not the URL's last segment: a socket host is a path too
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))
    thread.join(timeout=15)
    assert not thread.is_alive(), "a worker kept retrying a dropped database"
    assert failed and "does not exist" in str(failed[0])
