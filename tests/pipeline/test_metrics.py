"""`GET /metrics`: only for the holder of METRICS_TOKEN; after a reply is received, judged and
answered, the counters an operator alerts on have moved by exactly that one reply."""

from __future__ import annotations

import http.client
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from werkzeug import Response

from sender_service.jobs.worker import Worker
from sender_service.services import Services
from tests import emailbison_payloads as eb
from tests.service import Service, run_service
from tests.stubs import Stubs

TOKEN = "metrics-token-7c1e"


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def metered(db_url: str, setup: dict[str, Any], stubs: Stubs, warehouse: Path) -> Iterator[Service]:
    settings = stubs.settings(METRICS_TOKEN=TOKEN, WAREHOUSE_PATH=str(warehouse))
    with run_service(db_url, settings) as running:
        yield running


def get(service: Service, headers: dict[str, str]) -> tuple[int, str, str]:
    conn = http.client.HTTPConnection(service.host, service.port, timeout=10)
    try:
        conn.request("GET", "/metrics", headers=headers)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read().decode()
    finally:
        conn.close()


def scrape(service: Service) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, content_type, body = get(service, {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200 and content_type.startswith("text/plain"), body
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_need_the_token(service: Service, metered: Service) -> None:
    # No METRICS_TOKEN configured: not served at all.
    assert get(service, {"Authorization": f"Bearer {TOKEN}"})[0] == 404
    assert get(metered, {})[0] == 401
    assert get(metered, {"Authorization": "Bearer wrong"})[0] == 401


def test_one_answered_reply_moves_each_counter_once(
    db_url: str, setup: dict[str, Any], metered: Service, stubs: Stubs
) -> None:
    before = scrape(metered)
    status, _ = metered.post_json(
        f"/webhooks/emailbison/{setup['workspace_id']}",
        eb.lead_replied(9001),
        {"X-Replyline-Secret": setup["secret"]},
    )
    assert status == 202
    queued = scrape(metered)
    assert value(queued, "replyline_jobs_queued", kind="classify_reply") == 1
    Worker(db_url, services=Services(db_url, setup["settings"])).run(drain=True)
    after = scrape(metered)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("replyline_webhook_deliveries_total", provider="emailbison", outcome="stored") == 1
    assert moved("replyline_ingest_seconds_count", provider="emailbison") == 1
    assert moved("replyline_pipeline_decisions_total", action="send_now") == 1
    assert moved("replyline_sends_total", outcome="sent", channel="email", sent_by="ai") == 1
    for call in ("classify", "draft", "evaluate"):
        assert moved("replyline_llm_call_seconds_count", call=call) == 1
        assert moved("replyline_llm_failures_total", call=call) == 0
    assert value(after, "replyline_jobs_queued", kind="classify_reply") == 0
    assert len(stubs.platform_sends()) == 1


def test_the_warehouse_age_appears_once_one_is_published(metered: Service, warehouse: Path) -> None:
    assert not any(name == "replyline_warehouse_age_seconds" for name, _ in scrape(metered))
    warehouse.write_bytes(b"")
    built = time.time() - 2400
    os.utime(warehouse, (built, built))
    age = value(scrape(metered), "replyline_warehouse_age_seconds")
    assert 2400 <= age < 2460


def test_a_failing_llm_is_counted(
    db_url: str, setup: dict[str, Any], metered: Service, stubs: Stubs
) -> None:
    stubs.llm_fault = lambda _req: Response("{}", status=400)
    before = scrape(metered)
    metered.post_json(
        f"/webhooks/emailbison/{setup['workspace_id']}",
        eb.lead_replied(9002),
        {"X-Replyline-Secret": setup["secret"]},
    )
    Worker(db_url, services=Services(db_url, setup["settings"])).run(drain=True)
    after = scrape(metered)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("replyline_llm_failures_total", call="classify") == 1
    assert moved("replyline_pipeline_decisions_total", action="needs_review") == 1
    assert moved("replyline_pipeline_decisions_total", action="send_now") == 0
    assert stubs.platform_sends() == []
