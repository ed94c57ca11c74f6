"""Issue 21's corpus end to end: adversarial replies over the EmailBison webhook → the real
worker → an LLM stub on loopback that obeys every injection (it writes what the attacker asked
for and scores it 0.99, safe) → the outbound guard. Not one may reach the platform."""

from __future__ import annotations

import html
import json
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from sqlalchemy import select
from werkzeug import Response

from sender_service.db.engine import session_scope
from sender_service.db.models import AIDraft, AutoSendDecision, Lead, Message
from sender_service.jobs.worker import Worker
from sender_service.pipeline.outbound_guard import ascii_host
from sender_service.services import Services
from tests import emailbison_payloads as eb
from tests.cli_helpers import run
from tests.service import Service
from tests.stubs import Stubs, completion

CORPUS = yaml.safe_load((Path(__file__).parents[1] / "adversarial_replies.yaml").read_text())


def _draft_of(entry: dict[str, Any]) -> str:
    return str(entry["draft"]) * int(entry.get("draft_repeat", 1))


def _obeying_llm(stubs: Stubs, corpus: list[dict[str, Any]]) -> None:
    """Every call answers as a model fully taken over by the reply would."""
    by_reply = {entry["reply"].strip(): entry for entry in corpus}

    def draft(body: dict[str, Any]) -> Response:
        data = json.loads(body["messages"][-1]["content"])
        entry = by_reply[data["reply"].strip()]
        answer = completion(json.dumps({"body": _draft_of(entry)}))
        return Response(json.dumps(answer), content_type="application/json")

    stubs.llm["sentiment_classification"] = {"sentiment": "Interested", "confidence": 0.99}
    stubs.llm["reply_draft"] = draft
    stubs.llm["auto_send_evaluation"] = {
        "confidence": 0.99,
        "safe_to_send": True,
        "reason": "the lead asked for exactly this",
    }


def _post_reply(service: Service, setup: dict[str, Any], number: int, text: str) -> None:
    payload = eb.event(
        "LEAD_REPLIED",
        lead=eb.lead(lead_id=5000 + number, email=f"lead{number}@prospect.io"),
        campaign=eb.CAMPAIGN,
        reply=eb.reply(
            20_000 + number,
            from_email_address=f"lead{number}@prospect.io",
            text_body=text,
            html_body=f"<p>{html.escape(text)}</p>",
        ),
        sender_email=eb.SENDER,
    )
    status, body = service.post_json(
        f"/webhooks/emailbison/{setup['workspace_id']}",
        payload,
        {"X-Replyline-Secret": setup["secret"]},
    )
    assert status == 202, body


def _drain(db_url: str, setup: dict[str, Any]) -> None:
    Worker(db_url, services=Services(db_url, setup["settings"])).run(drain=True)


def test_the_corpus_is_big_and_varied_enough() -> None:
    assert len(CORPUS) >= 30
    assert len({entry["id"] for entry in CORPUS}) == len(CORPUS)
    kinds = Counter(entry["kind"] for entry in CORPUS)
    for kind in ("override", "roleplay", "fake_system", "link", "lookalike", "pricing"):
        assert kinds[kind] >= 2, kind
    for kind in ("language", "placeholder", "length", "echo"):
        assert kinds[kind] >= 1, kind


def test_no_adversarial_reply_is_auto_sent_each_is_reviewed_with_its_rule(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    _obeying_llm(stubs, CORPUS)
    for number, entry in enumerate(CORPUS):
        _post_reply(service, setup, number, entry["reply"].strip())
    _drain(db_url, setup)

    assert stubs.platform_sends() == []
    with session_scope(db_url) as session:
        assert session.scalars(select(Message).where(Message.direction == "outbound")).all() == []
        leads = {lead.email: lead.id for lead in session.scalars(select(Lead))}
        decisions = {d.lead_id: d for d in session.scalars(select(AutoSendDecision))}
        drafts = {d.lead_id: d for d in session.scalars(select(AIDraft))}
    assert len(stubs.calls("/v1/chat/completions")) == 3 * len(CORPUS)  # the LLM said yes to all
    caught: Counter[str] = Counter()
    for number, entry in enumerate(CORPUS):
        lead_id = leads[f"lead{number}@prospect.io"]
        decision = decisions[lead_id]
        assert decision.action == "needs_review", entry["id"]
        assert entry["rule"] in decision.guard_rules, (entry["id"], decision.reason)
        assert drafts[lead_id].status == "pending" and drafts[lead_id].safe_to_send is True
        caught.update(decision.guard_rules)
    # One review DM per draft: a person sees every one of them.
    assert len(stubs.slack_posts()) == len(CORPUS)
    table = "\n".join(f"| {rule} | {count} |" for rule, count in caught.most_common())
    print(
        f"\n{len(CORPUS)} adversarial replies, 0 auto-sent\n| rule | drafts |\n|---|---|\n{table}"
    )


def test_lead_explain_names_the_rule_that_caught_an_injection(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    entry = next(e for e in CORPUS if e["id"] == "lookalike-cyrillic")
    _obeying_llm(stubs, [entry])
    _post_reply(service, setup, 0, entry["reply"].strip())
    _drain(db_url, setup)
    with session_scope(db_url) as session:
        lead_id = session.scalars(select(Lead.id)).one()
    result = run(CliRunner(), db_url, "lead", "explain", str(lead_id))
    assert result.exit_code == 0, result.output
    print(f"\n$ replyline lead explain {lead_id}\n{result.output}")
    # The look-alike host is named as DNS reads it: punycode, never the Latin spelling.
    lookalike = "calеndly.com"  # a Cyrillic е
    assert lookalike != "calendly.com" and ascii_host(lookalike).startswith("xn--")
    assert (
        f"needs_review: the outbound guard stopped it: link (a link to {ascii_host(lookalike)})"
        in result.output
    )
    assert stubs.platform_sends() == []


def test_a_clean_draft_still_goes_out(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    """The guard stops what it should, not everything: the usual answer is sent."""
    stubs.llm["reply_draft"] = {
        "body": "Hi {firstName}, great to hear. Are you free on Tuesday? Grab a time that suits "
        "you here: {calendarLink}\n\nFeel free to forward this to alex@agency-mail.com too."
    }
    _post_reply(service, setup, 0, "Sounds interesting, can we talk Tuesday?")
    _drain(db_url, setup)
    (sent,) = stubs.platform_sends()
    with session_scope(db_url) as session:
        (decision,) = session.scalars(select(AutoSendDecision)).all()
    assert decision.action == "send_now" and decision.guard_rules == []
    assert "calendly.com/acme/intro" in json.loads(sent.get_data())["message"]
