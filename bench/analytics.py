"""`GET /api/analytics/campaigns` under load: p50/p95 with 8 concurrent clients on loopback.

A scratch database seeded by `replyline seed --leads 10000`, a real `replyline warehouse
refresh`, then the service under gunicorn (as in production: 2 workers × 4 threads on this
machine's cores) and 8 client threads each holding a keep-alive connection. Target: p95 < 50 ms.

Two runs: all time (the answer is cached per published file after the first request), then
with a date range that differs on every request (hundreds of distinct ranges, more than the
answer cache holds), so each answer is a fresh cohort aggregation.

`BENCH_BASELINE=<checkout>` (a git checkout, e.g. `git archive main | tar -x -C DIR`) serves
the same two runs first with that checkout's code, on the same warehouse in the same run, so
the figures compare under the same load.
"""

from __future__ import annotations

import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import duckdb
import psycopg

from bench.marts import _replyline
from sender_service.api_tokens import issue_token
from sender_service.db import migrate
from sender_service.db.engine import resolve_database_url, session_scope
from sender_service.db.urls import with_database
from sender_service.local_http import free_port, wait_until_healthy
from sender_service.users import add_member

LEADS = 10_000
CLIENTS = 8
REQUESTS_PER_CLIENT = 100
TARGET_P95_MS = 50.0


def _client(
    port: int, paths: list[str], token: str, out: list[float], errors: list[int], offset: int = 0
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": f"Bearer {token}"}
    for i in range(REQUESTS_PER_CLIENT):
        started = time.perf_counter()
        conn.request("GET", paths[(offset + i) % len(paths)], headers=headers)
        response = conn.getresponse()
        response.read()
        out.append(time.perf_counter() - started)
        if response.status != 200:
            errors.append(response.status)
    conn.close()


def main() -> None:
    server = resolve_database_url()
    name = f"replyline_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = with_database(server, name)
    try:
        migrate.upgrade(url)
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "WAREHOUSE_PATH": str(Path(tmp) / "warehouse.duckdb"),
                "REPLYLINE_VAR_DIR": str(Path(tmp) / "var"),
                "DAGSTER_HOME": str(Path(tmp) / "dagster"),
            }
            seconds, _, _ = _replyline(
                env, "seed", "--workspaces", "2", "--leads", str(LEADS), "--random-seed", "7"
            )
            print(f"seeded {LEADS:,} leads in {seconds:.1f}s")
            seconds, _, _ = _replyline(env, "warehouse", "refresh")
            print(f"warehouse refresh in {seconds:.1f}s")
            with psycopg.connect(url) as conn:
                row = conn.execute("select id from workspaces order by name limit 1").fetchone()
            assert row is not None
            workspace = row[0]
            with session_scope(url) as session:
                user = add_member(session, "bench-viewer@example.test", workspace, "viewer")[0]
                token = issue_token(session, user)[1]
            ranged = _ranged_paths(Path(env["WAREHOUSE_PATH"]), workspace)
            path = f"/api/analytics/campaigns?workspace_id={workspace}"
            baseline = os.environ.get("BENCH_BASELINE")
            for label, code in ([("baseline", baseline)] if baseline else []) + [
                ("candidate", None)
            ]:
                with _service(env, code) as port:
                    print(f"-- {label}: {code or 'this checkout'}; load {_load()}", flush=True)
                    warm: list[float] = []
                    # Warm-up: the first request per worker reads the marts; the answer is
                    # then cached per published file (a refresh is a miss), as in production.
                    _client(port, [path], token, warm, [])
                    note = f"first (uncached) {warm[0] * 1000:.1f} ms"
                    _run(port, [path], token, "all time", note)
                    _run(port, ranged, token, "a range", f"{len(ranged)} distinct ranges")
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


@contextmanager
def _service(env: dict[str, str], code: str | None) -> Iterator[int]:
    """gunicorn as in production (2 workers × 4 threads on this machine's 2 cores) serving
    this checkout, or `code`'s: its directory first on the path, ahead of the editable install."""
    port = free_port()
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    run_env = {**env, "PYTHONPATH": code} if code else env
    service = subprocess.Popen(
        [
            gunicorn,
            "-c",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "sender_service.app:create_app()",
        ],
        env=run_env,
        cwd=code,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_healthy(port, timeout=60)
        yield port
    finally:
        service.terminate()
        service.wait(15)


def _ranged_paths(warehouse: Path, workspace: uuid.UUID) -> list[str]:
    """30-to-60-day ranges sliding over the seeded replies: a new cohort on every request."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute(
            "select min(first_reply_date), max(first_reply_date) from marts.lead_funnel"
        ).fetchone()
    assert row is not None and row[0] is not None
    first, last = row
    paths = []
    for i in range(CLIENTS * REQUESTS_PER_CLIENT):
        start = first + timedelta(days=i % max(1, (last - first).days - 30))
        end = start + timedelta(days=30 + i % 31)
        paths.append(f"/api/analytics/campaigns?workspace_id={workspace}&from={start}&to={end}")
    return paths


def _run(port: int, paths: list[str], token: str, label: str, note: str) -> None:
    latencies: list[float] = []
    errors: list[int] = []
    threads = [
        threading.Thread(
            target=_client,
            args=(port, paths, token, latencies, errors, k * REQUESTS_PER_CLIENT),
        )
        for k in range(CLIENTS)
    ]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    p50, p95 = cuts[49] * 1000, cuts[94] * 1000
    print(
        f"analytics endpoint, {label}, {CLIENTS} clients × {REQUESTS_PER_CLIENT} requests: "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms (target < {TARGET_P95_MS:.0f} ms: "
        f"{'met' if p95 < TARGET_P95_MS else 'MISSED'}), "
        f"{len(latencies) / wall:.0f} req/s, errors {len(errors)}; {note}; load {_load()}",
        flush=True,
    )


if __name__ == "__main__":
    main()
