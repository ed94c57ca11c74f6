"""EmailBison webhook bodies as the platform sends them (integer ids, nested objects)."""

from __future__ import annotations

from typing import Any


def lead(lead_id: int = 501, email: str = "dana@prospect.io") -> dict[str, Any]:
    return {
        "id": lead_id,
        "email": email,
        "first_name": "Dana",
        "last_name": "Reyes",
        "company": "Prospect Inc",
        "title": "VP Sales",
        "status": "active",
        "custom_variables": [
            {"name": "Industry", "value": "SaaS"},
            {"name": "HEADCOUNT", "value": "51-200"},
            {"name": "website", "value": "prospect.io"},
        ],
    }


def reply(reply_id: int = 9001, **overrides: Any) -> dict[str, Any]:
    return {
        "id": reply_id,
        "uuid": f"uuid-{reply_id}",
        "email_subject": "Re: quick question",
        "from_email_address": "dana@prospect.io",
        "from_name": "Dana Reyes",
        "text_body": "Sounds interesting, can we talk Tuesday?",
        "html_body": "<p>Sounds interesting, can we talk Tuesday?</p>",
        "date_received": "2025-03-04T15:20:00+00:00",
        "automated_reply": False,
        **overrides,
    }


CAMPAIGN = {"id": 77, "name": "Spring push"}
SENDER = {"id": 12, "email": "alex@agency-mail.com"}


def event(event_type: str, **data: Any) -> dict[str, Any]:
    return {
        "event": {"type": event_type, "name": event_type.title(), "workspace_id": 3},
        "data": data,
    }


def lead_replied(reply_id: int = 9001, event_type: str = "LEAD_REPLIED") -> dict[str, Any]:
    return event(
        event_type, lead=lead(), campaign=CAMPAIGN, reply=reply(reply_id), sender_email=SENDER
    )


def untracked(reply_id: int = 9100, sender: str = "dana@prospect.io") -> dict[str, Any]:
    return event(
        "UNTRACKED_REPLY_RECEIVED",
        reply=reply(reply_id, from_email_address=sender),
        sender_email=SENDER,
    )


def email_sent(email_id: int = 9001) -> dict[str, Any]:
    return event(
        "EMAIL_SENT",
        lead=lead(),
        campaign=CAMPAIGN,
        sender_email=SENDER,
        scheduled_email={
            "id": email_id,
            "email_subject": "quick question",
            "email_body": "Hi Dana, ...",
            "sent_at": "2025-03-01T09:00:00+00:00",
        },
    )


def manual_sent(reply_id: int = 9500) -> dict[str, Any]:
    return event(
        "MANUAL_EMAIL_SENT",
        lead=lead(),
        campaign=CAMPAIGN,
        sender_email=SENDER,
        reply=reply(
            reply_id,
            from_email_address=SENDER["email"],
            text_body="Tuesday 10am works, invite sent.",
        ),
    )


def lead_only(event_type: str) -> dict[str, Any]:
    return event(event_type, lead=lead(), campaign=CAMPAIGN)
