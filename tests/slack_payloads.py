"""Slack interaction payloads as Slack sends them (docs.slack.dev, "block_actions payload"
and "View interaction payloads"), form-encoded as `payload=<json>` and signed with the
app's signing secret through slack_sdk's own `SignatureVerifier`."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

TEAM = {"id": "T-ACME", "domain": "acme-agency"}


def _user(user_id: str) -> dict[str, Any]:
    return {"id": user_id, "username": "reviewer", "name": "reviewer", "team_id": "T-ACME"}


def block_actions(
    user_id: str, action_id: str, value: str, *, channel: str = "D-REVIEW", action_ts: str = ""
) -> dict[str, Any]:
    """A button click in the review DM."""
    return {
        "type": "block_actions",
        "user": _user(user_id),
        "api_app_id": "A-REPLYLINE",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": "1700000000.000200",
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": f"{uuid.uuid4().int % 10**12}.1.{uuid.uuid4().hex[:16]}",
        "team": TEAM,
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "directmessage"},
        "message": {"type": "message", "ts": "1700000000.000200", "text": "Review needed"},
        "state": {"values": {}},
        "response_url": "https://hooks.slack.com/actions/T-ACME/1/abc",
        "actions": [
            {
                "action_id": action_id,
                "block_id": f"review:{value}",
                "text": {"type": "plain_text", "text": "Approve & send", "emoji": True},
                "value": value,
                "style": "primary",
                "type": "button",
                "action_ts": action_ts or f"{time.time():.6f}",
            }
        ],
    }


def view_submission(
    user_id: str, callback_id: str, private_metadata: str, values: dict[str, Any]
) -> dict[str, Any]:
    """A modal submitted; `values` is `view.state.values` (block id → action id → input)."""
    return {
        "type": "view_submission",
        "team": TEAM,
        "user": _user(user_id),
        "api_app_id": "A-REPLYLINE",
        "token": "legacy-verification-token",
        "trigger_id": "12345.98765.abcd2358fdea",
        "view": {
            "id": f"V{uuid.uuid4().hex[:10].upper()}",
            "team_id": "T-ACME",
            "type": "modal",
            "blocks": [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": values},
            "hash": "156772938.1827394",
            "title": {"type": "plain_text", "text": "Edit the reply"},
            "root_view_id": "VNHU13V36",
            "app_id": "A-REPLYLINE",
            "bot_id": "B-BOT",
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def signed(
    payload: dict[str, Any], secret: str, *, at: float | None = None
) -> tuple[bytes, dict[str, str]]:
    """The request body and headers Slack sends for `payload`, signed at `at` (default now)."""
    body = urlencode({"payload": json.dumps(payload)})
    timestamp = str(int(time.time() if at is None else at))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    assert signature is not None
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }
    return body.encode(), headers
