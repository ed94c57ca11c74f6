"""EmailBison webhooks (`event.type` + `data`) parsed into platform-neutral events.

Tolerant: only the ids and the reply itself are required. An enrichment field (a name, a custom
variable, the automated-reply flag) of the wrong type, null or absent is coerced or dropped,
never a reason to refuse the reply.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from sender_service.email_platforms.emailbison import REPLY_SOURCE, SENT_EMAIL_SOURCE
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
from sender_service.ingest.guards import (
    Email,
    OptionalProviderId,
    SaneTime,
    check_email,
    load_json,
)
from sender_service.ingest.guards import ProviderId as ExternalId
from sender_service.ingest.lenient import Flag, ObjectsOnly, Text
from sender_service.ingest.model import ProviderModel as _Model
from sender_service.ingest.model import validate as _validate
from sender_service.text_format import html_to_text, looks_like_html


class EventInfo(_Model):
    type: str


class Envelope(_Model):
    event: EventInfo


class CustomVariable(_Model):
    name: Text = None
    value: Text = None


class Campaign(_Model):
    id: OptionalProviderId = None  # blank: no campaign, never one shared by strangers
    name: Text = None


class Lead(_Model):
    id: OptionalProviderId = None  # blank: matched by email instead, never one shared lead
    email: Email = None
    first_name: Text = None
    last_name: Text = None
    company: Text = None
    title: Text = None
    custom_variables: Annotated[list[CustomVariable], ObjectsOnly] = []


class Recipient(_Model):
    address: Text = None


class Reply(_Model):
    id: ExternalId
    uuid: Text = None
    email_subject: Text = None
    from_email_address: Email = None
    from_name: Text = None
    primary_to_email_address: Text = None  # checked as an address only when used
    to: Annotated[list[Recipient], ObjectsOnly] = []
    text_body: Text = None
    html_body: Text = None
    date_received: SaneTime | None = None
    automated_reply: Flag = False


class SenderEmail(_Model):
    id: ExternalId
    email: Text = None


class ScheduledEmail(_Model):
    id: ExternalId
    email_subject: Text = None
    email_body: Text = None
    sent_at: SaneTime | None = None


class ReplyData(_Model):
    # Null for a newly composed MANUAL_EMAIL_SENT: matched by its recipient instead.
    lead: Lead | None = None
    campaign: Campaign | None = None
    reply: Reply
    sender_email: SenderEmail | None = None


class UntrackedReplyData(_Model):
    reply: Reply
    sender_email: SenderEmail | None = None


class EmailSentData(_Model):
    lead: Lead
    campaign: Campaign | None = None
    scheduled_email: ScheduledEmail
    sender_email: SenderEmail | None = None


class LeadData(_Model):
    lead: Lead
    campaign: Campaign | None = None


class ReplyPayload(_Model):
    data: ReplyData


class UntrackedReplyPayload(_Model):
    data: UntrackedReplyData


class EmailSentPayload(_Model):
    data: EmailSentData


class LeadPayload(_Model):
    data: LeadData


PAYLOADS: Final[dict[str, type[_Model]]] = {
    "LEAD_REPLIED": ReplyPayload,
    "LEAD_INTERESTED": ReplyPayload,
    "MANUAL_EMAIL_SENT": ReplyPayload,
    "UNTRACKED_REPLY_RECEIVED": UntrackedReplyPayload,
    "EMAIL_SENT": EmailSentPayload,
    "LEAD_UNSUBSCRIBED": LeadPayload,
    "EMAIL_BOUNCED": LeadPayload,
}


def parse(body: bytes) -> Event | Ignored:
    """The event in an EmailBison webhook body, or why Replyline ignores it."""
    raw = load_json(body)
    event_type = _validate(Envelope, raw).event.type.strip().upper()
    model = PAYLOADS.get(event_type)
    if model is None:
        return Ignored(f"EmailBison event {event_type} is not one Replyline reads")
    payload = _validate(model, raw)
    if isinstance(payload, ReplyPayload):
        if payload.data.lead is None and event_type != "MANUAL_EMAIL_SENT":
            raise PayloadError("data.lead: missing", "data.lead")
        return _reply_event(event_type, payload.data)
    if isinstance(payload, UntrackedReplyPayload):
        return _untracked_event(event_type, payload.data)
    if isinstance(payload, EmailSentPayload):
        return _email_sent_event(event_type, payload.data)
    assert isinstance(payload, LeadPayload)
    kind: EventKind = "unsubscribed" if event_type == "LEAD_UNSUBSCRIBED" else "bounced"
    return Event(
        kind=kind,
        platform_type=event_type,
        lead=_lead(payload.data.lead),
        campaign=_campaign(payload.data.campaign),
    )


def _lead(lead: Lead) -> LeadInfo:
    if lead.id is None and not lead.email:
        raise PayloadError("data.lead.id: blank, and no email to match the lead by", "data.lead.id")
    variables = {
        v.name: v.value for v in lead.custom_variables if v.name is not None and v.value is not None
    }
    usual = lead_fields.FieldNames()
    return LeadInfo(
        external_id=lead.id,
        email=lead.email,
        first_name=lead.first_name,
        last_name=lead.last_name,
        company=lead.company,
        title=lead.title,
        industry=lead_fields.industry(variables, usual),
        headcount=lead_fields.headcount(variables, usual),
        custom_variables=variables or None,
    )


def _campaign(campaign: Campaign | None) -> CampaignInfo | None:
    return CampaignInfo(campaign.id, campaign.name) if campaign and campaign.id else None


def _reply_bodies(reply: Reply) -> tuple[str, str | None]:
    """The text to store, and the HTML it was read from when the reply came only as HTML."""
    if reply.text_body:
        return reply.text_body, None
    return html_to_text(reply.html_body or ""), reply.html_body or None


def _campaign_bodies(body: str | None) -> tuple[str, str | None]:
    """A campaign email's body is the platform's editor output: HTML, or sometimes text."""
    if body and looks_like_html(body):
        return html_to_text(body), body
    return body or "", None


def _thread_ref(reply: Reply, sender: SenderEmail | None, lead_email: str | None) -> dict[str, Any]:
    return {
        "reply_id": reply.id,
        "reply_uuid": reply.uuid,
        "sender_email_id": sender.id if sender else None,
        "sender_email": sender.email if sender else None,
        "lead_email": lead_email,
    }


def _reply_event(event_type: str, data: ReplyData) -> Event:
    reply, sender = data.reply, data.sender_email
    body, body_html = _reply_bodies(reply)
    manual = event_type == "MANUAL_EMAIL_SENT"
    recipient = reply.primary_to_email_address or next(
        (r.address for r in reply.to if r.address), None
    )
    known = data.lead.email if data.lead else None
    if manual and not known and recipient:
        recipient = check_email(recipient, "data.reply.primary_to_email_address")
    lead_email = known or (recipient if manual else reply.from_email_address)
    message = MessageInfo(
        source=REPLY_SOURCE,
        external_id=reply.id,
        direction="outbound" if manual else "inbound",
        sent_by="setter" if manual else None,
        subject=reply.email_subject,
        body=body,
        body_html=body_html,
        from_address=reply.from_email_address,
        to_address=lead_email if manual else (sender.email if sender else None),
        occurred_at=reply.date_received,
        is_automated_reply=reply.automated_reply,
        platform_tag="LEAD_INTERESTED" if event_type == "LEAD_INTERESTED" else None,
        thread_ref=_thread_ref(reply, sender, lead_email),
    )
    return Event(
        kind="outbound" if manual else "reply",
        platform_type=event_type,
        lead=_lead(data.lead) if data.lead else None,
        campaign=_campaign(data.campaign),
        message=message,
    )


def _untracked_event(event_type: str, data: UntrackedReplyData) -> Event:
    reply, sender = data.reply, data.sender_email
    body, body_html = _reply_bodies(reply)
    message = MessageInfo(
        source=REPLY_SOURCE,
        external_id=reply.id,
        direction="inbound",
        subject=reply.email_subject,
        body=body,
        body_html=body_html,
        from_address=reply.from_email_address,
        to_address=sender.email if sender else None,
        occurred_at=reply.date_received,
        is_automated_reply=reply.automated_reply,
        thread_ref={**_thread_ref(reply, sender, reply.from_email_address), "untracked": True},
    )
    return Event(kind="untracked_reply", platform_type=event_type, message=message)


def _email_sent_event(event_type: str, data: EmailSentData) -> Event:
    email, sender = data.scheduled_email, data.sender_email
    body, body_html = _campaign_bodies(email.email_body)
    message = MessageInfo(
        source=SENT_EMAIL_SOURCE,
        external_id=email.id,
        direction="outbound",
        sent_by="campaign",
        subject=email.email_subject,
        body=body,
        body_html=body_html,
        from_address=sender.email if sender else None,
        to_address=data.lead.email,
        occurred_at=email.sent_at,
        thread_ref={
            "scheduled_email_id": email.id,
            "sender_email_id": sender.id if sender else None,
            "sender_email": sender.email if sender else None,
            "lead_email": data.lead.email,
        },
    )
    return Event(
        kind="outbound",
        platform_type=event_type,
        lead=_lead(data.lead),
        campaign=_campaign(data.campaign),
        message=message,
    )
