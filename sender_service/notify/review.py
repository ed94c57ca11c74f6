"""The review DM: one Slack message per draft to the workspace's reviewer, never two.

A notification row (unique `dedupe_key`) is written in the same transaction as the decision;
delivering it is a job. Each attempt is recorded before Slack is called, so when an attempt's
outcome is unknown (a crash after posting), the next one first looks for the earlier post —
by a marker in its text — instead of posting again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from slack_sdk import WebClient
from sqlalchemy import select

from sender_service.db.engine import session_scope
from sender_service.db.models import Notification, Workspace
from sender_service.notify import slack


@dataclass(frozen=True)
class ReviewRequest:
    lead_name: str
    lead_email: str | None
    campaign_name: str | None
    inbound_text: str
    draft_text: str
    confidence: float | None
    reason: str
    lead_url: str
    draft_id: uuid.UUID | None = None  # none: the AI wrote no draft, so nothing to act on


# The DM's buttons and the modals they open; `sender_service.web.slack` reads these back.
APPROVE: Final = "review_approve"
EDIT: Final = "review_edit"
REGENERATE: Final = "review_regenerate"
REJECT: Final = "review_reject"
BODY_BLOCK: Final = "draft_body"
NOTE_BLOCK: Final = "reviewer_note"
TEXT_INPUT: Final = "text"


def _button(label: str, action_id: str, draft_id: uuid.UUID, style: str | None = None) -> Any:
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": str(draft_id),
    }
    return button | ({"style": style} if style else {})


def review_blocks(
    request: ReviewRequest, marker: str, outcome: str | None = None, notice: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """The DM's fallback text and its blocks: lead, reply, draft, confidence, reason, link,
    and the reviewer's buttons — or, once the draft is handled, the `outcome` in their place.
    A `notice` (a new draft was written) shows above the draft.

    Every text from the lead, the LLM or a person's settings is escaped (`slack.escape`)."""
    esc = slack.escape
    confidence = "n/a" if request.confidence is None else f"{request.confidence:.2f}"
    who = esc(request.lead_name) + (
        f" &lt;{esc(request.lead_email)}&gt;" if request.lead_email else ""
    )
    reason = esc(request.reason)
    text = f"Review needed: reply from {who} ({reason}) {marker}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "A reply needs your review"}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Lead*\n{who}"},
                {"type": "mrkdwn", "text": f"*Campaign*\n{esc(request.campaign_name or '—')}"},
                {"type": "mrkdwn", "text": f"*Confidence*\n{confidence}"},
                {"type": "mrkdwn", "text": f"*Why*\n{reason}"},
            ],
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "*Their reply*\n" + slack.quote(request.inbound_text),
            },
        },
    ]
    if notice is not None:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": slack.escape(notice)}]}
        )
    blocks.append(
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "*AI draft (not sent)*\n" + slack.quote(request.draft_text),
            },
        }
    )
    link = {
        "type": "button",
        "text": {"type": "plain_text", "text": "Open the lead"},
        "url": request.lead_url,
    }
    if outcome is not None:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{slack.escape(outcome)}*"}}
        )
        blocks.append({"type": "actions", "elements": [link]})
    elif request.draft_id is None:
        blocks.append({"type": "actions", "elements": [link]})
    else:
        draft = request.draft_id
        buttons = [
            _button("Approve & send", APPROVE, draft, "primary"),
            _button("Edit", EDIT, draft),
            _button("Regenerate", REGENERATE, draft),
            _button("Reject", REJECT, draft, "danger"),
        ]
        # A block_id of its own per draft: Slack asks for a new one when a message is updated.
        blocks.append({"type": "actions", "block_id": f"review:{draft}", "elements": buttons})
        blocks.append({"type": "actions", "elements": [link]})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": marker}]})
    return text, blocks


def _modal(
    callback_id: str, title: str, submit: str, draft_id: uuid.UUID, block: dict[str, Any]
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": str(draft_id),
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [block],
    }


def edit_modal(draft_id: uuid.UUID, body: str) -> dict[str, Any]:
    """The draft in a text field; submitting sends what the field then holds."""
    return _modal(
        EDIT,
        "Edit the reply",
        "Send",
        draft_id,
        {
            "type": "input",
            "block_id": BODY_BLOCK,
            "label": {"type": "plain_text", "text": "Reply to send"},
            "element": {
                "type": "plain_text_input",
                "action_id": TEXT_INPUT,
                "multiline": True,
                "initial_value": body[:3000],
            },
        },
    )


def regenerate_modal(draft_id: uuid.UUID) -> dict[str, Any]:
    """An optional note for the AI's next attempt."""
    return _modal(
        REGENERATE,
        "Regenerate the draft",
        "Regenerate",
        draft_id,
        {
            "type": "input",
            "block_id": NOTE_BLOCK,
            "optional": True,
            "label": {"type": "plain_text", "text": "Note for the AI (optional)"},
            "element": {"type": "plain_text_input", "action_id": TEXT_INPUT, "multiline": True},
        },
    )


def marker_for(notification_id: uuid.UUID) -> str:
    return f"ref:{notification_id}"


def reviewer_user_id(client: WebClient, workspace: Workspace) -> str:
    """The reviewer's Slack id, resolved again whenever the reviewer email has changed."""
    email = workspace.review_slack_email
    if not workspace.review_slack_user_id or workspace.review_slack_user_email != email:
        workspace.review_slack_user_id = slack.lookup_user_id(client, email)
        workspace.review_slack_user_email = email
    return workspace.review_slack_user_id


def deliver(url: str, client: WebClient, notification_id: uuid.UUID, request: ReviewRequest) -> str:
    """Send the DM for `notification_id` unless it went out already; return its ts.

    Raises `slack.SlackError` when Slack fails; the attempt stays on record and a retry will
    first look for a post it may have made.
    """
    with session_scope(url) as session:
        notification = session.execute(
            select(Notification).where(Notification.id == notification_id).with_for_update()
        ).scalar_one()
        if notification.status == "sent" and notification.slack_ts:
            return notification.slack_ts
        workspace = session.get_one(Workspace, notification.workspace_id)
        reviewer = reviewer_user_id(client, workspace)
        if not notification.slack_channel:
            notification.slack_channel = slack.open_dm(client, reviewer)
        channel = notification.slack_channel
        earlier = notification.last_attempt_at
        notification.attempts += 1
        notification.last_attempt_at = datetime.now(UTC)
        # Committed before Slack is called: the attempt is on record whatever happens next.

    marker = marker_for(notification_id)
    ts = None
    if earlier is not None:
        # An earlier attempt may have posted before it died: look before posting again.
        ts = slack.find_message(client, channel, marker, earlier.timestamp() - 5)
    if ts is None:
        text, blocks = review_blocks(request, marker)
        ts = slack.post_message(client, channel, text, blocks)

    with session_scope(url) as session:
        notification = session.get_one(Notification, notification_id)
        notification.status = "sent"
        notification.slack_ts = ts
        notification.sent_at = datetime.now(UTC)
        notification.last_error = None
    return ts
