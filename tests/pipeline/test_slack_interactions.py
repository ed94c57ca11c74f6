"""The reviewer acts from the review DM: Slack's signed `block_actions` and `view_submission`
payloads over HTTP to `POST /slack/interactions`, the work done by the real worker, Slack and
EmailBison reached through their real clients on the loopback stubs."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select
from werkzeug import Response

from sender_service.credentials import cipher, store_secret
from sender_service.db.engine import session_scope
from sender_service.db.models import AIDraft, Job, Message, User
from sender_service.jobs.worker import Worker
from sender_service.notify import review
from sender_service.services import Services
from sender_service.users import add_member
from sender_service.workspaces import create_workspace
from tests import emailbison_payloads as eb
from tests.service import Service
from tests.slack_payloads import block_actions, signed, view_submission
from tests.stubs import Stubs

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
JON, ANA, EVE = "U-JON", "U-ANA", "U-EVE"


@pytest.fixture
def draft_id(db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs) -> uuid.UUID:
    """A reply the evaluator is unsure of: the reviewer has a DM about its draft."""
    stubs.llm["auto_send_evaluation"] = {
        "confidence": 0.62,
        "safe_to_send": True,
        "reason": "asks about a Tuesday slot",
    }
    stubs.slack_profiles.update(
        {JON: "jon@acme.test", ANA: "Ana@Acme.test", EVE: "eve@elsewhere.test"}
    )
    with session_scope(db_url) as session:
        store_secret(
            session,
            cipher(setup["settings"]),
            setup["workspace_id"],
            "slack_signing_secret",
            SIGNING_SECRET,
        )
        add_member(session, "jon@acme.test", setup["workspace_id"], "setter")
        add_member(session, "ana@acme.test", setup["workspace_id"], "admin")
        add_member(session, "eve@elsewhere.test", setup["workspace_id"], "viewer")
    status, body = service.post_json(
        f"/webhooks/emailbison/{setup['workspace_id']}",
        eb.lead_replied(9001),
        {"X-Replyline-Secret": setup["secret"]},
    )
    assert status in (200, 202), body
    drain(db_url, setup)
    (draft,) = _all(db_url, AIDraft)
    return uuid.UUID(str(draft.id))


def drain(db_url: str, setup: dict[str, Any]) -> None:
    Worker(db_url, services=Services(db_url, setup["settings"])).run(drain=True)
    with session_scope(db_url) as session:
        stuck = session.execute(select(Job.kind, Job.last_error).where(Job.status != "done")).all()
    assert stuck == []


def _all(db_url: str, model: Any, *where: Any) -> list[Any]:
    with session_scope(db_url) as session:
        return list(session.execute(select(model).where(*where)).scalars())


def outbound(db_url: str) -> list[Message]:
    return _all(db_url, Message, Message.direction == "outbound")


def user_id(db_url: str, email: str) -> uuid.UUID:
    (user,) = _all(db_url, User, User.email == email)
    return uuid.UUID(str(user.id))


def interact(
    service: Service, payload: dict[str, Any], *, secret: str = SIGNING_SECRET, **headers: str
) -> tuple[int, dict[str, Any]]:
    body, signed_headers = signed(payload, secret)
    return service.request("POST", "/slack/interactions", body, {**signed_headers, **headers})


def click(service: Service, user: str, action_id: str, draft: uuid.UUID) -> None:
    started = time.monotonic()
    status, _ = interact(service, block_actions(user, action_id, str(draft)))
    assert status == 200
    assert time.monotonic() - started < 3  # Slack's deadline for the answer


def test_the_dm_carries_the_four_buttons(draft_id: uuid.UUID, stubs: Stubs) -> None:
    (dm,) = stubs.slack_posts()
    blocks = dm["blocks"] if isinstance(dm["blocks"], list) else json.loads(dm["blocks"])
    buttons = {
        element["action_id"]: element["value"]
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if "action_id" in element
    }
    assert buttons == {
        review.APPROVE: str(draft_id),
        review.EDIT: str(draft_id),
        review.REGENERATE: str(draft_id),
        review.REJECT: str(draft_id),
    }


def test_approve_sends_once_and_updates_the_dm(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs, draft_id: uuid.UUID
) -> None:
    payload = block_actions(JON, review.APPROVE, str(draft_id))
    assert interact(service, payload)[0] == 200
    # Slack retrying the same delivery queues nothing more.
    assert interact(service, payload, **{"X-Slack-Retry-Num": "1"})[0] == 200
    drain(db_url, setup)

    (sent,) = outbound(db_url)
    assert len(stubs.platform_sends()) == 1
    assert (sent.sent_by, sent.sent_by_user_id, sent.ai_draft_id) == (
        "setter",
        user_id(db_url, "jon@acme.test"),
        draft_id,
    )
    (update,) = stubs.slack_calls("chat.update")
    assert (update["channel"], update["ts"]) == ("D-REVIEW", "1700000000.000200")
    blocks = json.dumps(update["blocks"])
    assert "Sent by jon@acme.test at " in blocks
    assert review.APPROVE not in blocks  # the buttons are gone
    assert "Hi Dana, great to hear" in blocks  # the same DM, the outcome added
    assert stubs.slack_calls("chat.postEphemeral") == []


def test_two_approvals_racing_send_once_and_the_second_is_told(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs, draft_id: uuid.UUID
) -> None:
    stubs.eb_latency = 0.5  # the first send is still in flight when the second claims
    click(service, JON, review.APPROVE, draft_id)
    click(service, ANA, review.APPROVE, draft_id)
    workers = [Worker(db_url, services=Services(db_url, setup["settings"])) for _ in range(2)]
    threads = [threading.Thread(target=w.run, kwargs={"drain": True}) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    drain(db_url, setup)

    assert len(stubs.platform_sends()) == 1
    (sent,) = outbound(db_url)
    winner = "jon@acme.test" if sent.sent_by_user_id == user_id(db_url, "jon@acme.test") else None
    winner = winner or "ana@acme.test"
    loser = ANA if winner == "jon@acme.test" else JON
    (update,) = stubs.slack_calls("chat.update")
    assert f"Sent by {winner}" in json.dumps(update["blocks"])
    (told,) = stubs.slack_calls("chat.postEphemeral")
    assert told["user"] == loser and told["channel"] == "D-REVIEW"
    assert f"Sent by {winner}" in told["text"] and "Nothing more was done" in told["text"]


def test_a_bad_or_stale_signature_is_refused_unparsed(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs, draft_id: uuid.UUID
) -> None:
    approve = block_actions(JON, review.APPROVE, str(draft_id))
    unauthorized = (401, {"error": "invalid Slack signature"})

    # Six minutes old, correctly signed: refused before a byte of the body is read.
    body, headers = signed(approve, SIGNING_SECRET, at=time.time() - 6 * 60)
    before = service.bytes_read[0]
    assert service.request("POST", "/slack/interactions", body, headers) == unauthorized
    assert service.bytes_read[0] == before

    # Signed with another secret: refused; a body that is not even a payload gets the same
    # answer, not a 400, so it was never parsed.
    body, headers = signed(approve, "not-the-secret")
    assert service.request("POST", "/slack/interactions", body, headers) == unauthorized
    garbage = b"payload=%7Bnot json"
    _, headers = signed(approve, "not-the-secret")
    assert service.request("POST", "/slack/interactions", garbage, headers) == unauthorized
    # The right signature over a body that was changed after signing.
    body, headers = signed(approve, SIGNING_SECRET)
    tampered = body.replace(str(draft_id).encode(), str(uuid.uuid4()).encode())
    assert service.request("POST", "/slack/interactions", tampered, headers) == unauthorized
    unsigned = {k: v for k, v in headers.items() if k != "X-Slack-Signature"}
    assert service.request("POST", "/slack/interactions", body, unsigned) == unauthorized

    assert _all(db_url, Job, Job.kind == "review_from_slack") == []
    drain(db_url, setup)
    assert outbound(db_url) == [] and stubs.slack_calls("chat.update") == []
    # The same garbage, correctly signed, is a 400 naming the problem.
    _, headers = signed(approve, SIGNING_SECRET)
    garbage_headers = dict(headers)
    timestamp = garbage_headers["X-Slack-Request-Timestamp"]
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(
        timestamp=timestamp, body=garbage.decode()
    )
    assert signature is not None
    garbage_headers["X-Slack-Signature"] = signature
    status, answer = service.request("POST", "/slack/interactions", garbage, garbage_headers)
    assert status == 400 and "payload" in answer["error"]


def test_edit_in_the_modal_sends_the_edited_text(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs, draft_id: uuid.UUID
) -> None:
    click(service, JON, review.EDIT, draft_id)
    (opened,) = stubs.slack_calls("views.open")
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    assert view["private_metadata"] == str(draft_id)
    field = view["blocks"][0]["element"]
    assert field["initial_value"].startswith("Hi Dana, great to hear")

    empty = view_submission(
        JON, review.EDIT, str(draft_id), {review.BODY_BLOCK: {review.TEXT_INPUT: {"value": " "}}}
    )
    status, answer = interact(service, empty)
    assert (status, answer["response_action"]) == (200, "errors")
    assert review.BODY_BLOCK in answer["errors"]

    edited = "Hi Dana, Tuesday 10am works. The invite is on its way."
    submitted = view_submission(
        JON,
        review.EDIT,
        str(draft_id),
        {review.BODY_BLOCK: {review.TEXT_INPUT: {"type": "plain_text_input", "value": edited}}},
    )
    assert interact(service, submitted)[0] == 200
    drain(db_url, setup)

    (sent,) = outbound(db_url)
    (draft,) = _all(db_url, AIDraft)
    assert sent.body == edited and draft.body != edited and draft.status == "sent"
    assert (sent.sent_by, sent.sent_by_user_id) == ("setter", user_id(db_url, "jon@acme.test"))
    (update,) = stubs.slack_calls("chat.update")
    assert "Sent (edited) by jon@acme.test" in json.dumps(update["blocks"])


def test_reject_from_slack_and_a_late_approval_is_told(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs, draft_id: uuid.UUID
) -> None:
    click(service, ANA, review.REJECT, draft_id)
    drain(db_url, setup)
    click(service, JON, review.APPROVE, draft_id)
    drain(db_url, setup)

    assert outbound(db_url) == [] and stubs.platform_sends() == []
    (draft,) = _all(db_url, AIDraft)
    assert (draft.status, draft.reviewed_by_user_id) == (
        "rejected",
        user_id(db_url, "ana@acme.test"),
    )
    (update,) = stubs.slack_calls("chat.update")
    assert "Rejected by ana@acme.test" in json.dumps(update["blocks"])
    (told,) = stubs.slack_calls("chat.postEphemeral")
    assert told["user"] == JON and "Rejected by ana@acme.test" in told["text"]


@pytest.mark.parametrize("slack_user", [EVE, "U-STRANGER"], ids=["viewer", "no such member"])
def test_a_slack_user_who_may_not_send_is_refused(
    db_url: str,
    setup: dict[str, Any],
    service: Service,
    stubs: Stubs,
    draft_id: uuid.UUID,
    slack_user: str,
) -> None:
    click(service, slack_user, review.APPROVE, draft_id)
    drain(db_url, setup)
    assert outbound(db_url) == [] and stubs.platform_sends() == []
    (told,) = stubs.slack_calls("chat.postEphemeral")
    assert told["user"] == slack_user and "Nothing was done" in told["text"]
    assert stubs.slack_calls("chat.update") == []
    (draft,) = _all(db_url, AIDraft)
    assert draft.status == "pending"


def test_a_payload_for_another_workspaces_draft_is_refused(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs, draft_id: uuid.UUID
) -> None:
    with session_scope(db_url) as session:
        other, _ = create_workspace(session, name="Other", booking_provider="GHL")
        store_secret(
            session, cipher(setup["settings"]), other.id, "slack_signing_secret", "other-secret"
        )
    payload = block_actions(JON, review.APPROVE, str(draft_id))
    status, answer = interact(service, payload, secret="other-secret")
    assert (status, answer["error"]) == (404, "no such draft")
    status, answer = interact(service, block_actions(JON, review.APPROVE, "not-a-draft"))
    assert status == 400 and "draft" in answer["error"]
    # The DM's "Open the lead" link button: Slack reports the click, there is nothing to do.
    link_click = block_actions(JON, "open-the-lead", "")
    link_click["actions"][0].pop("value")
    assert interact(service, link_click) == (200, {})
    assert _all(db_url, Job, Job.kind == "review_from_slack") == []


def _buttons(blocks: list[dict[str, Any]]) -> dict[str, str]:
    return {
        element["action_id"]: element["value"]
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if "action_id" in element
    }


def test_regenerate_writes_a_new_version_with_the_note_and_a_new_dm_block(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs, draft_id: uuid.UUID
) -> None:
    click(service, JON, review.REGENERATE, draft_id)
    (opened,) = stubs.slack_calls("views.open")
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    assert (view["callback_id"], view["private_metadata"]) == (review.REGENERATE, str(draft_id))

    stubs.llm["reply_draft"] = {"body": "Hi {firstName}, Tuesday at 10am works: {calendarLink}"}
    note = "Confirm Tuesday 10am, they asked for it"
    values = {review.NOTE_BLOCK: {review.TEXT_INPUT: {"type": "plain_text_input", "value": note}}}
    assert (
        interact(service, view_submission(JON, review.REGENERATE, str(draft_id), values))[0] == 200
    )
    drain(db_url, setup)

    first, second = sorted(_all(db_url, AIDraft), key=lambda d: d.created_at)
    assert first.id == draft_id and first.status == "superseded"
    assert first.reviewed_by_user_id == user_id(db_url, "jon@acme.test")
    assert (second.previous_draft_id, second.status) == (draft_id, "pending")
    assert second.body.startswith("Hi Dana, Tuesday at 10am works: https://calendly.com/acme")
    asked = json.loads(stubs.calls("/v1/chat/completions")[-1].get_data())
    assert asked["response_format"]["json_schema"]["name"] == "reply_draft"
    system, user = asked["messages"]
    assert note in system["content"]
    assert json.loads(user["content"])["previous_draft"] == first.body

    (update,) = stubs.slack_calls("chat.update")
    assert "Regenerated by jon@acme.test at " in json.dumps(update["blocks"])
    assert "Tuesday at 10am works" in json.dumps(update["blocks"])
    assert set(_buttons(update["blocks"]).values()) == {str(second.id)}
    assert outbound(db_url) == []

    # The old buttons are dead; the new ones send the new version.
    click(service, ANA, review.APPROVE, draft_id)
    click(service, JON, review.APPROVE, second.id)
    drain(db_url, setup)
    (sent,) = outbound(db_url)
    assert sent.ai_draft_id == second.id and "Tuesday at 10am" in sent.body
    (told,) = stubs.slack_calls("chat.postEphemeral")
    assert told["user"] == ANA and "Regenerated by jon@acme.test" in told["text"]
    assert "Sent by jon@acme.test" in json.dumps(stubs.slack_calls("chat.update")[-1]["blocks"])


def test_regenerate_when_the_llm_fails_keeps_the_draft(
    db_url: str, setup: dict[str, Any], service: Service, stubs: Stubs, draft_id: uuid.UUID
) -> None:
    stubs.llm_fault = lambda _req: Response("upstream down", status=503)
    values = {review.NOTE_BLOCK: {review.TEXT_INPUT: {"type": "plain_text_input", "value": None}}}
    assert (
        interact(service, view_submission(JON, review.REGENERATE, str(draft_id), values))[0] == 200
    )
    drain(db_url, setup)
    (draft,) = _all(db_url, AIDraft)
    assert draft.status == "pending"
    (told,) = stubs.slack_calls("chat.postEphemeral")
    assert told["user"] == JON and "could not write a new draft" in told["text"]
    assert stubs.slack_calls("chat.update") == []
