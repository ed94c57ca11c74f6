"""EmailBison webhooks (`event.type` + `data`) parsed into platform-neutral events."""

from __future__ import annotations

from typing import Any, Final, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from sender_service.email_platforms.emailbison import REPLY_SOURCE, SENT_EMAIL_SOURCE
from sender_service.ingest.events import (
    CampaignInfo,
    Event,
    EventKind,
    LeadInfo,
    MessageInfo,
    PayloadError,
)
from sender_service.ingest.guards import Email, OptionalProviderId, SaneTime, load_json
from sender_service.ingest.guards import ProviderId as ExternalId
from sender_service.text_format import html_to_text, looks_like_html


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class EventInfo(_Model):
    type: str


class Envelope(_Model):
    event: EventInfo


class CustomVariable(_Model):
    name: str
    value: str | None = None


class Campaign(_Model):
    id: OptionalProviderId = None  # blank: no campaign, never one shared by strangers
    name: str | None = None


class Lead(_Model):
    id: OptionalProviderId = None  # blank: matched by email instead, never one shared lead
    email: Email | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    title: str | None = None
    custom_variables: list[CustomVariable] | None = None


class Reply(_Model):
    id: ExternalId
    uuid: str | None = None
    email_subject: str | None = None
    from_email_address: Email | None = None
    from_name: str | None = None
    text_body: str | None = None
    html_body: str | None = None
    date_received: SaneTime | None = None
    automated_reply: bool = False


class SenderEmail(_Model):
    id: ExternalId
    email: str | None = None


class ScheduledEmail(_Model):
    id: ExternalId
    email_subject: str | None = None
    email_body: str | None = None
    sent_at: SaneTime | None = None


class ReplyData(_Model):
    lead: Lead
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


M = TypeVar("M", bound=_Model)

PAYLOADS: Final[dict[str, type[_Model]]] = {
    "LEAD_REPLIED": ReplyPayload,
    "LEAD_INTERESTED": ReplyPayload,
    "MANUAL_EMAIL_SENT": ReplyPayload,
    "UNTRACKED_REPLY_RECEIVED": UntrackedReplyPayload,
    "EMAIL_SENT": EmailSentPayload,
    "LEAD_UNSUBSCRIBED": LeadPayload,
    "EMAIL_BOUNCED": LeadPayload,
}


def parse(body: bytes) -> Event | None:
    """The event in an EmailBison webhook body; None for a type Replyline does not handle."""
    raw = load_json(body)
    event_type = _validate(Envelope, raw).event.type.strip().upper()
    model = PAYLOADS.get(event_type)
    if model is None:
        return None
    payload = _validate(model, raw)
    if isinstance(payload, ReplyPayload):
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


def _validate(model: type[M], raw: Any) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        problem = "missing" if first["type"] == "missing" else first["msg"].lower()
        raise PayloadError(f"{where or 'body'}: {problem}", where or None) from None


def _lead(lead: Lead) -> LeadInfo:
    if lead.id is None and not lead.email:
        raise PayloadError("data.lead.id: blank, and no email to match the lead by", "data.lead.id")
    variables = {
        v.name.strip().lower(): v.value for v in lead.custom_variables or [] if v.value is not None
    }
    return LeadInfo(
        external_id=lead.id,
        email=lead.email,
        first_name=lead.first_name,
        last_name=lead.last_name,
        company=lead.company,
        title=lead.title,
        industry=variables.get("industry"),
        headcount=variables.get("headcount"),
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
    lead_email = data.lead.email or (None if manual else reply.from_email_address)
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
        lead=_lead(data.lead),
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
