"""The revision loop end to end: webhook over HTTP → worker → LLM stub, EmailBison and Slack
stubs. The evaluator says when a rewrite can fix a draft; the drafter rewrites with its hint,
the evaluator judges again, at most `max_revisions` rounds, failing closed to the reviewer."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner
from sqlalchemy import select, update
from werkzeug import Response

from sender_service.cli import cli
from sender_service.db.engine import session_scope
from sender_service.db.models import (
    AIDraft,
    AutoSendDecision,
    Job,
    Lead,
    Message,
    Workspace,
)
from sender_service.jobs.worker import Worker
from sender_service.services import Services
from tests import emailbison_payloads as eb
from tests.service import Service
from tests.stubs import Stubs, completion

TOO_LONG = {
    "confidence": 0.4,
    "safe_to_send": False,
    "reason": "the draft is far too long for a two-line reply",
    "revisable": True,
    "revision_hint": "Cut it to two sentences and keep the booking link.",
}
FINE = {"confidence": 0.96, "safe_to_send": True, "reason": "short and on point",
        "revisable": False, "revision_hint": ""}  # fmt: skip


def answers(*bodies: dict[str, Any]) -> Any:
    """An LLM stub answer giving `bodies` in turn (the last one from then on), recording the
    requests it got."""
    asked: list[dict[str, Any]] = []

    def answer(body: dict[str, Any]) -> Response:
        asked.append(body)
        chosen = bodies[min(len(asked), len(bodies)) - 1]
        return Response(json.dumps(completion(json.dumps(chosen))), content_type="application/json")

    answer.asked = asked  # type: ignore[attr-defined]
    return answer


def run(db_url: str, setup: dict[str, Any], service: Service) -> None:
    status, body = service.post_json(
        f"/webhooks/emailbison/{setup['workspace_id']}",
        eb.lead_replied(9001),
        {"X-Replyline-Secret": setup["secret"]},
    )
    assert status in (200, 202), body
    Worker(db_url, services=Services(db_url, setup["settings"])).run(drain=True)
    with session_scope(db_url) as session:
        assert session.execute(select(Job.kind).where(Job.status != "done")).all() == []


def drafts(db_url: str) -> list[AIDraft]:
    with session_scope(db_url) as session:
        return list(session.execute(select(AIDraft).order_by(AIDraft.revision_round)).scalars())


def decisions(db_url: str) -> list[tuple[str, str]]:
    with session_scope(db_url) as session:
        rows = session.execute(
            select(AutoSendDecision.action, AutoSendDecision.reason, AIDraft.revision_round)
            .join(AIDraft, AIDraft.id == AutoSendDecision.ai_draft_id)
            .order_by(AIDraft.revision_round, AutoSendDecision.action.desc())
        ).all()
    return [(row.action, row.reason) for row in rows]


def explain(db_url: str) -> str:
    with session_scope(db_url) as session:
        lead_id = session.execute(select(Lead.id)).scalar_one()
    result = CliRunner().invoke(
        cli, ["lead", "explain", str(lead_id)], env={"DATABASE_URL": db_url}
    )
    assert result.exit_code == 0, result.output
    return result.output


def outbound(db_url: str) -> list[Message]:
    with session_scope(db_url) as session:
        return list(
            session.execute(select(Message).where(Message.direction == "outbound")).scalars()
        )


def test_a_revision_rescues_a_draft_that_was_too_long(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    long_body = "Hi {firstName}, " + "thanks so much for getting back to us. " * 30
    short_body = "Hi {firstName}, glad to hear it. Pick a time: {calendarLink}"
    drafter = answers({"body": long_body}, {"body": short_body})
    stubs.llm["reply_draft"] = drafter
    stubs.llm["auto_send_evaluation"] = answers(TOO_LONG, FINE)
    run(db_url, setup, service)

    first, second = drafts(db_url)
    assert (first.revision_round, first.status, first.safe_to_send) == (0, "superseded", False)
    assert first.revision_hint == TOO_LONG["revision_hint"]
    assert (second.revision_round, second.status, second.previous_draft_id) == (1, "sent", first.id)
    (sent,) = outbound(db_url)
    assert sent.ai_draft_id == second.id and sent.sent_by == "ai"
    assert sent.body.startswith("Hi Dana, glad to hear it")
    # The rewrite was asked with the evaluator's hint and the draft it replaces.
    system, user = drafter.asked[1]["messages"]
    assert TOO_LONG["revision_hint"] in system["content"]
    assert json.loads(user["content"])["previous_draft"] == first.body
    (revise, final) = decisions(db_url)
    assert revise[0] == "revise" and "round 1: judged unsafe" in revise[1]
    assert final[0] == "send_now"
    assert stubs.slack_posts() == []

    timeline = explain(db_url)
    lines = timeline.splitlines()
    at = {name: next(i for i, line in enumerate(lines) if name in line) for name in (
        "AI draft [superseded, confidence 0.400, safe=False]",
        "revise: round 1: judged unsafe: the draft is far too long",
        "AI draft [sent, revision 1, confidence 0.960, safe=True]",
        "send_now: confidence 0.96",
    )}  # fmt: skip
    assert list(at.values()) == sorted(at.values())  # each round in order


def test_the_loop_fails_closed_after_the_maximum_rounds(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    with session_scope(db_url) as session:
        session.execute(update(Workspace).values(max_revisions=3))
    stubs.llm["auto_send_evaluation"] = answers(TOO_LONG)
    run(db_url, setup, service)

    versions = drafts(db_url)
    assert [d.revision_round for d in versions] == [0, 1, 2, 3]
    assert [d.status for d in versions] == ["superseded"] * 3 + ["pending"]
    assert outbound(db_url) == [] and stubs.platform_sends() == []
    actions = [action for action, _ in decisions(db_url)]
    assert actions == ["revise", "revise", "revise", "needs_review"]
    final_reason = decisions(db_url)[-1][1]
    assert final_reason.startswith("still stopped after 3 revision(s): judged unsafe")
    (dm,) = stubs.slack_posts()
    blocks = json.dumps(dm["blocks"])
    assert "still stopped after 3 revision(s)" in blocks
    assert str(versions[-1].id) in blocks  # the reviewer's buttons act on the last version

    timeline = explain(db_url)
    for round_ in (1, 2, 3):
        assert f"revise: round {round_}: judged unsafe" in timeline
        assert f"revision {round_}, confidence 0.400" in timeline
    assert "needs_review: still stopped after 3 revision(s)" in timeline


def test_an_llm_failure_during_a_round_fails_closed_to_the_reviewer(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    calls = {"drafts": 0}

    def drafter(body: dict[str, Any]) -> Response:
        calls["drafts"] += 1
        if calls["drafts"] == 1:
            return Response(json.dumps(completion(json.dumps({"body": "Hi {firstName}, " * 40}))),
                            content_type="application/json")  # fmt: skip
        return Response("overloaded", status=503)

    stubs.llm["reply_draft"] = drafter
    stubs.llm["auto_send_evaluation"] = answers(TOO_LONG)
    run(db_url, setup, service)

    (only,) = drafts(db_url)
    assert (only.status, only.revision_round) == ("pending", 0)
    assert outbound(db_url) == []
    actions = decisions(db_url)
    assert [a for a, _ in actions] == ["revise", "needs_review"]
    assert actions[-1][1].startswith("revision round 1 failed, sent to a person")
    (dm,) = stubs.slack_posts()
    assert str(only.id) in json.dumps(dm["blocks"])


def test_policy_stops_are_never_revised(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    """A pricing question the guard stops goes to a person even when the evaluator would
    call the draft revisable."""
    stubs.llm["reply_draft"] = answers({"body": "Hi {firstName}, it is $499 a seat per month."})
    stubs.llm["auto_send_evaluation"] = answers(TOO_LONG)
    run(db_url, setup, service)
    (only,) = drafts(db_url)
    assert only.revision_round == 0 and only.status == "pending"
    ((action, reason),) = decisions(db_url)
    assert action == "needs_review" and "pric" in reason
    assert outbound(db_url) == []


def test_max_revisions_is_a_workspace_setting(
    db_url: str, setup: dict[str, Any], cli_runner: CliRunner
) -> None:
    env = {"DATABASE_URL": db_url}
    ws = str(setup["workspace_id"])
    result = cli_runner.invoke(
        cli, ["workspace", "update", "--workspace", ws, "--max-revisions", "1", "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["max_revisions"] == 1
    too_many = cli_runner.invoke(
        cli, ["workspace", "update", "--workspace", ws, "--max-revisions", "4"], env=env
    )
    assert too_many.exit_code != 0 and "--max-revisions" in too_many.output
    with session_scope(db_url) as session:
        assert session.get_one(Workspace, setup["workspace_id"]).max_revisions == 1
