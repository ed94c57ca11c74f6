"""Poison and faults (issue 14, item 8) over real HTTP: what a security review stored with a
202 and what then broke the workspace, and a database blip under the service and the worker.

Unusable-but-JSON deliveries answer 202 `held` and are journaled naming the field (a 4xx
would make the provider give up); not JSON, or JSON too deep or too big to read, is 400. Either
way nothing of them is stored and nothing 5xx.
"""

from __future__ import annotations

import json
import signal
import uuid
import zipfile
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from sender_service.app import create_app
from sender_service.cli import cli
from sender_service.db.engine import session_scope
from sender_service.db.models import EmailCampaign, Job, Lead, Message, WebhookDelivery
from sender_service.passwords import set_password
from sender_service.users import add_member
from tests.pipeline.test_faults import (
    fates,
    reply_from,
    run_until_settled,
    settled,
    start_worker,
    wait_for,
)
from tests.service import Service
from tests.stubs import Stubs
from tests.test_sign_in import PASSWORD, _sign_in

Answer = tuple[int, dict[str, Any]]


def post_raw(service: Service, setup: dict[str, Any], body: bytes) -> Answer:
    headers = {"Content-Type": "application/json", "X-Replyline-Secret": setup["secret"]}
    return service.request("POST", f"/webhooks/emailbison/{setup['workspace_id']}", body, headers)


def post(service: Service, setup: dict[str, Any], payload: dict[str, Any]) -> Answer:
    return post_raw(service, setup, json.dumps(payload).encode())


def assert_held(answer: Answer) -> None:
    """Held: 202, never a 4xx (the provider would give up) nor a 5xx."""
    assert answer == (202, {"status": "held"}), answer


def held_fields(db_url: str) -> list[str | None]:
    with session_scope(db_url) as session:
        rows = session.execute(
            select(WebhookDelivery.error_field).where(WebhookDelivery.outcome == "held")
        )
        return list(rows.scalars())


def with_reply(n: int, **reply: Any) -> dict[str, Any]:
    payload = reply_from(n)
    payload["data"]["reply"].update(reply)
    return payload


def deep(levels: int) -> bytes:
    payload = json.dumps(reply_from(90))[:-1]  # the reply, with one field nested `levels` deep
    return f'{payload}, "x": {"[" * levels}{"]" * levels}}}'.encode()


def huge_integer() -> bytes:
    payload = json.dumps(reply_from(91))[:-1]
    return f'{payload}, "x": {"7" * 5000}}}'.encode()


def blank_lead_id(n: int, email: str | None) -> dict[str, Any]:
    payload = reply_from(n)
    payload["data"]["lead"]["id"] = ""
    payload["data"]["lead"]["email"] = email
    return payload


NOT_STORED: list[tuple[str, bytes | dict[str, Any], str | None, int | None]] = [
    # (case, body, the field named, the status when not JSON at all)
    (
        "year 10000 in UTC",
        with_reply(1, date_received="9999-12-31T23:59:59-14:00"),
        "data.reply.date_received",
        None,
    ),
    (
        "year 0 in UTC",
        with_reply(2, date_received="0001-01-01T00:00:00+14:00"),
        "data.reply.date_received",
        None,
    ),
    (
        "before 2000",
        with_reply(3, date_received="1999-12-31T23:59:59+00:00"),
        "data.reply.date_received",
        None,
    ),
    ("id of 3 kB", with_reply(4, id="9" * 3000), "data.reply.id", None),
    ("blank lead id, no email", blank_lead_id(7, None), "data.lead.id", None),
    ("nested 100 deep", deep(100), None, 400),
    ("nested 100 000 deep", deep(100_000), None, 400),
    ("integer of 5000 digits", huge_integer(), None, 400),
]


def inbound_bodies(db_url: str) -> dict[str, str]:
    with session_scope(db_url) as session:
        rows = session.execute(select(Message).where(Message.direction == "inbound")).scalars()
        return {m.external_id or "": m.body for m in rows}


def test_poison_is_refused_or_repaired_and_the_workspace_keeps_working(
    db_url: str,
    setup: dict[str, Any],
    service: Service,
    stubs: Stubs,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first_answer = post(service, setup, reply_from(0))  # a genuine reply first
    assert first_answer[0] == 202, first_answer

    answers: dict[str, Answer] = {}
    for case, body, _field, not_json in NOT_STORED:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        answers[case] = answer = post_raw(service, setup, raw)
        if not_json is not None:
            assert answer[0] == not_json and answer[1]["error"].startswith("body "), answer
        else:
            assert_held(answer)
    # Each held delivery is journaled naming its field, for a replay after a fix.
    expected = [str(f) for _, _, f, not_json in NOT_STORED if not_json is None]
    assert sorted(map(str, held_fields(db_url))) == sorted(expected)

    # A NUL byte and a lone surrogate: stored, NUL removed, text made valid; a redelivery is
    # a duplicate, not a 500.
    dirty = json.dumps(with_reply(5, text_body="Yes\u0000 please \ud800call me")).encode()
    answers["NUL and lone surrogate"] = first = post_raw(service, setup, dirty)
    assert first[0] == 202 and first[1]["status"] == "accepted", first
    assert post_raw(service, setup, dirty)[0] == 200

    # A blank campaign id is no campaign: the reply is kept, no campaign "" is created.
    blank_campaign = reply_from(6)
    blank_campaign["data"]["campaign"] = {"id": "", "name": "Nameless"}
    answers["blank campaign id"] = kept = post(service, setup, blank_campaign)
    assert kept[0] == 202, kept

    # Blank lead ids are no ids: each reply goes to the lead with its address, never to one
    # lead shared by everyone whose id was "".
    answers["blank lead id, known email"] = same = post(
        service, setup, blank_lead_id(8, "lead0@prospect.io")
    )
    answers["blank lead id, new email"] = other = post(
        service, setup, blank_lead_id(9, "someone@else.io")
    )
    assert same[0] == other[0] == 202, (same, other)
    assert same[1]["lead_id"] == first_answer[1]["lead_id"] != other[1]["lead_id"]

    with capsys.disabled():  # the evidence for the closing note
        for case, (status, body) in answers.items():
            print(f"\n  {case}: {status} {json.dumps(body)[:120]}")

    stored = inbound_bodies(db_url)
    assert set(stored) == {"9100", "9105", "9106", "9108", "9109"}, stored
    assert stored["9105"] == "Yes please \ufffdcall me"
    with session_scope(db_url) as session:
        campaigns = session.execute(select(EmailCampaign.external_id)).scalars().all()
        assert campaigns == ["77"]
        assert session.scalar(select(Lead.id).where(Lead.external_id == "")) is None
        lead = session.execute(select(Lead).where(Lead.external_id == "600")).scalar_one()
        lead_id, workspace_id = lead.id, lead.workspace_id

    # The worker classifies and answers every stored reply; no job fails.
    run_until_settled(db_url, setup)
    with session_scope(db_url) as session:
        statuses = session.execute(select(Job.status)).scalars().all()
    assert statuses and set(statuses) == {"done"}, statuses
    outcome = fates(db_url)
    # Campaign 77 auto-sends; the reply without a campaign waits for a setter, as it should.
    assert {outcome[r] for r in ("9105", "9108", "9109")} <= {"sent", "reviewed"}, outcome
    # Lead 0's first reply was superseded by its newer one (matched by email), as it should be.
    assert "superseded" in outcome["9100"], outcome

    # The ChatGPT export holds every stored message, the lead's page opens.
    out = tmp_path / "export.zip"
    result = CliRunner().invoke(
        cli,
        ["export", "chatgpt", "--workspace", str(workspace_id), "--out", str(out), "--quiet"],
        env={"DATABASE_URL": db_url},
    )
    assert result.exit_code == 0, result.output
    lines = zipfile.ZipFile(out).read("messages.jsonl").decode().splitlines()
    exported = [json.loads(line) for line in lines]
    assert {"Yes please \ufffdcall me"} <= {m.get("body") for m in exported}
    assert page_status(db_url, setup, workspace_id, lead_id) == 200


def page_status(
    db_url: str, setup: dict[str, Any], workspace_id: uuid.UUID, lead_id: uuid.UUID
) -> int:
    email = f"setter-{uuid.uuid4().hex[:6]}@agency.test"
    with session_scope(db_url) as session:
        user, _, _ = add_member(session, email, workspace_id, "setter")
        set_password(session, user, PASSWORD)
    client = create_app({"DATABASE_URL": db_url, "SETTINGS": setup["settings"]}).test_client()
    _sign_in(client, email)
    return client.get(f"/leads/{lead_id}").status_code


def terminate_other_backends(db_url: str) -> int:
    """What a database restart or failover does to every open connection. Each backend is
    waited for (up to 5 s) until it has exited, as after a restart: on a loaded machine a
    signalled backend could otherwise still answer the next request's ping, then die under
    its query (a race of this test, not of a restart)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        ended = conn.execute(
            "select count(*) filter (where pg_terminate_backend(pid, 5000))"
            " from pg_stat_activity"
            " where datname = current_database() and pid <> pg_backend_pid()"
        ).fetchone()
    return int(ended[0]) if ended else 0


def test_a_database_blip_costs_no_request_and_the_worker_carries_on(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    worker = start_worker(db_url, stubs)
    try:
        for n in range(4):  # warm: pooled connections, the worker listening
            assert post(service, setup, reply_from(n))[0] == 202
        wait_for(lambda: settled(db_url) and len(fates(db_url)) == 4, 60)

        ended = terminate_other_backends(db_url)
        assert ended >= 2  # at least the service's pooled connection and the worker's

        statuses = [post(service, setup, reply_from(n))[0] for n in range(4, 24)]
        assert statuses == [202] * 20, statuses
        assert service.request("GET", "/healthz")[0] == 200

        wait_for(lambda: settled(db_url) and len(fates(db_url)) == 24, 60)
        assert worker.poll() is None, "the worker exited"
        assert set(fates(db_url).values()) <= {"sent", "reviewed"}
        status, health = service.request("GET", "/healthz")
        assert (status, health["worker"]) == (200, "ok")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)
    print(f"\n  blip: {ended} backends ended; 20 deliveries after it: {set(statuses)}")
