"""Issue 15's send-path edges end to end: webhook over HTTP → real worker → LLM, Slack and
EmailBison through their real clients on loopback stubs; the setter API over HTTP; the review
queue through the pages; `replyline lead explain` and `sends unknown` through the CLI."""

from __future__ import annotations

import json
import threading
import uuid
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import update
from werkzeug import Request, Response

from sender_service.api_tokens import issue_token
from sender_service.app import create_app
from sender_service.db.engine import session_scope
from sender_service.db.models import (
    AIDraft,
    AutoSendDecision,
    Lead,
    Message,
    Notification,
    Workspace,
)
from sender_service.jobs.worker import Worker
from sender_service.passwords import set_password
from sender_service.services import Services
from sender_service.users import add_member
from tests import emailbison_payloads as eb
from tests.cli_helpers import ok_json, run
from tests.pipeline.test_faults import (
    now_iso,
    post,
    reply_from,
    rows,
    run_until_settled,
    set_campaign,
    wait_for,
)
from tests.service import Service
from tests.stubs import Stubs
from tests.test_sign_in import PASSWORD, _sign_in


def drain(db_url: str, setup: dict[str, Any]) -> None:
    Worker(db_url, services=Services(db_url, setup["settings"])).run(drain=True)


def outbound(db_url: str) -> list[Message]:
    return rows(db_url, Message, Message.direction == "outbound")


def decisions(db_url: str, action: str) -> list[str]:
    found = rows(db_url, AutoSendDecision, AutoSendDecision.action == action)
    return [d.reason for d in sorted(found, key=lambda d: d.decided_at)]


def dm_text(stubs: Stubs) -> str:
    (dm,) = stubs.slack_posts()
    return str(dm["text"]) + json.dumps(dm["blocks"], ensure_ascii=False)


def explain(db_url: str) -> str:
    (lead,) = rows(db_url, Lead)
    result = run(CliRunner(), db_url, "lead", "explain", str(lead.id))
    assert result.exit_code == 0, result.output
    print(f"\n$ replyline lead explain {lead.id}\n{result.output}")  # the transcript, with -s
    return result.output


def token(db_url: str, workspace_id: uuid.UUID, role: str, email: str) -> str:
    with session_scope(db_url) as session:
        user = add_member(session, email, workspace_id, role)[0]
        return issue_token(session, user)[1]


def setter_auth(db_url: str, setup: dict[str, Any]) -> dict[str, str]:
    bearer = token(db_url, setup["workspace_id"], "setter", "sam@acme.test")
    return {"Authorization": f"Bearer {bearer}"}


def review_page(db_url: str, setup: dict[str, Any]) -> str:
    """The review queue as a signed-in setter sees it."""
    email = f"rita-{uuid.uuid4().hex[:6]}@acme.test"
    with session_scope(db_url) as session:
        user = add_member(session, email, setup["workspace_id"], "setter")[0]
        set_password(session, user, PASSWORD)
    app = create_app({"DATABASE_URL": db_url, "SETTINGS": setup["settings"]})
    client: FlaskClient = app.test_client()
    assert _sign_in(client, email).status_code == 302
    return client.get("/review").get_data(as_text=True)


# --- the gate's comparison -------------------------------------------------------------


def test_confidence_just_below_the_threshold_is_reviewed_and_says_so_exactly(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    stubs.llm["auto_send_evaluation"] = {
        "confidence": 0.8996,
        "safe_to_send": True,
        "reason": "fine",
    }
    post(service, setup, eb.lead_replied(9001))
    drain(db_url, setup)
    assert stubs.platform_sends() == [] and outbound(db_url) == []
    (reason,) = decisions(db_url, "needs_review")
    assert reason == "confidence 0.8996 below threshold 0.90: fine"
    (draft,) = rows(db_url, AIDraft)
    assert draft.confidence == Decimal("0.899")  # stored rounded down, never up to 0.900
    assert "0.8996 below threshold 0.90" in dm_text(stubs)


# --- the send-time re-check --------------------------------------------------------------

CHANGES: dict[str, tuple[dict[str, Any], str, bool]] = {
    # change made while the send waits → the reason recorded, and whether the reviewer is DMed
    "switched to SETTER_MANAGED": (
        {"response_mode": "SETTER_MANAGED"},
        "the campaign is now SETTER_MANAGED",
        False,
    ),
    "threshold raised": (
        {"auto_send_confidence_threshold": Decimal("0.99")},
        "confidence 0.96 below threshold 0.99",
        True,
    ),
    "campaign archived": ({"archived": True}, "the campaign is archived", False),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_delayed_send_rechecks_every_rule_with_the_campaign_as_it_is_at_send_time(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs, change: str
) -> None:
    values, reason, dm = CHANGES[change]
    set_campaign(db_url, send_delay_min_seconds=4, send_delay_max_seconds=4)
    post(service, setup, reply_from(0))
    drain(db_url, setup)
    (draft,) = rows(db_url, AIDraft)
    assert draft.status == "scheduled"
    set_campaign(db_url, **values)
    run_until_settled(db_url, setup)

    assert stubs.platform_sends() == [] and outbound(db_url) == []
    (draft,) = rows(db_url, AIDraft)
    assert draft.status == "pending"  # waits for a setter
    (held,) = decisions(db_url, "needs_review")
    assert held.startswith("re-checked before sending: " + reason)
    assert held.endswith("the draft waits for a setter")
    assert len(stubs.slack_posts()) == (1 if dm else 0)
    assert str(draft.id) in review_page(db_url, setup)
    if change == "switched to SETTER_MANAGED":
        timeline = explain(db_url)
        assert "send_later for" in timeline
        assert "needs_review: re-checked before sending: the campaign is now SETTER_MANAGED" in (
            timeline
        )
        assert "[SETTER_MANAGED, threshold 0.900]" in timeline


def test_a_delayed_send_with_the_kill_switch_flipped_waits_on_the_review_queue(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    set_campaign(db_url, send_delay_min_seconds=4, send_delay_max_seconds=4)
    post(service, setup, reply_from(0))
    drain(db_url, setup)
    with session_scope(db_url) as session:
        session.execute(update(Workspace).values(auto_send_enabled=False))
    run_until_settled(db_url, setup)
    assert stubs.platform_sends() == [] and stubs.slack_posts() == []
    (draft,) = rows(db_url, AIDraft)
    assert draft.status == "pending"
    assert str(draft.id) in review_page(db_url, setup)


# --- the reviewer's Slack id --------------------------------------------------------------


def test_a_new_reviewer_email_is_resolved_again_and_dmed(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    stubs.slack_users = {"jon@acme.test": "U-JON", "kim@acme.test": "U-KIM"}
    stubs.llm["auto_send_evaluation"] = {"confidence": 0.5, "safe_to_send": True, "reason": "?"}
    post(service, setup, reply_from(0))
    drain(db_url, setup)
    result = run(
        CliRunner(),
        db_url,
        "workspace",
        "update",
        "--workspace",
        str(setup["workspace_id"]),
        "--review-slack-email",
        "kim@acme.test",
    )
    assert result.exit_code == 0, result.output
    post(service, setup, reply_from(1))
    drain(db_url, setup)

    looked_up = [r.form.get("email") for r in stubs.calls("users.lookupByEmail")]
    assert looked_up == ["jon@acme.test", "kim@acme.test"]
    opened = [r.form.get("users") for r in stubs.calls("conversations.open")]
    assert opened == ["U-JON", "U-KIM"]
    assert len(stubs.slack_posts()) == 2


# --- a setter's send of unknown outcome -------------------------------------------------


def test_a_setters_unknown_send_in_a_setter_managed_campaign_is_told_to_that_setter(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    set_campaign(db_url, response_mode="SETTER_MANAGED")
    post(service, setup, eb.lead_replied(9001))
    drain(db_url, setup)
    (draft,) = rows(db_url, AIDraft)
    stubs.eb_fault = lambda _req: Response("boom", status=500)  # may or may not have sent
    auth = {
        "Authorization": f"Bearer {token(db_url, setup['workspace_id'], 'setter', 'sam@acme.test')}"
    }
    status, body = service.request("POST", f"/api/drafts/{draft.id}/send", headers=auth)
    assert (status, body["status"]) == (502, "unknown")
    drain(db_url, setup)  # reconciliation: not in the thread, so a person must look

    assert stubs.slack_posts() == [] and rows(db_url, Notification) == []
    (sent,) = outbound(db_url)
    assert sent.delivery_status == "unknown"
    (listed,) = ok_json(run(CliRunner(), db_url, "sends", "unknown", "--json"))
    assert (listed["sent_by_user"], listed["told"]) == (
        "sam@acme.test",
        "sam@acme.test in the review queue",
    )
    page = review_page(db_url, setup)
    assert str(draft.id) in page and 'data-testid="unknown-send"' in page
    assert "sam@acme.test sent this" in page
    assert len(stubs.platform_sends()) == 1


# --- opt-outs, Follow Up and untracked replies ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("Please take me off your list.", "take me off"),
        ("Por favor, dénme de baja de esta lista.", "denme de baja"),
        ("Merci de me désinscrire, je ne suis pas intéressé.", "desinscrire"),
        ("Bitte nehmen Sie mich aus dem Verteiler, kein Interesse.", "nehmen sie mich"),
        ("Não tenho interesse, obrigado.", "nao tenho interesse"),
    ],
)
def test_an_opt_out_is_never_auto_sent_whatever_the_llm_says(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs, text: str, phrase: str
) -> None:
    stubs.llm["sentiment_classification"] = {"sentiment": "Interested", "confidence": 0.99}
    stubs.llm["auto_send_evaluation"] = {"confidence": 0.99, "safe_to_send": True, "reason": "ok"}
    payload = eb.lead_replied(9001)
    payload["data"]["reply"]["text_body"] = text
    post(service, setup, payload)
    drain(db_url, setup)

    assert stubs.platform_sends() == [] and outbound(db_url) == []
    (reason,) = decisions(db_url, "needs_review")
    assert reason.startswith(f'the reply reads as an opt-out ("{phrase}"')
    assert "opt-out" in dm_text(stubs)
    # The evaluator was never asked: no LLM score can let it through.
    asked = [
        json.loads(r.get_data())["response_format"]["json_schema"]["name"]
        for r in stubs.calls("/v1/")
    ]
    assert "auto_send_evaluation" not in asked
    (draft,) = rows(db_url, AIDraft)
    assert str(draft.id) in review_page(db_url, setup)
    if phrase == "take me off":
        assert "needs_review: the reply reads as an opt-out" in explain(db_url)


def test_an_opt_out_in_a_setter_managed_campaign_is_on_record_without_a_dm(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    set_campaign(db_url, response_mode="SETTER_MANAGED")
    payload = eb.lead_replied(9001)
    payload["data"]["reply"]["text_body"] = "Unsubscribe."
    post(service, setup, payload)
    drain(db_url, setup)
    (reason,) = decisions(db_url, "needs_review")
    assert "opt-out" in reason
    assert stubs.slack_posts() == [] and outbound(db_url) == []
    assert "opt-out" in review_page(db_url, setup)


@pytest.mark.parametrize("mode", ["AI_AUTO_SEND", "SETTER_MANAGED"])
def test_a_follow_up_reply_gets_a_draft_that_is_never_auto_sent(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs, mode: str
) -> None:
    set_campaign(db_url, response_mode=mode)
    stubs.llm["sentiment_classification"] = {"sentiment": "Follow Up", "confidence": 0.97}
    payload = eb.lead_replied(9001)
    payload["data"]["reply"]["text_body"] = "Busy right now, reach out next quarter."
    post(service, setup, payload)
    drain(db_url, setup)

    (draft,) = rows(db_url, AIDraft)
    assert draft.status == "pending"
    assert stubs.platform_sends() == [] and outbound(db_url) == []
    if mode == "AI_AUTO_SEND":
        (reason,) = decisions(db_url, "needs_review")
        assert "Follow Up reply gets a draft for a person" in reason
        assert "only positive replies auto-send" in dm_text(stubs)
    else:
        assert stubs.slack_posts() == [] and rows(db_url, AutoSendDecision) == []
    assert str(draft.id) in review_page(db_url, setup)


def test_a_positive_untracked_reply_in_an_auto_send_campaign_goes_to_the_reviewer(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    post(service, setup, eb.email_sent())  # the campaign's email: the lead is known
    post(service, setup, eb.untracked(sender="dana@prospect.io"))
    drain(db_url, setup)

    assert stubs.platform_sends() == []
    assert [m.sent_by for m in outbound(db_url)] == ["campaign"]  # only the campaign's email
    (reason,) = decisions(db_url, "needs_review")
    assert reason == "an untracked reply (matched to the lead by email) is answered by a person"
    assert "untracked reply" in dm_text(stubs)
    (draft,) = rows(db_url, AIDraft)
    assert draft.status == "pending"
    assert str(draft.id) in review_page(db_url, setup)


# --- reject vs send, and the platform's echo ------------------------------------------


def test_a_reject_that_loses_the_race_with_a_send_answers_409_being_sent(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    set_campaign(db_url, response_mode="SETTER_MANAGED")
    post(service, setup, eb.lead_replied(9001))
    drain(db_url, setup)
    (draft,) = rows(db_url, AIDraft)
    stubs.eb_latency = 1.5  # the send is in flight this long
    auth = {
        "Authorization": f"Bearer {token(db_url, setup['workspace_id'], 'setter', 'sam@acme.test')}"
    }
    sent: list[tuple[int, dict[str, Any]]] = []
    sender = threading.Thread(
        target=lambda: sent.append(
            service.request("POST", f"/api/drafts/{draft.id}/send", headers=auth)
        )
    )
    sender.start()
    wait_for(lambda: bool(outbound(db_url)), 5)  # claimed, the platform not yet answered
    status, body = service.request("POST", f"/api/drafts/{draft.id}/reject", headers=auth)
    sender.join(10)

    assert (status, body["error"], body["status"]) == (
        409,
        "the draft is already being sent",
        "being_sent",
    )
    assert sent[0][0] == 200 and sent[0][1]["status"] == "sent"
    (draft,) = rows(db_url, AIDraft)
    assert draft.status == "sent"  # what won is what happened
    assert len(stubs.platform_sends()) == 1


def test_a_reject_that_wins_stops_the_send(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    set_campaign(db_url, response_mode="SETTER_MANAGED")
    post(service, setup, eb.lead_replied(9001))
    drain(db_url, setup)
    (draft,) = rows(db_url, AIDraft)
    auth = {
        "Authorization": f"Bearer {token(db_url, setup['workspace_id'], 'setter', 'sam@acme.test')}"
    }
    assert service.request("POST", f"/api/drafts/{draft.id}/reject", headers=auth)[0] == 200
    status, body = service.request("POST", f"/api/drafts/{draft.id}/send", headers=auth)
    assert (status, body["status"]) == (409, "already_handled")
    assert stubs.platform_sends() == [] and rows(db_url, AIDraft)[0].status == "rejected"


def test_our_send_recorded_after_its_echo_is_sent_not_a_500(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    set_campaign(db_url, response_mode="SETTER_MANAGED")
    post(service, setup, eb.lead_replied(9001))
    drain(db_url, setup)
    (draft,) = rows(db_url, AIDraft)

    def echo_first(_req: Request) -> Response | None:
        # The platform's webhook for the reply it is about to accept lands before its answer.
        echo = eb.manual_sent(stubs.next_reply_id + 1)
        echo["data"]["reply"]["date_received"] = now_iso()
        post(service, setup, echo)
        return None

    stubs.eb_fault = echo_first
    auth = {
        "Authorization": f"Bearer {token(db_url, setup['workspace_id'], 'setter', 'sam@acme.test')}"
    }
    status, body = service.request("POST", f"/api/drafts/{draft.id}/send", headers=auth)
    assert (status, body["status"]) == (200, "sent")
    ours = [m for m in outbound(db_url) if m.ai_draft_id == draft.id]
    assert [m.delivery_status for m in ours] == ["sent"]
    echo = [m for m in outbound(db_url) if m.ai_draft_id is None]
    assert [m.external_id for m in echo] == [str(stubs.next_reply_id)]
    assert rows(db_url, AIDraft)[0].status == "sent"
    assert rows(db_url, Message, Message.delivery_status.in_(("claimed", "unknown"))) == []
    assert len(stubs.platform_sends()) == 1


# --- Slack mrkdwn ---------------------------------------------------------------------------


def test_a_reply_cannot_plant_links_or_mentions_in_the_reviewers_dm(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs
) -> None:
    stubs.llm["auto_send_evaluation"] = {
        "confidence": 0.4,
        "safe_to_send": True,
        "reason": "<!channel>",
    }
    payload = eb.lead_replied(9001)
    payload["data"]["reply"]["text_body"] = (
        "<!here> urgent: <https://evil.test|https://app.replyline.test/login> & thanks"
    )
    payload["data"]["lead"]["first_name"] = "<@U999>"
    post(service, setup, payload)
    drain(db_url, setup)
    text = dm_text(stubs)
    for planted in ("<!here>", "<https://evil", "<!channel>", "<@U999>"):
        assert planted not in text
    assert (
        "&lt;!here&gt; urgent: &lt;https://evil.test|https://app.replyline.test/login&gt; "
        "&amp; thanks" in text
    )
    assert "&lt;@U999&gt;" in text and "&lt;!channel&gt;" in text


def test_slack_escape_and_the_report_summary() -> None:
    from sender_service.notify.report_post import WeekNumbers, summary
    from sender_service.notify.slack import escape

    assert escape("a & <b> <!here>") == "a &amp; &lt;b&gt; &lt;!here&gt;"
    text = summary("Acme <!channel> & co", "2026-W48", WeekNumbers(1, 2, 3, 4, 5), None)
    assert "Acme &lt;!channel&gt; &amp; co" in text and "<!channel>" not in text
