"""Instantly webhooks (API v2: one flat JSON object, `event_type` naming it) parsed into
platform-neutral events.

Field set from https://developer.instantly.ai/guides/webhook-events: always `timestamp`,
`event_type`, `workspace`, `campaign_id`, `campaign_name`; when they apply `lead_email`,
`email_account` (our mailbox), `unibox_url`, `step`, `variant`, `is_first`, `email_id` (the
email's id: "you can use it to reply via the reply endpoint" as `reply_to_uuid`),
`email_subject`, `email_text`, `email_html`, and for replies `reply_text_snippet`,
`reply_subject`, `reply_text`, `reply_html`. Event types read: `reply_received`,
`auto_reply_received`, `email_sent`, `email_bounced`, `lead_unsubscribed`, and the lead-status
events (`lead_interested`, `lead_not_interested`, `lead_neutral`, `lead_meeting_booked`,
`lead_meeting_completed`, `lead_closed`, `lead_out_of_office`, `lead_wrong_person`,
`lead_no_show` — the `event_type` enum of https://developer.instantly.ai/api-reference/webhook/create-webhook),
whose name becomes the tag of the lead's latest reply. Custom-label events are ignored: their
`event_type` is the label itself, which no list can tell from an event type added later.

Instantly names a lead by its email address only: that address is the lead's id here. "Lead
data merged from your database may appear as extra keys" without documented names: the lead's
name and company are read leniently from `firstName`/`first_name`, `lastName`/`last_name`,
`companyName`/`company_name` when present (unverified). Instantly reports no reply a person
sends from its Unibox (README, "Email platforms").
"""

from __future__ import annotations

from typing import Final

from pydantic import AliasChoices, Field

from sender_service.email_platforms.instantly import SOURCE
from sender_service.ingest.events import (
    CampaignInfo,
    Event,
    EventKind,
    Ignored,
    LeadInfo,
    MessageInfo,
    PayloadError,
)
from sender_service.ingest.guards import Email, LenientId, check_email, load_json, read_time
from sender_service.ingest.lenient import Text
from sender_service.ingest.model import ProviderModel, validate
from sender_service.text_format import html_to_text

REPLY_EVENTS: Final = ("reply_received", "auto_reply_received")
LEAD_EVENTS: Final[dict[str, EventKind]] = {
    "lead_unsubscribed": "unsubscribed",
    "email_bounced": "bounced",
}
TAG_EVENTS: Final = (
    "lead_interested",
    "lead_not_interested",
    "lead_neutral",
    "lead_meeting_booked",
    "lead_meeting_completed",
    "lead_closed",
    "lead_out_of_office",
    "lead_wrong_person",
    "lead_no_show",
)


class Envelope(ProviderModel):
    event_type: str


class InstantlyWebhook(ProviderModel):
    timestamp: Text = None
    campaign_id: LenientId = None
    campaign_name: Text = None
    lead_email: Email = None
    email_account: Text = None
    email_id: LenientId = None
    email_subject: Text = None
    email_text: Text = None
    email_html: Text = None
    reply_subject: Text = None
    reply_text: Text = None
    reply_html: Text = None
    reply_text_snippet: Text = None
    first_name: Text = Field(None, validation_alias=AliasChoices("firstName", "first_name"))
    last_name: Text = Field(None, validation_alias=AliasChoices("lastName", "last_name"))
    company_name: Text = Field(None, validation_alias=AliasChoices("companyName", "company_name"))


def parse(body: bytes) -> Event | Ignored:
    """The event in an Instantly webhook body, or why Replyline ignores it."""
    raw = load_json(body)
    event_type = validate(Envelope, raw).event_type.strip().lower()
    if event_type not in (*REPLY_EVENTS, "email_sent", *LEAD_EVENTS, *TAG_EVENTS):
        return Ignored(f"Instantly event {event_type} is not one Replyline reads")
    delivery = validate(InstantlyWebhook, raw)
    lead = _lead(delivery)
    campaign = (
        CampaignInfo(delivery.campaign_id, delivery.campaign_name) if delivery.campaign_id else None
    )
    if event_type in REPLY_EVENTS:
        message = _reply(delivery, lead, automated=event_type == "auto_reply_received")
        return Event("reply", event_type, lead, campaign, message)
    if event_type == "email_sent":
        return Event("outbound", event_type, lead, campaign, _sent(delivery, lead))
    if event_type in LEAD_EVENTS:
        return Event(LEAD_EVENTS[event_type], event_type, lead, campaign)
    return Event("tagged", event_type, lead, campaign, tag=event_type)


def _lead(delivery: InstantlyWebhook) -> LeadInfo:
    if not delivery.lead_email or not delivery.lead_email.strip():
        raise PayloadError("lead_email: missing", "lead_email")
    email = check_email(delivery.lead_email.strip(), "lead_email")
    return LeadInfo(
        external_id=email.lower(),
        email=email,
        first_name=delivery.first_name,
        last_name=delivery.last_name,
        company=delivery.company_name,
    )


def _email_id(delivery: InstantlyWebhook) -> str:
    if delivery.email_id is None:
        raise PayloadError("email_id: missing", "email_id")
    return delivery.email_id


def _bodies(
    text: str | None, html: str | None, snippet: str | None = None
) -> tuple[str, str | None]:
    if text and text.strip():
        return text, None
    if html and html.strip():
        return html_to_text(html), html
    return snippet or "", None


def _reply(delivery: InstantlyWebhook, lead: LeadInfo, *, automated: bool) -> MessageInfo:
    email_id = _email_id(delivery)
    body, body_html = _bodies(delivery.reply_text, delivery.reply_html, delivery.reply_text_snippet)
    return MessageInfo(
        source=SOURCE,
        external_id=email_id,
        direction="inbound",
        subject=delivery.reply_subject,
        body=body,
        body_html=body_html,
        from_address=lead.email,
        to_address=delivery.email_account,
        occurred_at=read_time(delivery.timestamp, "timestamp"),
        is_automated_reply=automated,
        thread_ref={
            "email_id": email_id,
            "email_account": delivery.email_account,
            "subject": delivery.reply_subject,
            "lead_email": lead.email,
        },
    )


def _sent(delivery: InstantlyWebhook, lead: LeadInfo) -> MessageInfo:
    email_id = _email_id(delivery)
    body, body_html = _bodies(delivery.email_text, delivery.email_html)
    return MessageInfo(
        source=SOURCE,
        external_id=email_id,
        direction="outbound",
        sent_by="campaign",
        subject=delivery.email_subject,
        body=body,
        body_html=body_html,
        from_address=delivery.email_account,
        to_address=lead.email,
        occurred_at=read_time(delivery.timestamp, "timestamp"),
        thread_ref={
            "email_id": email_id,
            "email_account": delivery.email_account,
            "lead_email": lead.email,
        },
    )
