"""The recorded day of webhooks, turned into EmailBison payloads for the demo workspace."""

from __future__ import annotations

import json
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


def payloads(campaigns: Campaigns, now: datetime) -> list[tuple[int, dict[str, Any]]]:
    """(minutes ago, webhook body) for each recorded event, oldest first."""
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
