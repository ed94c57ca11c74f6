"""The outbound guard's policy for one draft, read from the workspace, lead and thread as they
are when the check runs (at decision time, and again just before the send)."""

from __future__ import annotations

import re
from functools import cache
from urllib.parse import urlsplit

import phonenumbers

from sender_service.ai.context import AIContext
from sender_service.ai.prompts import INSTRUCTIONS
from sender_service.booking import get_booking_link
from sender_service.pipeline.context import InboundReply
from sender_service.pipeline.outbound_guard import (
    GuardPolicy,
    ascii_host,
    phone_key,
    word_runs,
)

# The signature an operator wrote is ours: its address and number are the sender's own.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def guard_policy(inbound: InboundReply, channel: str) -> GuardPolicy:
    workspace, lead, message = inbound.workspace, inbound.lead, inbound.message
    region = "US"
    own_phones: set[str] = set()
    if lead is not None and lead.phone:
        try:
            parsed = phonenumbers.parse(lead.phone, region)
            region = phonenumbers.region_code_for_number(parsed) or region
            own_phones.add(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
        except phonenumbers.NumberParseException:
            pass
    addresses = (lead.email if lead else None, _sender(message.thread_ref))
    own_emails = {address.lower() for address in addresses if address}
    signature = AIContext.merged(
        workspace.ai_context, inbound.campaign.ai_context if inbound.campaign else None
    ).signature
    own_emails.update(e.lower() for e in _EMAIL.findall(signature))
    for found in phonenumbers.PhoneNumberMatcher(signature, region):
        if key := phone_key(found.raw_string, region):
            own_phones.add(key)
    booking = get_booking_link(workspace, lead) if lead is not None else None
    booking_host = urlsplit(booking).hostname if booking else None
    return GuardPolicy(
        channel=channel,
        reply_text=message.body,
        booking_hosts=frozenset({ascii_host(booking_host)} if booking_host else ()),
        allowed_domains=frozenset(workspace.allowed_link_domains or ()),
        own_emails=frozenset(own_emails),
        own_phones=frozenset(own_phones),
        allow_pricing=workspace.allow_pricing_talk,
        max_chars=workspace.max_sms_chars if channel == "sms" else workspace.max_email_chars,
        phone_region=region,
        instructions=_instruction_runs(),
    )


def _sender(thread_ref: dict[str, object] | None) -> str | None:
    sender = (thread_ref or {}).get("sender_email")
    return sender if isinstance(sender, str) else None


@cache
def _instruction_runs() -> frozenset[tuple[str, ...]]:
    return frozenset().union(*(word_runs(text) for text in INSTRUCTIONS))
