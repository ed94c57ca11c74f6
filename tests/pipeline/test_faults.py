"""Fault tests of the send path (issue 6): real Postgres, the real service over HTTP, real
worker processes and threads, loopback stubs of the LLM, Slack and EmailBison.

What must hold under every fault: a reply is sent at most once, and none is lost — each is
either sent or reviewed (a Slack DM to the reviewer).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from werkzeug import Request, Response

from sender_service.ai.offline import OfflineLLM
from sender_service.api_tokens import issue_token
from sender_service.db.engine import session_scope
from sender_service.db.models import (
    AIDraft,
    AutoSendDecision,
    EmailCampaign,
    Job,
    Lead,
    Message,
    Notification,
    Workspace,
)
from sender_service.jobs.worker import Worker
from sender_service.pipeline.jobs import enqueue_steps
from sender_service.pipeline.process import process_inbound
from sender_service.services import Services
from sender_service.users import add_member
from sender_service.workspaces import create_workspace
from tests import emailbison_payloads as eb
from tests import factories
from tests.pipeline_worker import make_worker
from tests.service import Service
from tests.stubs import Stubs

ROOT = Path(__file__).resolve().parents[2]


def post(service: Service, setup: dict[str, Any], payload: dict[str, Any]) -> None:
    status, body = service.post_json(
        f"/webhooks/emailbison/{setup['workspace_id']}",
        payload,
        {"X-Replyline-Secret": setup["secret"]},
    )
    assert status in (200, 202), body


def now_iso(offset: float = 0.0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=offset)).isoformat()


def reply_from(
    n: int, received: str | None = None, text: str | None = None, reply_id: int | None = None
) -> dict[str, Any]:
    """A reply from lead n (its own lead id, address and thread)."""
    payload = eb.lead_replied(reply_id or 9100 + n)
    payload["data"]["lead"] = eb.lead(600 + n, f"lead{n}@prospect.io")
    payload["data"]["reply"]["from_email_address"] = f"lead{n}@prospect.io"
    payload["data"]["reply"]["date_received"] = received or now_iso()
    if text:
        payload["data"]["reply"]["text_body"] = text
    return payload


def worker_thread(db_url: str, setup: dict[str, Any]) -> tuple[Worker, threading.Thread]:
    worker = make_worker(db_url, Services(db_url, setup["settings"]))
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return worker, thread


def settled(db_url: str) -> bool:
    """Nothing queued, running or claimed: every reply has reached its end."""
    with session_scope(db_url) as session:
        busy = session.scalar(
            select(Job.id).where(Job.status.in_(("queued", "running"))).limit(1)
        ) or session.scalar(select(Message.id).where(Message.delivery_status == "claimed").limit(1))
    return busy is None


def wait_for(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def run_until_settled(db_url: str, setup: dict[str, Any], timeout: float = 30) -> None:
    worker, thread = worker_thread(db_url, setup)
    try:
        wait_for(lambda: settled(db_url), timeout)
    finally:
        worker.stop()
        thread.join(10)


def rows(db_url: str, model: Any, *where: Any) -> list[Any]:
    with session_scope(db_url) as session:
        return list(session.execute(select(model).where(*where)).scalars())


def fates(db_url: str) -> dict[str, str]:
    """Each inbound reply's end: 'sent', 'reviewed', or what else it is (a failure here)."""
    with session_scope(db_url) as session:
        result = {}
        for reply in session.execute(
            select(Message).where(Message.direction == "inbound")
        ).scalars():
            draft = session.scalar(select(AIDraft).where(AIDraft.inbound_message_id == reply.id))
            sent = draft is not None and session.scalar(
                select(Message.id).where(
                    Message.ai_draft_id == draft.id, Message.delivery_status == "sent"
                )
            )
            reviewed = session.scalar(
                select(Notification.id).where(
                    Notification.status == "sent",
                    Notification.dedupe_key.in_(
                        [f"review-reply:{reply.id}"]
                        + ([f"review:{draft.id}"] if draft else [])
                        + [
                            f"unknown-send:{m}"
                            for m in session.execute(
                                select(Message.id).where(
                                    Message.ai_draft_id == (draft.id if draft else None)
                                )
                            ).scalars()
                        ]
                    ),
                )
            )
            result[reply.external_id or ""] = (
                "sent" if sent else "reviewed" if reviewed else f"lost ({draft and draft.status})"
            )
        return result


def sends_per_thread(stubs: Stubs) -> dict[str, int]:
    counts: dict[str, int] = {}
    for req in stubs.platform_sends():
        counts[req.path] = counts.get(req.path, 0) + 1
    return counts


# --- crashes and races ---------------------------------------------------------------


def start_worker(db_url: str, stubs: Stubs) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.pipeline_worker", db_url],
        cwd=ROOT,
        env={**os.environ, **stubs.env()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_killed_worker_and_a_racing_one_send_each_reply_at_most_once_and_lose_none(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    stubs.eb_latency = 0.15  # a wide window between the claim and the platform's answer
    burst = 16
    for n in range(burst):
        post(service, setup, reply_from(n))
    doomed, racer = start_worker(db_url, stubs), start_worker(db_url, stubs)
    procs = [doomed, racer]
    try:
        wait_for(lambda: len(stubs.accepted) >= 3)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        procs.append(start_worker(db_url, stubs))  # the restart
        wait_for(lambda: settled(db_url) and len(fates(db_url)) == burst, 60)
        wait_for(lambda: "lost" not in " ".join(fates(db_url).values()), 30)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=10)
    assert all(count == 1 for count in sends_per_thread(stubs).values())
    outcome = fates(db_url)
    assert set(outcome.values()) <= {"sent", "reviewed"}, outcome
    assert list(outcome.values()).count("sent") >= burst - 2  # at most the killed one's in doubt
    assert len(stubs.accepted) == list(outcome.values()).count("sent")


# --- outside services down -----------------------------------------------------------


def test_llm_down_then_back_loses_nothing_and_sends_nothing_unjudged(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    down = threading.Event()
    down.set()
    stubs.llm_fault = lambda _req: Response("upstream down", status=503) if down.is_set() else None
    for n in range(3):
        post(service, setup, reply_from(n))
    run_until_settled(db_url, setup)
    assert stubs.platform_sends() == []
    assert set(fates(db_url).values()) == {"reviewed"}

    down.clear()
    for n in range(3, 5):
        post(service, setup, reply_from(n))
    run_until_settled(db_url, setup)
    outcome = fates(db_url)
    assert [outcome[str(9100 + n)] for n in range(5)] == ["reviewed"] * 3 + ["sent"] * 2
    assert len(stubs.platform_sends()) == 2


def test_platform_500_and_timeout_are_never_retried_blindly(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    def fault(req: Request) -> Response | None:
        if req.path == "/eb/api/replies/9100/reply":
            return Response("boom", status=500)  # may or may not have sent: unknown
        if req.path == "/eb/api/replies/9101/reply":
            time.sleep(1.5)  # past the client's timeout; the platform sends it anyway
        return None

    stubs.eb_fault = fault
    post(service, setup, reply_from(0))
    post(service, setup, reply_from(1))
    run_until_settled(db_url, setup)
    assert sends_per_thread(stubs) == {
        "/eb/api/replies/9100/reply": 1,
        "/eb/api/replies/9101/reply": 1,
    }
    by_thread = {
        m.thread_ref["reply_id"]: m for m in rows(db_url, Message, Message.direction == "outbound")
    }
    # The 500: not in the thread, so it stays unknown and the reviewer is told.
    assert by_thread["9100"].delivery_status == "unknown"
    (dm,) = stubs.slack_posts()
    assert "outcome is unknown" in json.dumps(dm["blocks"])
    # The timeout: found in the lead's thread, so it is recorded as sent.
    assert by_thread["9101"].delivery_status == "sent"
    assert by_thread["9101"].external_id == str(stubs.accepted[0]["id"])
    assert fates(db_url) == {"9100": "reviewed", "9101": "sent"}


def test_platform_rate_limit_says_not_sent_so_the_send_is_retried(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    refused: list[str] = []

    def fault(req: Request) -> Response | None:
        if len(refused) < 2:
            refused.append(req.path)
            return Response("slow down", status=429)
        return None

    stubs.eb_fault = fault
    post(service, setup, reply_from(0))
    run_until_settled(db_url, setup)
    assert len(stubs.platform_sends()) == 3 and len(stubs.accepted) == 1
    assert fates(db_url) == {"9100": "sent"} and stubs.slack_posts() == []


def test_slack_429_with_retry_after_still_sends_one_dm(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    limited: list[bool] = []

    def fault(_req: Request) -> Response | None:
        if not limited:
            limited.append(True)
            return Response(
                json.dumps({"ok": False, "error": "ratelimited"}),
                status=429,
                headers={"Retry-After": "1"},
                content_type="application/json",
            )
        return None

    stubs.slack_fault = fault
    stubs.llm["auto_send_evaluation"] = {"confidence": 0.5, "safe_to_send": True, "reason": "vague"}
    post(service, setup, reply_from(0))
    started = time.monotonic()
    run_until_settled(db_url, setup)
    assert time.monotonic() - started >= 1  # Retry-After was honoured
    assert len(stubs.calls("chat.postMessage")) == 2
    (note,) = rows(db_url, Notification)
    assert note.status == "sent" and note.slack_ts
    assert stubs.platform_sends() == []


# --- the kill switch, timing and takeover ---------------------------------------------


def set_campaign(db_url: str, **values: Any) -> None:
    with session_scope(db_url) as session:
        session.execute(update(EmailCampaign).values(**values))


def test_kill_switch_flipped_during_a_delay_sends_nothing_and_dms_nobody(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    set_campaign(db_url, send_delay_min_seconds=1, send_delay_max_seconds=1)
    post(service, setup, reply_from(0))
    Worker(db_url, services=Services(db_url, setup["settings"])).run(drain=True)
    (draft,) = rows(db_url, AIDraft)
    assert draft.status == "scheduled"
    with session_scope(db_url) as session:
        session.execute(update(Workspace).values(auto_send_enabled=False))
    run_until_settled(db_url, setup)
    assert stubs.platform_sends() == [] and stubs.slack_posts() == []
    skip = rows(db_url, AutoSendDecision, AutoSendDecision.action == "skip")
    assert ["switched off" in d.reason for d in skip] == [True]


def test_a_delayed_send_waits_and_a_setters_inbox_reply_cancels_it(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    set_campaign(db_url, send_delay_min_seconds=2, send_delay_max_seconds=2)
    received = datetime.now(UTC)
    post(service, setup, reply_from(0, received.isoformat()))
    Worker(db_url, services=Services(db_url, setup["settings"])).run(drain=True)
    (job,) = rows(db_url, Job, Job.kind == "send_draft")
    assert job.status == "queued"
    assert abs((job.run_at - (received + timedelta(seconds=2))).total_seconds()) < 0.01
    assert stubs.platform_sends() == []  # held back for its delay

    manual = eb.manual_sent(9500)
    manual["data"]["lead"] = eb.lead(600, "lead0@prospect.io")
    manual["data"]["reply"]["date_received"] = now_iso()
    post(service, setup, manual)
    (draft,) = rows(db_url, AIDraft)
    assert draft.status == "superseded"
    wait_for(lambda: datetime.now(UTC) > job.run_at, 5)
    run_until_settled(db_url, setup)
    assert stubs.platform_sends() == [] and stubs.slack_posts() == []
    reasons = [d.reason for d in rows(db_url, AutoSendDecision, AutoSendDecision.action == "skip")]
    assert reasons == ["a setter answered from the platform's inbox"]
    assert [m.sent_by for m in rows(db_url, Message, Message.direction == "outbound")] == ["setter"]


def test_a_send_outside_business_hours_moves_to_the_next_window(db_url: str) -> None:
    saturday_night = datetime(2025, 3, 8, 23, 30, tzinfo=UTC)  # 18:30 in New York
    with session_scope(db_url) as session:
        ws = factories.workspace(session, timezone="America/New_York")
        c = factories.campaign(session, ws, "AI_AUTO_SEND", sending_hours="business_hours")
        ld = factories.lead(session, ws, c)
        msg_id = factories.inbound(session, ld, "Sounds great, happy to chat", saturday_night).id
    with session_scope(db_url) as session:
        outcome = process_inbound(session, msg_id, OfflineLLM(), now=saturday_night)
        enqueue_steps(session, outcome.next_steps)
    assert outcome.decision is not None and outcome.decision.action == "send_later"
    monday_nine = datetime(2025, 3, 10, 13, 0, tzinfo=UTC)  # 09:00 EDT
    (job,) = rows(db_url, Job, Job.kind == "send_draft")
    assert job.run_at == monday_nine
    (decision,) = rows(db_url, AutoSendDecision)
    assert decision.scheduled_for == monday_nine
    (draft,) = rows(db_url, AIDraft)
    assert draft.status == "scheduled"


def token(db_url: str, workspace_id: Any, role: str, email: str) -> str:
    with session_scope(db_url) as session:
        user = add_member(session, email, workspace_id, role)[0]
        return issue_token(session, user)[1]


def test_pause_and_resume_through_the_api(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    post(service, setup, reply_from(0, now_iso(-60)))
    (lead,) = rows(db_url, Lead)
    setter = {
        "Authorization": f"Bearer {token(db_url, setup['workspace_id'], 'setter', 's@a.test')}"
    }
    viewer = {
        "Authorization": f"Bearer {token(db_url, setup['workspace_id'], 'viewer', 'v@a.test')}"
    }
    with session_scope(db_url) as session:
        other, _ = create_workspace(session, name="Other", booking_provider="GHL")
        other_id = other.id
    outsider = {"Authorization": f"Bearer {token(db_url, other_id, 'admin', 'o@o.test')}"}
    pause = f"/api/leads/{lead.id}/pause-ai"
    assert service.request("POST", pause)[0] == 401
    assert service.request("POST", pause, headers=outsider)[0] == 404
    assert service.request("POST", pause, headers=viewer)[0] == 403
    assert service.request("POST", "/api/leads/nope/pause-ai", headers=setter)[0] == 404

    status, body = service.request("POST", pause, headers=setter)
    assert (status, body) == (200, {"lead_id": str(lead.id), "ai_paused": True})
    run_until_settled(db_url, setup)
    assert stubs.platform_sends() == [] and stubs.slack_posts() == []
    (skip,) = rows(db_url, AutoSendDecision)
    assert "took the lead over" in skip.reason

    status, body = service.request("POST", f"/api/leads/{lead.id}/resume-ai", headers=setter)
    assert (status, body["ai_paused"]) == (200, False)
    post(service, setup, reply_from(0, now_iso(), "Also, can we do Thursday?", reply_id=9200))
    run_until_settled(db_url, setup)
    assert len(stubs.platform_sends()) == 1


def test_a_reply_asks_the_platform_to_stop_the_campaigns_emails_once(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    post(service, setup, reply_from(0, now_iso(-60)))
    post(service, setup, reply_from(0, now_iso(), "One more thing", reply_id=9200))
    run_until_settled(db_url, setup)
    (stop,) = stubs.calls("/eb/api/campaigns/77/leads/stop-future-emails")
    assert json.loads(stop.get_data()) == {"lead_ids": [600]}


@pytest.mark.parametrize(
    ("event_type", "reason"),
    [
        ("EMAIL_BOUNCED", "the lead's address bounced"),
        ("LEAD_UNSUBSCRIBED", "the lead unsubscribed"),
    ],
)
def test_a_bounce_or_unsubscribe_opts_the_lead_out_and_rejects_its_drafts(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs, event_type: str, reason: str
) -> None:
    set_campaign(db_url, response_mode="SETTER_MANAGED")
    post(service, setup, reply_from(0))
    run_until_settled(db_url, setup)
    (draft,) = rows(db_url, AIDraft)
    assert draft.status == "pending"
    event = eb.lead_only(event_type)
    event["data"]["lead"] = eb.lead(600, "lead0@prospect.io")
    post(service, setup, event)
    (draft,) = rows(db_url, AIDraft)
    (lead,) = rows(db_url, Lead)
    assert (draft.status, lead.opted_out) == ("rejected", True)
    assert (lead.bounced_at is not None) == (event_type == "EMAIL_BOUNCED")
    (skip,) = rows(db_url, AutoSendDecision)
    assert skip.reason == reason
