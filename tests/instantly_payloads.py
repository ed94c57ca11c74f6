"""Instantly webhook bodies as https://developer.instantly.ai/guides/webhook-events documents
them: base fields always, email and reply fields when they apply, lead data as extra keys."""

from __future__ import annotations

from typing import Any

CAMPAIGN_ID = "019ffad2-9c4a-73b2-bd72-f47b348fa012"
LEAD_EMAIL = "dana@prospect.io"
MAILBOX = "alex@agency-mail.com"


def _common(event_type: str) -> dict[str, Any]:
    return {
        "timestamp": "2026-11-29T09:35:01.000Z",
        "event_type": event_type,
        "workspace": "019ffad2-9b9f-79cc-82ca-2b31778b13de",
        "campaign_id": CAMPAIGN_ID,
        "campaign_name": "Spring push",
        "lead_email": LEAD_EMAIL,
        "email_account": MAILBOX,
        # Lead data merged from Instantly's database (names undocumented).
        "firstName": "Dana",
        "lastName": "Reyes",
        "companyName": "Prospect Inc",
        "website": "prospect.io",
    }


def reply_received(email_id: str = "019d9c5f-9685-78bb-9ea7-36a61999b4c3") -> dict[str, Any]:
    text = "Sounds interesting, can we talk Tuesday?"
    return {
        **_common("reply_received"),
        "unibox_url": "https://app.instantly.ai/app/unibox?thread=1",
        "step": 1,
        "variant": 1,
        "is_first": True,
        "email_id": email_id,
        "email_subject": "quick question",
        "reply_text_snippet": text[:20],
        "reply_subject": "Re: quick question",
        "reply_text": text,
        "reply_html": f"<div>{text}</div>",
    }


def email_sent(email_id: str = "019d9c5f-0000-78bb-9ea7-36a61999b400") -> dict[str, Any]:
    return {
        **_common("email_sent"),
        "step": 1,
        "variant": 2,
        "is_first": True,
        "email_id": email_id,
        "email_subject": "quick question",
        "email_text": "Hi Dana, quick question",
        "email_html": "<div>Hi Dana, quick question</div>",
    }


def lead_event(event_type: str) -> dict[str, Any]:
    return {**_common(event_type), "is_first": True}
