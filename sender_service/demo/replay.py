"""The recorded day of webhooks, turned into the demo workspace's platform's payloads.

The day was recorded from EmailBison; for Smartlead and Instantly each event becomes the
webhook that platform sends for it (field sets as in `ingest/smartlead.py` and
`ingest/instantly.py`). Their webhooks report no reply a person sends from the platform's own
inbox, and Instantly none that its campaigns do not track: those events are left out
(Smartlead's untracked reply is its UNTRACKED_REPLIES).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

SENDER = {"id": 41, "email": "alex@acme-outbound.com"}


@dataclass(frozen=True)
class Campaigns:
    auto: tuple[str, str]  # (platform id, name) of an AI_AUTO_SEND campaign
    setter: tuple[str, str]  # and of a SETTER_MANAGED one


def recorded_events() -> list[dict[str, Any]]:
    text = resources.files("sender_service.demo").joinpath("recorded_day.json").read_text()
    events: list[dict[str, Any]] = json.loads(text)["events"]
    return events


@dataclass(frozen=True)
class Delivery:
    minutes_ago: int
    event_type: str  # the platform's own name for the event
    who: str  # the lead's (or sender's) address, for the console
    body: dict[str, Any]


def deliveries(campaigns: Campaigns, now: datetime, platform: str) -> list[Delivery]:
    """The day's webhooks as `platform` sends them, oldest first."""
    out = []
    for minutes_ago, body in payloads(campaigns, now):
        if platform == "emailbison":
            data = body["data"]
            who = data.get("lead", {}).get("email") or data["reply"]["from_email_address"]
            out.append(Delivery(minutes_ago, body["event"]["type"], who, body))
            continue
        translate = _smartlead if platform == "smartlead" else _instantly
        data = body["data"]
        who = data.get("lead", {}).get("email") or data["reply"]["from_email_address"]
        for event_type, translated in translate(body, now - timedelta(minutes=minutes_ago)):
            out.append(Delivery(minutes_ago, event_type, who, translated))
    return out


def payloads(campaigns: Campaigns, now: datetime) -> list[tuple[int, dict[str, Any]]]:
    """(minutes ago, EmailBison webhook body) for each recorded event, oldest first."""
    leads: dict[int, dict[str, Any]] = {}
    out = []
    for event in sorted(recorded_events(), key=lambda e: -int(e["minutes_ago"])):
        at = now - timedelta(minutes=int(event["minutes_ago"]))
        data: dict[str, Any] = {"sender_email": SENDER}
        if "lead" in event:
            lead = leads.setdefault(event["lead"]["id"], {})
            lead.update(event["lead"])
            data["lead"] = _lead(lead)
        if "campaign" in event:
            external_id, name = getattr(campaigns, event["campaign"])
            data["campaign"] = {"id": external_id, "name": name}
        if "reply" in event:
            data["reply"] = _reply(event["reply"], data.get("lead"), at)
        if "email" in event:
            email = event["email"]
            data["scheduled_email"] = {
                "id": email["id"],
                "email_subject": email["subject"],
                "email_body": email["body"],
                "sent_at": at.isoformat(),
            }
        body = {"event": {"type": event["type"], "name": event["type"].title()}, "data": data}
        out.append((int(event["minutes_ago"]), body))
    return out


def _lead(lead: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": lead["id"],
        "email": lead["email"],
        "first_name": lead.get("first_name"),
        "last_name": lead.get("last_name"),
        "company": lead.get("company"),
        "title": lead.get("title"),
        "custom_variables": [
            {"name": "Industry", "value": lead.get("industry", "")},
            {"name": "Headcount", "value": lead.get("headcount", "")},
        ],
    }


def _reply(reply: dict[str, Any], lead: dict[str, Any] | None, at: datetime) -> dict[str, Any]:
    from_setter = reply.get("from_setter", False)
    sender = reply.get("from_email") or (SENDER["email"] if from_setter else lead and lead["email"])
    name = reply.get("from_name") or (
        " ".join(p for p in (lead.get("first_name"), lead.get("last_name")) if p) if lead else None
    )
    return {
        "id": reply["id"],
        "uuid": f"demo-{reply['id']}",
        "email_subject": reply["subject"],
        "from_email_address": sender,
        "from_name": name,
        "text_body": reply["body"],
        "html_body": f"<p>{reply['body']}</p>",
        "date_received": at.isoformat(),
        "automated_reply": reply.get("automated_reply", False),
    }


def _smartlead(body: dict[str, Any], at: datetime) -> list[tuple[str, dict[str, Any]]]:
    kind, data = body["event"]["type"], body["data"]
    lead, campaign = data.get("lead"), data.get("campaign")
    if kind == "UNTRACKED_REPLY_RECEIVED":
        reply = data["reply"]
        untracked = {
            "event_type": "UNTRACKED_REPLIES",
            "event_timestamp": at.isoformat(),
            "sender_detail": f"{reply.get('from_name') or ''} <{reply['from_email_address']}>",
            "recipient_detail": SENDER["email"],
            "subject": reply["email_subject"],
            "reply_message": {
                "message_id": f"<demo-{reply['id']}@mail.example>",
                "html": reply["html_body"],
                "text": reply["text_body"],
                "time": at.isoformat(),
            },
        }
        return [("UNTRACKED_REPLIES", untracked)]
    if kind == "MANUAL_EMAIL_SENT" or lead is None:
        return []
    common: dict[str, Any] = {
        "sl_email_lead_id": str(lead["id"]),
        "sl_lead_email": lead["email"],
        "to_email": lead["email"],
        "to_name": " ".join(p for p in (lead.get("first_name"), lead.get("last_name")) if p),
        "from_email": SENDER["email"],
        "campaign_id": int(campaign["id"]) if str(campaign["id"]).isdigit() else campaign["id"],
        "campaign_name": campaign["name"],
        "event_timestamp": at.isoformat(),
        "secret_key": "demo",
    }
    if kind == "EMAIL_SENT":
        email = data["scheduled_email"]
        sent = {
            "message_id": f"<demo-sent-{email['id']}@acme-outbound.com>",
            "html": email["email_body"],
            "text": email["email_body"],
            "time": at.isoformat(),
        }
        return [
            (
                "EMAIL_SENT",
                {
                    **common,
                    "event_type": "EMAIL_SENT",
                    "subject": email["email_subject"],
                    "stats_id": f"demo-{email['id']}",
                    "sent_message": sent,
                },
            )
        ]
    if kind == "LEAD_UNSUBSCRIBED":
        return [(kind, {**common, "event_type": kind, "lead_email": lead["email"]})]
    reply = data["reply"]
    message_id = f"<demo-{reply['id']}@mail.example>"
    replied = {
        **common,
        "event_type": "EMAIL_REPLY",
        "subject": reply["email_subject"],
        "stats_id": f"demo-stats-{reply['id']}",
        "reply_message": {
            "message_id": message_id,
            "html": reply["html_body"],
            "text": reply["text_body"],
            "time": at.isoformat(),
        },
    }
    out = [("EMAIL_REPLY", replied)]
    if kind == "LEAD_INTERESTED":
        category = {
            **common,
            "event_type": "LEAD_CATEGORY_UPDATED",
            "lead_id": str(lead["id"]),
            "lead_category": {"new_id": 1, "new_name": "Interested"},
            "last_reply": {"message_id": message_id, "email_body": reply["html_body"]},
        }
        out.append(("LEAD_CATEGORY_UPDATED", category))
    return out


def _instantly(body: dict[str, Any], at: datetime) -> list[tuple[str, dict[str, Any]]]:
    kind, data = body["event"]["type"], body["data"]
    lead, campaign = data.get("lead"), data.get("campaign")
    if kind in ("MANUAL_EMAIL_SENT", "UNTRACKED_REPLY_RECEIVED") or lead is None:
        return []
    common: dict[str, Any] = {
        "timestamp": at.isoformat(),
        "workspace": "demo",
        "campaign_id": campaign["id"],
        "campaign_name": campaign["name"],
        "lead_email": lead["email"],
        "email_account": SENDER["email"],
        "firstName": lead.get("first_name"),
        "lastName": lead.get("last_name"),
        "companyName": lead.get("company"),
    }
    if kind == "EMAIL_SENT":
        email = data["scheduled_email"]
        sent = {
            "event_type": "email_sent",
            "email_id": _email_id("sent", email["id"]),
            "email_subject": email["email_subject"],
            "email_text": email["email_body"],
            "step": 1,
        }
        return [("email_sent", {**common, **sent})]
    if kind == "LEAD_UNSUBSCRIBED":
        return [("lead_unsubscribed", {**common, "event_type": "lead_unsubscribed"})]
    reply = data["reply"]
    replied = {
        **common,
        "event_type": "reply_received",
        "email_id": _email_id("reply", reply["id"]),
        "reply_subject": reply["email_subject"],
        "reply_text": reply["text_body"],
        "reply_html": reply["html_body"],
    }
    out = [("reply_received", replied)]
    if kind == "LEAD_INTERESTED":
        out.append(("lead_interested", {**common, "event_type": "lead_interested"}))
    return out


def _email_id(kind: str, number: int) -> str:
    """A stable Instantly-style email UUID for a recorded email."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"replyline-demo:{kind}:{number}"))
