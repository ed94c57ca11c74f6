"""Smartlead webhooks (one flat JSON object per event, `event_type` naming it) parsed into
platform-neutral events.

Field sets from Smartlead's webhook reference, https://help.smartlead.ai/Webhook-Guide-Updated-4d0ae6b2fa6a4db1b4c1ead824a86866
("use these guides as your webhook reference"), and its pages:
- EMAIL_REPLY: https://help.smartlead.ai/Threaded-Replies-ff92a607c93645b7b1568d8219218423 and
  https://api.smartlead.ai/reference/email-reply-webhooks (`sl_email_lead_id`,
  `sl_lead_email`, `stats_id`, `from_email` = our mailbox, `to_email`/`to_name` = the lead,
  `reply_message {message_id, html, text, time}`; deprecated `message_id`, `reply_body`,
  `preview_text`, `time_replied`);
- EMAIL_SENT: https://help.smartlead.ai/Email-Sent-d178e38d71a24e24a92383b7222d46c2
  (`sent_message {message_id, html, text, time}`; deprecated `message_id`,
  `sent_message_body`, `custom_email_message`, `custom_subject`, `time_sent`);
- EMAIL_BOUNCE: https://help.smartlead.ai/Email-Bounce-3c44b5bd92234b02ba2c9e42542b0e9a
  (the lead only as `to_email`);
- LEAD_CATEGORY_UPDATED: https://help.smartlead.ai/Lead-Category-Updated-22cab06ce4a0499ca417916cececa62c
  (`lead_id`, `lead_category {new_name}` or deprecated `category`, `lead_data {email,
  first_name, ...}`, `last_reply {message_id, ...}` or deprecated `lastReply`);
- UNTRACKED_REPLIES: https://help.smartlead.ai/Untracked-replies-d68b21be42c74f50b7f86bc63103a1c6
  (a reply outside any campaign: `reply_message {message_id, html, text, time}`,
  `sender_detail` "Name <address>", `recipient_detail` = our mailbox, `subject`);
- LEAD_UNSUBSCRIBED: named in https://api.smartlead.ai/guides/webhook-integration, whose
  handler reads `lead_email`; no field list is published, so the lead is read from any of
  the fields the other events use.
Smartlead's newer pages (https://api.smartlead.ai/api-reference/webhooks/events) also show
`event` for `event_type`, past-tense names (EMAIL_REPLIED, EMAIL_BOUNCED) and a nested `lead`;
those are read too. Only ids and the reply itself are required; everything else is lenient.
Smartlead reports no reply a person sends from its master inbox (README, "Email platforms").
"""

from __future__ import annotations

from email.utils import parseaddr
from typing import Annotated, Any, Final

from pydantic import AliasChoices, Field

from sender_service.email_platforms.smartlead import SOURCE
from sender_service.ingest import lead_fields
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
from sender_service.ingest.lenient import IfObject, Text
from sender_service.ingest.model import ProviderModel, validate
from sender_service.text_format import html_to_text, looks_like_html

REPLY_EVENTS: Final = ("EMAIL_REPLY", "EMAIL_REPLIED")
SENT_EVENTS: Final = ("EMAIL_SENT", "FIRST_EMAIL_SENT")
LEAD_EVENTS: Final[dict[str, EventKind]] = {
    "LEAD_UNSUBSCRIBED": "unsubscribed",
    "EMAIL_UNSUBSCRIBED": "unsubscribed",
    "EMAIL_BOUNCE": "bounced",
    "EMAIL_BOUNCED": "bounced",
}
TAG_EVENTS: Final = ("LEAD_CATEGORY_UPDATED",)
UNTRACKED_EVENTS: Final = ("UNTRACKED_REPLIES",)


class Envelope(ProviderModel):
    event_type: str = Field(validation_alias=AliasChoices("event_type", "event"))


class SmartleadEmail(ProviderModel):
    """`reply_message`, `sent_message`, `last_reply`: one email of the thread."""

    message_id: LenientId = None
    html: Text = None
    text: Text = None
    time: Text = None
    email_body: Text = None  # `last_reply` names its HTML so


class SmartleadLead(ProviderModel):
    email: Email = None
    first_name: Text = None
    last_name: Text = None
    company_name: Text = None
    custom_fields: Annotated[dict[str, Any] | None, IfObject] = None


class SmartleadCategory(ProviderModel):
    new_name: Text = None


class SmartleadWebhook(ProviderModel):
    lead_id: LenientId = Field(None, validation_alias=AliasChoices("sl_email_lead_id", "lead_id"))
    lead_email: Email = Field(None, validation_alias=AliasChoices("sl_lead_email", "lead_email"))
    to_email: Email = None
    to_name: Text = None
    from_email: Text = None
    subject: Text = Field(None, validation_alias=AliasChoices("subject", "custom_subject"))
    campaign_id: LenientId = None
    campaign_name: Text = None
    stats_id: LenientId = None
    event_timestamp: Text = Field(
        None, validation_alias=AliasChoices("event_timestamp", "time_replied", "time_sent")
    )
    reply_message: Annotated[SmartleadEmail | None, IfObject] = None
    sent_message: Annotated[SmartleadEmail | None, IfObject] = None
    last_reply: Annotated[SmartleadEmail | None, IfObject] = Field(
        None, validation_alias=AliasChoices("last_reply", "lastReply")
    )
    message_id: LenientId = None  # deprecated: the reply's (or sent email's) Message-ID
    reply_body: Text = None
    preview_text: Text = None
    sent_message_body: Text = Field(
        None, validation_alias=AliasChoices("sent_message_body", "custom_email_message")
    )
    lead_category: Annotated[SmartleadCategory | None, IfObject] = None
    category: Text = None
    lead: Annotated[SmartleadLead | None, IfObject] = Field(
        None, validation_alias=AliasChoices("lead_data", "lead")
    )
    sender_detail: Text = None  # UNTRACKED_REPLIES: "Name <address>" of who wrote
    recipient_detail: Text = None  # UNTRACKED_REPLIES: our mailbox


def parse(body: bytes) -> Event | Ignored:
    """The event in a Smartlead webhook body, or why Replyline ignores it."""
    raw = load_json(body)
    event_type = validate(Envelope, raw).event_type.strip().upper()
    known = (*REPLY_EVENTS, *SENT_EVENTS, *LEAD_EVENTS, *TAG_EVENTS, *UNTRACKED_EVENTS)
    if event_type not in known:
        return Ignored(f"Smartlead event {event_type} is not one Replyline reads")
    delivery = validate(SmartleadWebhook, raw)
    if event_type in UNTRACKED_EVENTS:
        return Event("untracked_reply", event_type, message=_untracked(delivery))
    lead, campaign = _lead(delivery), _campaign(delivery)
    if event_type in REPLY_EVENTS:
        return Event("reply", event_type, lead, campaign, _reply(delivery, lead))
    if event_type in SENT_EVENTS:
        return Event("outbound", event_type, lead, campaign, _sent(delivery, lead))
    if event_type in LEAD_EVENTS:
        return Event(LEAD_EVENTS[event_type], event_type, lead, campaign)
    tag = (delivery.lead_category.new_name if delivery.lead_category else None) or delivery.category
    if not tag:
        return Ignored("Smartlead LEAD_CATEGORY_UPDATED named no category")
    replied = delivery.last_reply.message_id if delivery.last_reply else None
    return Event(
        "tagged",
        event_type,
        lead,
        campaign,
        tag=tag,
        tagged_message=(SOURCE, replied) if replied else None,
    )


def _lead(delivery: SmartleadWebhook) -> LeadInfo:
    data = delivery.lead or SmartleadLead()
    email = delivery.lead_email or data.email or delivery.to_email
    if delivery.lead_id is None and not email:
        raise PayloadError(
            "sl_email_lead_id: missing, and no lead email to match by", "sl_email_lead_id"
        )
    first, last = data.first_name, data.last_name
    if not (first or last) and delivery.to_name:
        # `to_name` is the lead's full name (or an alias's): its first word greets them.
        first, _, rest = delivery.to_name.strip().partition(" ")
        last = rest.strip() or None
    variables = {
        str(k): str(v)
        for k, v in (data.custom_fields or {}).items()
        if isinstance(v, str | int | float) and not isinstance(v, bool)
    }
    usual = lead_fields.FieldNames()
    return LeadInfo(
        external_id=delivery.lead_id,
        email=email,
        first_name=first or None,
        last_name=last,
        company=data.company_name,
        industry=lead_fields.industry(variables, usual),
        headcount=lead_fields.headcount(variables, usual),
        custom_variables=variables or None,
    )


def _campaign(delivery: SmartleadWebhook) -> CampaignInfo | None:
    if delivery.campaign_id is None:
        return None
    return CampaignInfo(delivery.campaign_id, delivery.campaign_name)


def _bodies(text: str | None, html: str | None) -> tuple[str, str | None]:
    """The text to store, and the HTML it was read from when only HTML came."""
    if text and text.strip():
        return text, None
    if html and looks_like_html(html):
        return html_to_text(html), html
    return html or "", None


def _reply(delivery: SmartleadWebhook, lead: LeadInfo) -> MessageInfo:
    part = delivery.reply_message or SmartleadEmail()
    message_id = part.message_id or delivery.message_id
    if message_id is None:
        raise PayloadError("reply_message.message_id: missing", "reply_message.message_id")
    body, body_html = _bodies(part.text or delivery.preview_text, part.html or delivery.reply_body)
    when = part.time or delivery.event_timestamp
    return MessageInfo(
        source=SOURCE,
        external_id=message_id,
        direction="inbound",
        subject=delivery.subject,
        body=body,
        body_html=body_html,
        from_address=lead.email,
        to_address=delivery.from_email,
        occurred_at=read_time(when, "reply_message.time"),
        thread_ref={
            "campaign_id": delivery.campaign_id,
            "stats_id": delivery.stats_id,
            "reply_message_id": message_id,
            "reply_time": when,
            "sender_email": delivery.from_email,
            "lead_email": lead.email,
        },
    )


def _sent(delivery: SmartleadWebhook, lead: LeadInfo) -> MessageInfo:
    part = delivery.sent_message or SmartleadEmail()
    message_id = part.message_id or delivery.message_id or delivery.stats_id
    if message_id is None:
        raise PayloadError("sent_message.message_id: missing", "sent_message.message_id")
    body, body_html = _bodies(part.text, part.html or delivery.sent_message_body)
    when = part.time or delivery.event_timestamp
    return MessageInfo(
        source=SOURCE,
        external_id=message_id,
        direction="outbound",
        sent_by="campaign",
        subject=delivery.subject,
        body=body,
        body_html=body_html,
        from_address=delivery.from_email,
        to_address=lead.email,
        occurred_at=read_time(when, "sent_message.time"),
        thread_ref={
            "campaign_id": delivery.campaign_id,
            "stats_id": delivery.stats_id,
            "sender_email": delivery.from_email,
            "lead_email": lead.email,
        },
    )


def _untracked(delivery: SmartleadWebhook) -> MessageInfo:
    """A reply in the mailbox outside any campaign: matched to a lead by its sender's address,
    classified, never auto-answered (no campaign thread to answer in)."""
    part = delivery.reply_message or SmartleadEmail()
    if part.message_id is None:
        raise PayloadError("reply_message.message_id: missing", "reply_message.message_id")
    sender = parseaddr(delivery.sender_detail or "")[1] or None
    body, body_html = _bodies(part.text, part.html)
    return MessageInfo(
        source=SOURCE,
        external_id=part.message_id,
        direction="inbound",
        subject=delivery.subject,
        body=body,
        body_html=body_html,
        from_address=check_email(sender, "sender_detail") if sender else None,
        to_address=delivery.recipient_detail,
        occurred_at=read_time(part.time or delivery.event_timestamp, "reply_message.time"),
        thread_ref={"reply_message_id": part.message_id, "untracked": True},
    )
