"""Webhook-to-send latency: a positive reply POSTed to the real service until its AI answer is
stored as sent, through a real worker, the real OpenAI, Slack and EmailBison clients and
loopback stubs. Twice in one run: stubs answering at once (the pipeline's own overhead), and
an LLM answering each of its three calls in 1 s (how much the pipeline adds to the LLM's time).
"""

from __future__ import annotations

import statistics
import threading
import time

from pytest_httpserver import HTTPServer
from sqlalchemy import func, select

from bench._scratch import scratch_database
from sender_service.credentials import cipher, store_secret
from sender_service.db.engine import session_scope
from sender_service.db.models import EmailCampaign, Message
from sender_service.jobs.worker import Worker
from sender_service.services import Services
from sender_service.workspaces import create_workspace
from tests import emailbison_payloads as eb
from tests.service import run_service
from tests.stubs import Stubs

LLM_CALLS_PER_REPLY = 3


def _run(replies: int, llm_seconds: float) -> list[float]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    stubs = Stubs(server, llm_latency=llm_seconds)
    settings = stubs.settings()
    latencies: list[float] = []
    with scratch_database("latency") as url:
        with session_scope(url) as session:
            ws, secret = create_workspace(
                session,
                name="Bench",
                booking_provider="CALENDLY",
                calendly_scheduling_url="https://calendly.com/bench/intro",
                email_platform_url=stubs.platform_url,
            )
            store_secret(session, cipher(settings), ws.id, "email_platform_api_key", "k")
            session.add(
                EmailCampaign(
                    workspace_id=ws.id, external_id="77", name="Bench", response_mode="AI_AUTO_SEND"
                )
            )
            path = f"/webhooks/emailbison/{ws.id}"
        worker = Worker(url, services=Services(url, settings), poll_interval=1.0)
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        try:
            with run_service(url, settings) as service:
                for n in range(replies):
                    payload = eb.lead_replied(100_000 + n)
                    payload["data"]["lead"] = eb.lead(10_000 + n, f"lead{n}@prospect.io")
                    started = time.perf_counter()
                    status, _ = service.post_json(path, payload, {"X-Replyline-Secret": secret})
                    assert status == 202
                    while _sent(url) < n + 1:
                        time.sleep(0.002)
                    latencies.append(time.perf_counter() - started)
        finally:
            worker.stop()
            thread.join(10)
            server.stop()
    return latencies


def _sent(url: str) -> int:
    with session_scope(url) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Message)
                .where(Message.sent_by == "ai", Message.delivery_status == "sent")
            )
            or 0
        )


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    fast = _run(60, 0.0)
    print(
        f"zero-latency stubs, {len(fast)} replies: p50 {_pct(fast, 50) * 1000:.0f} ms, "
        f"p95 {_pct(fast, 95) * 1000:.0f} ms (target p95 < 500 ms)"
    )
    slow = _run(12, 1.0)
    llm_time = LLM_CALLS_PER_REPLY * 1.0
    p50 = _pct(slow, 50)
    print(
        f"LLM at 1 s a call ({LLM_CALLS_PER_REPLY} calls), {len(slow)} replies: "
        f"p50 {p50:.2f} s, p95 {_pct(slow, 95):.2f} s; the pipeline adds "
        f"{(p50 - llm_time) / llm_time:.1%} to the LLM's {llm_time:.0f} s (target < 10 %)"
    )
