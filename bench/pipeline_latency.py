"""Webhook-to-send latency: a positive reply POSTed to the real service until its AI answer is
stored as sent, through a real worker, the real OpenAI, Slack and EmailBison clients and
loopback stubs. Twice in one run: stubs answering at once (the pipeline's own overhead), and
an LLM answering each of its three calls in 1 s (how much the pipeline adds to the LLM's time).
A third run has the evaluator stop every first draft as revisable, so each reply takes one
revision round (five LLM calls at 1 s); `python -m bench.pipeline_latency --revision` runs
only that one.

The outbound guard's share: after the zero-latency run, the guard's work for each decision the
pipeline made (its policy read from the workspace, lead and thread, then `check` on the
draft) is timed again in this process, as is the same work on the adversarial corpus'
drafts; its p95 is set against the pipeline's own p50 measured in the same run.
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import yaml
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from werkzeug import Response

from bench._scratch import scratch_database
from sender_service.credentials import cipher, store_secret
from sender_service.db.engine import session_scope
from sender_service.db.models import AIDraft, EmailCampaign, Message
from sender_service.jobs.worker import Worker
from sender_service.pipeline import outbound_guard
from sender_service.pipeline.context import load_inbound
from sender_service.pipeline.guard_policy import guard_policy
from sender_service.services import Services
from sender_service.workspaces import create_workspace
from tests import emailbison_payloads as eb
from tests.service import run_service
from tests.stubs import Stubs, completion

LLM_CALLS_PER_REPLY = 3
GUARD_REPEATS = 20  # timings per decision, for a stable tail
CORPUS = Path(__file__).parents[1] / "tests" / "adversarial_replies.yaml"


Timings = list[tuple[float, float]]


def _one_revision_each() -> Callable[[dict[str, object]], Response]:
    """Evaluator answers for one revision round per reply (replies run one at a time): the
    first judgement of each reply is revisable, the second sends."""
    calls = [0]
    stopped = {"confidence": 0.4, "safe_to_send": False, "reason": "too long",
               "revisable": True, "revision_hint": "Two sentences."}  # fmt: skip
    fine = {"confidence": 0.96, "safe_to_send": True, "reason": "fine"}

    def answer(_body: dict[str, object]) -> Response:
        calls[0] += 1
        chosen = stopped if calls[0] % 2 else fine
        return Response(json.dumps(completion(json.dumps(chosen))), content_type="application/json")

    return answer


def _run(
    replies: int, llm_seconds: float, *, revision: bool = False
) -> tuple[list[float], Timings, Timings]:
    """Webhook-to-send latencies (s), and the guard's per-decision (wall, CPU) times (s) on the
    run's own drafts and on the adversarial corpus."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    stubs = Stubs(server, llm_latency=llm_seconds)
    if revision:
        stubs.llm["auto_send_evaluation"] = _one_revision_each()
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
            own, adversarial = _guard_times(url)
        finally:
            worker.stop()
            thread.join(10)
            server.stop()
    return latencies, own, adversarial


def _guard_times(url: str) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """The guard's work per decision, as the pipeline does it (policy, then check): wall time
    and this thread's CPU time, which leaves out waits for a core on a busy machine."""
    own: list[tuple[float, float]] = []
    adversarial: list[tuple[float, float]] = []
    corpus = yaml.safe_load(CORPUS.read_text())
    attacks = [(str(e["draft"]) * int(e.get("draft_repeat", 1)), e["reply"]) for e in corpus]
    with session_scope(url) as session:
        drafts = list(session.scalars(select(AIDraft)))
        inbound = [
            load_inbound(session, session.get_one(Message, d.inbound_message_id)) for d in drafts
        ]
        outbound_guard.check(drafts[0].body, guard_policy(inbound[0], "email"))  # loads the model
        for _ in range(GUARD_REPEATS):
            for draft, reply in zip(drafts, inbound, strict=True):
                wall, cpu = time.perf_counter(), time.thread_time()
                outbound_guard.check(draft.body, guard_policy(reply, draft.channel))
                own.append((time.perf_counter() - wall, time.thread_time() - cpu))
            for text, reply_text in attacks:
                wall, cpu = time.perf_counter(), time.thread_time()
                policy = replace(guard_policy(inbound[0], "email"), reply_text=reply_text)
                outbound_guard.check(text, policy)
                adversarial.append((time.perf_counter() - wall, time.thread_time() - cpu))
    return own, adversarial


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


def _revision_round() -> None:
    slow, _, _ = _run(8, 1.0, revision=True)
    llm_time = (LLM_CALLS_PER_REPLY + 2) * 1.0  # a second draft and a second evaluation
    p50 = _pct(slow, 50)
    print(
        f"LLM at 1 s a call, one revision round ({llm_time:.0f} calls), {len(slow)} replies: "
        f"p50 {p50:.2f} s, p95 {_pct(slow, 95):.2f} s; the pipeline adds "
        f"{(p50 - llm_time) / llm_time:.1%} to the LLM's {llm_time:.0f} s (target < 10 %)"
    )


def main() -> None:
    if "--revision" in sys.argv:
        _revision_round()
        return
    fast, own, adversarial = _run(60, 0.0)
    print(
        f"zero-latency stubs, {len(fast)} replies: p50 {_pct(fast, 50) * 1000:.0f} ms, "
        f"p95 {_pct(fast, 95) * 1000:.0f} ms (target p95 < 500 ms)"
    )
    for name, timings in (("the run's drafts", own), ("the adversarial corpus", adversarial)):
        for clock, times in (("wall", [t[0] for t in timings]), ("CPU", [t[1] for t in timings])):
            print(
                f"outbound guard per decision, {name} ({len(times)} checks, {clock}): "
                f"p50 {_pct(times, 50) * 1000:.3f} ms, p95 {_pct(times, 95) * 1000:.3f} ms = "
                f"{_pct(times, 95) / _pct(fast, 50):.2%} of the pipeline's p50 "
                "(target p95 < 1 ms)"
            )
    slow, _, _ = _run(12, 1.0)
    llm_time = LLM_CALLS_PER_REPLY * 1.0
    p50 = _pct(slow, 50)
    print(
        f"LLM at 1 s a call ({LLM_CALLS_PER_REPLY} calls), {len(slow)} replies: "
        f"p50 {p50:.2f} s, p95 {_pct(slow, 95):.2f} s; the pipeline adds "
        f"{(p50 - llm_time) / llm_time:.1%} to the LLM's {llm_time:.0f} s (target < 10 %)"
    )
    _revision_round()


if __name__ == "__main__":
    main()  # `python -m bench.pipeline_latency --revision`: the revision run alone
