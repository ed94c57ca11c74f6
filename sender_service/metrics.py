"""Prometheus metrics: what the service and the worker count, and the `/metrics` text.

Counters and histograms live in the process that does the work. Under gunicorn (several web
processes) and beside `replyline worker` processes on the same machine, set
`PROMETHEUS_MULTIPROC_DIR` to one empty directory for all of them: prometheus_client then keeps
each process's values in files there and `/metrics` adds them up (`gunicorn.conf.py` clears the
directory at start and marks exited workers dead). Without it each process counts alone,
which is what `replyline serve` and the tests use.

The queue's depth and oldest age are read from Postgres at scrape time, so every machine
reports the same queue whichever process answers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROC_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"

WEBHOOK_DELIVERIES = Counter(
    "replyline_webhook_deliveries_total",
    "Authenticated webhook deliveries by provider and what became of them (journal outcome).",
    ["provider", "outcome"],
)
INGEST_SECONDS = Histogram(
    "replyline_ingest_seconds",
    "Time to journal, read and store one webhook delivery, by provider.",
    ["provider"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
PIPELINE_DECISIONS = Counter(
    "replyline_pipeline_decisions_total",
    "Committed auto-send decisions by kind (send_now, schedule, needs_review, skip, ...).",
    ["action"],
)
SENDS = Counter(
    "replyline_sends_total",
    "Outbound sends by outcome (sent, not_sent, unknown) and channel.",
    ["outcome", "channel", "sent_by"],
)
LLM_SECONDS = Histogram(
    "replyline_llm_call_seconds",
    "LLM calls (retries included) by call, whatever their outcome.",
    ["call"],
    buckets=(0.25, 0.5, 1, 2, 4, 8, 16, 32, 64),
)
LLM_FAILURES = Counter(
    "replyline_llm_failures_total",
    "LLM calls that gave no usable answer after their retries, by call.",
    ["call"],
)
SLACK_CALLS = Counter(
    "replyline_slack_calls_total",
    "Slack Web API calls by method and outcome (ok, error).",
    ["method", "outcome"],
)


@contextmanager
def timed(histogram: Histogram, **labels: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        histogram.labels(**labels).observe(time.perf_counter() - started)


class QueueCollector(Collector):
    """`replyline_jobs_queued` and `replyline_jobs_oldest_due_seconds` by kind, and
    `replyline_jobs_dead`, read from the jobs table when scraped."""

    def __init__(self, url: str) -> None:
        self._url = url

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from sender_service.db import pool

        depth = GaugeMetricFamily(
            "replyline_jobs_queued", "Jobs waiting (queued, due or not) by kind.", labels=["kind"]
        )
        oldest = GaugeMetricFamily(
            "replyline_jobs_oldest_due_seconds",
            "How long the oldest due, unclaimed job has waited past its time, by kind.",
            labels=["kind"],
        )
        dead = GaugeMetricFamily(
            "replyline_jobs_dead", "Jobs out of attempts, by kind.", labels=["kind"]
        )
        with pool.connection(self._url) as conn:
            rows = conn.execute(
                """
                select kind,
                       count(*) filter (where status = 'queued'),
                       coalesce(extract(epoch from now() - min(run_at)
                           filter (where status = 'queued' and run_at <= now())), 0),
                       count(*) filter (where status = 'dead')
                from jobs where status in ('queued', 'dead') group by kind order by kind
                """
            ).fetchall()
        for kind, queued, waited, dead_count in rows:
            depth.add_metric([kind], queued)
            oldest.add_metric([kind], float(waited))
            dead.add_metric([kind], dead_count)
        yield depth
        yield oldest
        yield dead


class WarehouseCollector(Collector):
    """`replyline_warehouse_age_seconds`: since the published warehouse file was swapped in
    (absent until the first refresh publishes one)."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            built = self._path.stat().st_mtime
        except OSError:
            return
        yield GaugeMetricFamily(
            "replyline_warehouse_age_seconds",
            "Seconds since the published warehouse was last rebuilt.",
            value=max(time.time() - built, 0.0),
        )


def scrape_registry(url: str, warehouse_path: Path) -> CollectorRegistry:
    """What a scrape reads: every process's metrics (multiprocess mode) or this process's,
    the queue from Postgres and the published warehouse's age."""
    from prometheus_client import REGISTRY

    scrape = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        MultiProcessCollector(scrape)  # type: ignore[no-untyped-call]
    else:
        scrape.register(_Registry(REGISTRY))
    scrape.register(QueueCollector(url))
    scrape.register(WarehouseCollector(warehouse_path))
    return scrape


def exposition(url: str, warehouse_path: Path) -> tuple[bytes, str]:
    """The `/metrics` body and its content type."""
    return generate_latest(scrape_registry(url, warehouse_path)), CONTENT_TYPE_LATEST


class _Registry(Collector):
    """Another registry's metrics, as one collector."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[Any]:
        yield from self._registry.collect()


def install_decision_counter() -> None:
    """Count each auto-send decision once its transaction commits (never a rolled-back one),
    whichever of the pipeline's modules wrote it."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "after_flush", _note_decisions):
        event.listen(Session, "after_flush", _note_decisions)
        event.listen(Session, "after_commit", _count_decisions)
        event.listen(Session, "after_rollback", _forget_decisions)


_PENDING: Final = "replyline_pending_decisions"


def _note_decisions(session: Any, _context: Any) -> None:
    from sender_service.db.models import AutoSendDecision

    actions = [obj.action for obj in session.new if isinstance(obj, AutoSendDecision)]
    if actions:
        session.info.setdefault(_PENDING, []).extend(actions)


def _count_decisions(session: Any) -> None:
    for action in session.info.pop(_PENDING, []):
        PIPELINE_DECISIONS.labels(action=action).inc()


def _forget_decisions(session: Any) -> None:
    session.info.pop(_PENDING, None)
