"""Webhook ingest: throughput and ack latency of the real EmailBison webhook vs a bare Flask +
psycopg INSERT endpoint, both under gunicorn (gthread) on this machine and Postgres, in one run.

The real path authenticates the workspace, streams the body under the cap, validates it with
pydantic, upserts campaign and lead, inserts the message `on conflict do nothing` and enqueues
the job with its NOTIFY, in one transaction. Every request carries a new reply id.

The webhook also runs with the row fingerprint triggers (migration 0018_row_fingerprints)
disabled, alternating with the normal runs: what keeping the warehouse's row counts and id
checksums costs each write, as a ratio measured under the same load.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from bench._scratch import scratch_database
from sender_service.db.engine import session_scope
from sender_service.db.models import REPLICATED_TABLES
from sender_service.local_http import free_port, wait_until_healthy
from sender_service.workspaces import create_workspace

CLIENTS = 8
REQUESTS = 3000
WARMUP = 300
ROUNDS = 2  # of the webhook without, then with, the fingerprint triggers
GUNICORN = ["--workers", "2", "--worker-class", "gthread", "--threads", "4"]
ROOT = Path(__file__).resolve().parent.parent


def payload(n: int) -> bytes:
    return json.dumps(
        {
            "event": {"type": "LEAD_REPLIED", "name": "Lead Replied", "workspace_id": 1},
            "data": {
                "lead": {
                    "id": 10_000 + n % 500,
                    "email": f"lead{n % 500}@prospect.io",
                    "first_name": "Dana",
                    "last_name": "Reyes",
                    "company": "Prospect Inc",
                    "title": "VP Sales",
                    "custom_variables": [
                        {"name": "industry", "value": "SaaS"},
                        {"name": "headcount", "value": "51-200"},
                    ],
                },
                "campaign": {"id": 77 + n % 5, "name": "Spring push"},
                "reply": {
                    "id": n,
                    "uuid": str(uuid.uuid4()),
                    "email_subject": "Re: quick question",
                    "from_email_address": f"lead{n % 500}@prospect.io",
                    "from_name": "Dana Reyes",
                    "text_body": "Sounds interesting, can we talk Tuesday? " * 10,
                    "html_body": "<p>Sounds interesting, can we talk Tuesday?</p>" * 10,
                    "date_received": "2025-03-04T15:20:00+00:00",
                    "automated_reply": False,
                },
                "sender_email": {"id": 12, "email": "alex@agency-mail.com"},
            },
        }
    ).encode()


@contextmanager
def gunicorn(app: str, env: dict[str, str]) -> Iterator[int]:
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}", *GUNICORN]
        + [app],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_healthy(port, timeout=120)  # a worker boots in ~20 s on a busy machine
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def load(port: int, path: str, first: int, count: int) -> tuple[float, list[float]]:
    """`count` POSTs from CLIENTS keep-alive connections; wall time and each ack latency."""
    latencies: list[float] = []
    lock = threading.Lock()
    ids = iter(range(first, first + count))

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        while True:
            with lock:
                n = next(ids, None)
            if n is None:
                break
            body = payload(n)
            started = time.perf_counter()
            conn.request("POST", path, body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            assert response.status == 202, response.status
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, latencies


# Each run's reply ids are new: a repeated one is a duplicate delivery (200, nothing stored).
_FIRST_IDS = itertools.count(1, WARMUP + REQUESTS)


def measure(port: int, path: str) -> dict[str, float]:
    first = next(_FIRST_IDS)
    load(port, path, first, WARMUP)
    wall, latencies = load(port, path, first + WARMUP, REQUESTS)
    ordered = sorted(latencies)
    return {
        "rps": len(latencies) / wall,
        "p50": statistics.median(ordered) * 1000,
        "p99": ordered[int(len(ordered) * 0.99) - 1] * 1000,
    }


def main() -> None:
    with scratch_database() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("create table bench_events (id bigserial primary key, payload jsonb)")
        with session_scope(url) as session:
            ws, secret = create_workspace(session, name="bench", booking_provider="GHL")
        runs: dict[str, Callable[[], dict[str, float]]] = {
            "baseline (bare Flask + psycopg INSERT)": lambda: _run(
                "bench._baseline_app:create_app()", {"BENCH_DATABASE_URL": url}, "/ingest"
            ),
            "replyline webhook": lambda: _run(
                "sender_service.app:create_app()",
                {"DATABASE_URL": url},
                f"/webhooks/emailbison/{ws.id}?secret={secret}",
            ),
        }
        results = {label: run() for label, run in runs.items()}
        webhook = runs["replyline webhook"]
        without, with_ = [], [results["replyline webhook"]]
        for _ in range(ROUNDS):
            _fingerprint_triggers(url, enabled=False)
            without.append(webhook())
            _fingerprint_triggers(url, enabled=True)
            with_.append(webhook())
        print(
            f"{REQUESTS} POSTs after {WARMUP} warm-up, {CLIENTS} keep-alive clients, gunicorn "
            f"{' '.join(GUNICORN)}, {os.cpu_count()} CPUs, Postgres at {_where(url)}"
        )
        for label, r in results.items():
            print(
                f"  {label:<40} {r['rps']:8.0f} req/s   p50 {r['p50']:6.2f} ms   "
                f"p99 {r['p99']:6.2f} ms"
            )
        base, real = results.values()
        print(
            f"  ratio replyline/baseline: throughput {real['rps'] / base['rps']:.2f}x, "
            f"p50 latency {real['p50'] / base['p50']:.2f}x, p99 latency "
            f"{real['p99'] / base['p99']:.2f}x (target >= 0.5x throughput, goal 0.8x)"
        )
        rps_with = statistics.median(r["rps"] for r in with_)
        rps_without = statistics.median(r["rps"] for r in without)
        p50_with = statistics.median(r["p50"] for r in with_)
        p50_without = statistics.median(r["p50"] for r in without)
        print(
            f"  row fingerprint triggers (medians of {len(with_)} runs with, {len(without)}"
            f" without, alternated): {rps_with:.0f} vs {rps_without:.0f} req/s, throughput"
            f" {rps_with / rps_without:.2f}x; p50 {p50_with:.2f} vs {p50_without:.2f} ms,"
            f" {p50_with / p50_without:.2f}x"
            f"\n    req/s with: {_rates(with_)}; without: {_rates(without)}"
        )


def _rates(runs: list[dict[str, float]]) -> str:
    return ", ".join(f"{r['rps']:.0f}" for r in runs)


def _fingerprint_triggers(url: str, *, enabled: bool) -> None:
    """Switch the triggers that log each INSERT's and DELETE's fingerprint delta."""
    action = "enable" if enabled else "disable"
    with psycopg.connect(url) as conn:
        for table in REPLICATED_TABLES:
            for trigger in (f"{table}_count_inserts", f"{table}_count_deletes"):
                conn.execute(f"alter table {table} {action} trigger {trigger}")


def _run(app: str, env: dict[str, str], path: str) -> dict[str, Any]:
    with gunicorn(app, env) as port:
        return measure(port, path)


def _where(url: str) -> str:
    return str(psycopg.conninfo.conninfo_to_dict(url).get("host") or "local socket")
