"""Smartlead webhook bodies as its webhook reference documents them (flat objects, integer
campaign ids, string lead ids, deprecated fields alongside their replacements).

Pages: https://help.smartlead.ai/Threaded-Replies-ff92a607c93645b7b1568d8219218423 (EMAIL_REPLY),
https://help.smartlead.ai/Email-Sent-d178e38d71a24e24a92383b7222d46c2 (EMAIL_SENT),
https://help.smartlead.ai/Email-Bounce-3c44b5bd92234b02ba2c9e42542b0e9a (EMAIL_BOUNCE),
https://help.smartlead.ai/Lead-Category-Updated-22cab06ce4a0499ca417916cececa62c
(LEAD_CATEGORY_UPDATED), https://api.smartlead.ai/guides/webhook-integration
(LEAD_UNSUBSCRIBED carries `lead_email`).
"""

from __future__ import annotations

from typing import Any

CAMPAIGN_ID = 9181
LEAD_ID = "1482956"
LEAD_EMAIL = "dana@prospect.io"
MAILBOX = "alex@agency-mail.com"


def _common(event_type: str) -> dict[str, Any]:
    return {
        "webhook_id": 100,
        "webhook_name": "Replyline",
        "webhook_url": "https://hooks.acme.test/webhooks/smartlead/x",
        "event_type": event_type,
        "campaign_id": CAMPAIGN_ID,
        "campaign_name": "Spring push",
        "campaign_status": "ACTIVE",
        "client_id": None,
        "secret_key": "4f7c8d23-a619-58c2-93a6-72936ee16f38",
        "app_url": "https://app.smartlead.ai/app/master-inbox?leadMap=1438627",
        "ui_master_inbox_link": "https://app.smartlead.ai/app/master-inbox?leadMap=1438627",
        "description": f"{event_type} for campaign Spring push",
        "metadata": {"webhook_created_at": "2026-11-01T08:14:40.843Z"},
    }


def email_reply(
    message_id: str = "<CAJZ-reply-1@mail.gmail.com>", stats_id: str = "a891fe37-c45d-21e8"
) -> dict[str, Any]:
    text = "Sounds interesting, can we talk Tuesday?"
    return {
        **_common("EMAIL_REPLY"),
        "sl_email_lead_id": LEAD_ID,
        "sl_email_lead_map_id": 1438627,
        "sl_lead_email": LEAD_EMAIL,
        "stats_id": stats_id,
        "stats_thread_id": "thread-1",
        "from_email": MAILBOX,
        "to_email": LEAD_EMAIL,
        "to_name": "Dana Reyes",
        "cc_emails": [],
        "subject": "Re: quick question",
        "sequence_number": 1,
        "time_replied": "2026-11-29T09:35:01+00:00",
        "event_timestamp": "2026-11-29T09:35:01+00:00",
        "sent_message_body": "<div>Hi Dana, quick question</div>",
        "sent_message": {
            "message_id": "<sl-sent-1@agency-mail.com>",
            "html": "<div>Hi Dana, quick question</div>",
            "text": "Hi Dana, quick question",
            "time": "2026-11-28T09:00:00+00:00",
        },
        "message_id": message_id,
        "reply_body": f"<div>{text}</div>",
        "preview_text": text,
        "reply_message": {
            "message_id": message_id,
            "html": f"<div>{text}</div>",
            "text": text,
            "time": "2026-11-29T09:35:01+00:00",
        },
    }


def email_sent(message_id: str = "<sl-sent-1@agency-mail.com>") -> dict[str, Any]:
    return {
        **_common("EMAIL_SENT"),
        "sl_email_lead_id": LEAD_ID,
        "sl_email_lead_map_id": 1438627,
        "stats_id": "stats-sent-1",
        "from_email": MAILBOX,
        "to_email": LEAD_EMAIL,
        "to_name": "Dana Reyes",
        "subject": "quick question",
        "sequence_number": 1,
        "time_sent": "2026-11-28T09:00:00+00:00",
        "event_timestamp": "2026-11-28T09:00:00+00:00",
        "sent_message_body": "<div>Hi Dana, quick question</div>",
        "sent_message": {
            "message_id": message_id,
            "html": "<div>Hi Dana, <b>quick</b> question</div>",
            "text": "",
            "time": "2026-11-28T09:00:00+00:00",
        },
        "message_id": message_id,
    }


def email_bounce() -> dict[str, Any]:
    return {
        **_common("EMAIL_BOUNCE"),
        "stats_id": "stats-sent-1",
        "created_at": "2026-11-28T09:01:00+00:00",
        "event_timestamp": "2026-11-28T09:01:00+00:00",
        "from_email": MAILBOX,
        "to_email": LEAD_EMAIL,
        "to_name": "Dana Reyes",
        "subject": "quick question",
        "sequence_number": 1,
        "is_bounced": True,
        "bounce_message": {"message_id": "<bounce-1@mx>", "html": "", "text": "550", "time": None},
    }


def lead_unsubscribed() -> dict[str, Any]:
    return {
        **_common("LEAD_UNSUBSCRIBED"),
        "lead_id": LEAD_ID,
        "lead_email": LEAD_EMAIL,
        "to_email": LEAD_EMAIL,
        "event_timestamp": "2026-11-29T10:00:00+00:00",
    }


def lead_category_updated(
    name: str = "Interested", reply_message_id: str | None = "<CAJZ-reply-1@mail.gmail.com>"
) -> dict[str, Any]:
    last = {
        "stats_id": "a891fe37-c45d-21e8",
        "type": "REPLY",
        "message_id": reply_message_id,
        "time": "2026-11-29T09:35:01+00:00",
        "email_body": "<div>Sounds interesting, can we talk Tuesday?</div>",
    }
    return {
        **_common("LEAD_CATEGORY_UPDATED"),
        "lead_id": LEAD_ID,
        "created_at": "2026-11-29T09:40:00+00:00",
        "event_timestamp": "2026-11-29T09:40:00+00:00",
        "from_email": MAILBOX,
        "to_email": LEAD_EMAIL,
        "lead_email": LEAD_EMAIL,
        "to_name": "Dana Reyes",
        "category": name,
        "lead_category_id": 1,
        "lead_category": {"old_id": None, "old_name": None, "new_id": 1, "new_name": name},
        "lead_data": {
            "email": LEAD_EMAIL,
            "first_name": "Dana",
            "last_name": "Reyes",
            "phone_number": None,
            "company_name": "Prospect Inc",
            "website": "prospect.io",
            "location": "global",
            "custom_fields": {"Industry": "SaaS", "headcount": 120},
            "linkedin_profile": "linkedin.com/in/dana",
            "company_url": "prospect.io",
        },
        "history": [last],
        "lastReply": last,
        "last_reply": last if reply_message_id else None,
    }


def untracked_reply(sender: str = f"Dana Reyes <{LEAD_EMAIL}>") -> dict[str, Any]:
    """https://help.smartlead.ai/Untracked-replies-d68b21be42c74f50b7f86bc63103a1c6"""
    return {
        "event_timestamp": "2026-11-29T11:24:33.353Z",
        "reply_message": {
            "message_id": "<CAJZ-untracked-1@mail.gmail.com>",
            "html": "",
            "text": "Following up from my other address: still keen, Tuesday?\n",
            "time": "2026-11-29T11:24:33.353Z",
        },
        "secret_key": "e0207d40-84ef-4ad6-89eb-7dbff8c0138d",
        "description": "",
        "sender_detail": sender,
        "recipient_detail": MAILBOX,
        "cc": "",
        "bcc": "",
        "subject": "Untracked replies",
        "visible_text": "Following up from my other address: still keen, Tuesday?\n",
        "has_attachment": False,
        "metadata": {"webhook_created_at": "2026-11-01T13:51:26.269Z"},
        "webhook_url": "https://hooks.acme.test/webhooks/smartlead/x",
        "webhook_id": 94,
        "webhook_name": "Replyline",
        "event_type": "UNTRACKED_REPLIES",
    }
