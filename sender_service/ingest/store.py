"""Store one platform-neutral event in one transaction, idempotently.

Ten identical deliveries at once give one row: every write is an `insert ... on conflict`, and
only the transaction whose message insert won enqueues the job.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from sender_service.booking_sync.record import match_unmatched
from sender_service.campaigns import get_or_create_campaign
from sender_service.db.models import (
    Base,
    EmailCampaign,
    Lead,
    Membership,
    Message,
    UnmatchedBooking,
    Workspace,
)
from sender_service.ingest import journal
from sender_service.ingest.events import CampaignInfo, Event, LeadInfo, MessageInfo
from sender_service.jobs import queue
from sender_service.jobs.handlers import CLASSIFY_REPLY
from sender_service.pipeline.takeover import close_open_drafts

_MESSAGES = Base.metadata.tables["messages"]
_LEAD_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "company",
    "title",
    "industry",
    "headcount",
    "custom_variables",
)


@dataclass(frozen=True)
class Stored:
    status: Literal["accepted", "duplicate", "ignored"]
    message_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    # Set by `store_event_fast` when it committed a job whose NOTIFY the caller still owes.
    job_kind: str | None = None
    reason: str | None = None  # why an `ignored` event was (kept in the journal)


def store_event(session: Session, workspace_id: uuid.UUID, event: Event) -> Stored:
    campaign_id = None
    if event.campaign is not None:
        campaign_id = _campaign_id(session, workspace_id, event.campaign)
    lead_id = None
    if event.lead is not None:
        lead_id = upsert_lead(session, workspace_id, event.lead, campaign_id)
        if event.lead.email:
            _match_waiting_bookings(session, workspace_id, lead_id, event.lead.email)
    elif event.kind == "untracked_reply" and event.message is not None:
        lead_id, campaign_id = _match_lead_by_email(
            session, workspace_id, event.message.from_address
        )
    elif event.kind == "outbound" and event.message is not None:
        # A newly composed email names no lead: its recipient does, or it is not ours.
        lead_id, campaign_id = _match_lead_by_email(session, workspace_id, event.message.to_address)
        if lead_id is None:
            return Stored("ignored")

    if event.kind == "tagged":
        assert lead_id is not None and event.tag is not None
        return _tag_reply(session, workspace_id, lead_id, event)
    if event.kind == "unsubscribed":
        assert lead_id is not None
        stored = _flag_lead(session, lead_id, Lead.opted_out.is_(False), {"opted_out": True})
        _close_drafts(session, lead_id, "rejected", "the lead unsubscribed")
        return stored
    if event.kind == "bounced":
        assert lead_id is not None
        # A bounced address cannot be answered: the lead counts as opted out from now on.
        stored = _flag_lead(
            session,
            lead_id,
            Lead.bounced_at.is_(None),
            {"bounced_at": func.now(), "opted_out": True},
        )
        _close_drafts(session, lead_id, "rejected", "the lead's address bounced")
        return stored

    assert event.message is not None
    # Untracked replies are classified but never auto-answered.
    return store_message(
        session, workspace_id, lead_id, campaign_id, event.message, event.kind == "reply"
    )


def _tag_reply(
    session: Session, workspace_id: uuid.UUID, lead_id: uuid.UUID, event: Event
) -> Stored:
    """Label the reply the platform names with its tag; the lead's latest reply when it names
    none, or one Replyline does not hold (a label is about the lead's conversation)."""
    replies = select(Message.id, Message.platform_tag).where(
        Message.workspace_id == workspace_id,
        Message.lead_id == lead_id,
        Message.direction == "inbound",
    )
    named = None
    if event.tagged_message is not None:
        source, external_id = event.tagged_message
        named = replies.where(Message.source == source, Message.external_id == external_id)
    latest = replies.order_by(Message.occurred_at.desc(), Message.created_at.desc()).limit(1)
    row = None
    for query in (q for q in (named, latest) if q is not None):
        row = session.execute(query.with_for_update()).first()
        if row is not None:
            break
    if row is None:
        return Stored("ignored", lead_id=lead_id, reason="no reply of the lead to tag")
    if row.platform_tag == event.tag:
        return Stored("duplicate", message_id=row.id, lead_id=lead_id)
    session.execute(update(Message).where(Message.id == row.id).values(platform_tag=event.tag))
    return Stored("accepted", message_id=row.id, lead_id=lead_id)


def _message_columns(message: MessageInfo) -> dict[str, Any]:
    """The message's own columns, as both store paths write them."""
    return {
        "direction": message.direction,
        "subject": message.subject,
        "body": message.body,
        "body_html": message.body_html,
        "from_address": message.from_address,
        "to_address": message.to_address,
        "platform_tag": message.platform_tag,
        "is_automated_reply": message.is_automated_reply,
        "sent_by": message.sent_by,
        "delivery_status": "sent" if message.direction == "outbound" else None,
        "source": message.source,
        "external_id": message.external_id,
    }


def store_message(
    session: Session,
    workspace_id: uuid.UUID,
    lead_id: uuid.UUID | None,
    campaign_id: uuid.UUID | None,
    message: MessageInfo,
    auto_answer: bool,
) -> Stored:
    """Insert one message (once); an inbound one is queued for classification."""
    message_id = _insert_message(session, workspace_id, lead_id, campaign_id, message)
    if message_id is None:
        if message.platform_tag:
            # The platform tagged a reply we already hold (LEAD_INTERESTED after LEAD_REPLIED).
            session.execute(
                update(Message)
                .where(*_message_key(workspace_id, message))
                .where(Message.platform_tag.is_distinct_from(message.platform_tag))
                .values(platform_tag=message.platform_tag)
            )
        return Stored("duplicate", lead_id=lead_id)
    if message.sent_by == "setter" and lead_id is not None:
        # A setter answered from the platform's inbox: the AI stands down for what came before.
        _close_drafts(
            session,
            lead_id,
            "superseded",
            "a setter answered from the platform's inbox",
            replied_before=message.occurred_at or datetime.now(UTC),
        )
    if message.direction == "inbound":
        queue.enqueue(
            session,
            CLASSIFY_REPLY,
            {"message_id": str(message_id), "auto_answer": auto_answer},
            dedupe_key=f"{CLASSIFY_REPLY}:{message_id}",
        )
    return Stored("accepted", message_id=message_id, lead_id=lead_id)


def _close_drafts(
    session: Session,
    lead_id: uuid.UUID,
    status: Literal["superseded", "rejected"],
    reason: str,
    *,
    replied_before: datetime | None = None,
) -> None:
    # Under the lead's row lock, like every send: a send being claimed finishes first.
    session.execute(select(Lead.id).where(Lead.id == lead_id).with_for_update())
    close_open_drafts(session, lead_id, status=status, reason=reason, replied_before=replied_before)


def _campaign_id(session: Session, workspace_id: uuid.UUID, campaign: CampaignInfo) -> uuid.UUID:
    """The campaign's id; a new one is created with the defaults and its history row."""
    known: uuid.UUID | None = (
        session.connection()
        .execute(
            select(EmailCampaign.id).where(
                EmailCampaign.workspace_id == workspace_id,
                EmailCampaign.external_id == campaign.external_id,
            )
        )
        .scalar_one_or_none()
    )
    if known is not None:
        return known
    created, _ = get_or_create_campaign(session, workspace_id, campaign.external_id, campaign.name)
    return created.id


# Typed, since an INSERT ... SELECT does not infer a parameter's type from its column.
_LEAD_TYPES = {"custom_variables": "jsonb"}
_MERGED = ("email_campaign_id", *_LEAD_FIELDS)
_NEW = ", ".join(f"coalesce(excluded.{c}, l.{c})" for c in _MERGED)
# One round trip whether the lead is new, changed or unchanged. An unchanged row is not
# updated (so redeliveries do not bump updated_at) and comes from the second branch.
_UPSERT_LEAD = text(
    f"""
    with upserted as (
        insert into leads as l (workspace_id, external_id, {", ".join(_MERGED)})
        values (:workspace_id, :external_id, {", ".join(":" + c for c in _MERGED)})
        on conflict (workspace_id, external_id) do update
        set {", ".join(f"{c} = coalesce(excluded.{c}, l.{c})" for c in _MERGED)}
        where ({", ".join("l." + c for c in _MERGED)}) is distinct from ({_NEW})
        returning id
    )
    select id from upserted
    union all
    select id from leads where workspace_id = :workspace_id and external_id = :external_id
    limit 1
    """
)


def upsert_lead(
    session: Session, workspace_id: uuid.UUID, lead: LeadInfo, campaign_id: uuid.UUID | None
) -> uuid.UUID:
    """Insert or refresh the lead; a blank field in the event never erases a known value."""
    if lead.external_id is None:
        by_email: dict[str, Any] = {f: getattr(lead, f) for f in _LEAD_FIELDS}
        by_email["custom_variables"] = lead.custom_variables
        return _upsert_lead_by_email(session, workspace_id, by_email, campaign_id)
    params = _lead_params(lead)
    lead_id: uuid.UUID | None = (
        session.connection()
        .execute(
            _UPSERT_LEAD,
            {
                "workspace_id": workspace_id,
                "external_id": lead.external_id,
                "email_campaign_id": campaign_id,
                **params,
            },
        )
        .scalar_one_or_none()
    )
    if lead_id is None:
        # A concurrent delivery inserted the lead after this statement's snapshot was taken.
        lead_id = session.execute(
            select(Lead.id).where(
                Lead.workspace_id == workspace_id, Lead.external_id == lead.external_id
            )
        ).scalar_one()
    return lead_id


def _lead_params(lead: LeadInfo) -> dict[str, Any]:
    params: dict[str, Any] = {f: getattr(lead, f) for f in _LEAD_FIELDS}
    if lead.custom_variables is not None:
        params["custom_variables"] = Jsonb(lead.custom_variables)
    return params


def _upsert_lead_by_email(
    session: Session,
    workspace_id: uuid.UUID,
    params: dict[str, Any],
    campaign_id: uuid.UUID | None,
) -> uuid.UUID:
    """A lead the provider sent without an id: the workspace's lead with that address (the
    most recently updated), else a new lead without an external id. Never keyed by ""."""
    known = {k: v for k, v in {**params, "email_campaign_id": campaign_id}.items() if v is not None}
    lead_id: uuid.UUID | None = session.execute(
        select(Lead.id)
        .where(Lead.workspace_id == workspace_id, func.lower(Lead.email) == params["email"].lower())
        .order_by(Lead.updated_at.desc())
        .limit(1)
        .with_for_update()
    ).scalar()
    if lead_id is None:
        return session.execute(
            insert(Lead).values(workspace_id=workspace_id, **known).returning(Lead.id)
        ).scalar_one()
    session.execute(update(Lead).where(Lead.id == lead_id).values(**known))
    return lead_id


def _match_waiting_bookings(
    session: Session, workspace_id: uuid.UUID, lead_id: uuid.UUID, email: str
) -> None:
    """A booking that arrived before its lead is applied as soon as the lead appears."""
    waiting = (
        session.connection()
        .execute(
            select(UnmatchedBooking.id)
            .where(
                UnmatchedBooking.workspace_id == workspace_id,
                UnmatchedBooking.matched_lead_id.is_(None),
                func.lower(UnmatchedBooking.invitee_email) == email.lower(),
            )
            .limit(1)
        )
        .first()
    )
    if waiting is not None:
        workspace = session.get_one(Workspace, workspace_id)
        match_unmatched(session, workspace, session.get_one(Lead, lead_id))


def _match_lead_by_email(
    session: Session, workspace_id: uuid.UUID, email: str | None
) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    if not email:
        return None, None
    row = session.execute(
        select(Lead.id, Lead.email_campaign_id)
        .where(Lead.workspace_id == workspace_id, func.lower(Lead.email) == email.lower())
        .order_by(Lead.updated_at.desc())
        .limit(1)
    ).first()
    return (row.id, row.email_campaign_id) if row else (None, None)


def _flag_lead(session: Session, lead_id: uuid.UUID, unset: Any, values: dict[str, Any]) -> Stored:
    changed = session.execute(
        update(Lead).where(Lead.id == lead_id, unset).values(**values).returning(Lead.id)
    ).scalar_one_or_none()
    return Stored("accepted" if changed else "duplicate", lead_id=lead_id)


def _message_key(workspace_id: uuid.UUID, message: MessageInfo) -> tuple[Any, ...]:
    return (
        Message.workspace_id == workspace_id,
        Message.channel == message.channel,
        Message.source == message.source,
        Message.external_id == message.external_id,
    )


def _insert_message(
    session: Session,
    workspace_id: uuid.UUID,
    lead_id: uuid.UUID | None,
    campaign_id: uuid.UUID | None,
    message: MessageInfo,
) -> uuid.UUID | None:
    values: dict[str, Any] = {
        "workspace_id": workspace_id,
        "lead_id": lead_id,
        "email_campaign_id": campaign_id,
        "channel": message.channel,
        **_message_columns(message),
        "thread_ref": message.thread_ref,
    }
    if message.occurred_at is not None:
        values["occurred_at"] = message.occurred_at
    if message.sent_by == "setter" and message.from_address:
        # Sent from the platform's inbox: credited to the member who set that mailbox as theirs.
        values["sent_by_user_id"] = (
            select(Membership.user_id)
            .where(
                Membership.workspace_id == workspace_id,
                func.lower(Membership.sending_mailbox) == message.from_address.strip().lower(),
            )
            .order_by(Membership.user_id)
            .limit(1)
            .scalar_subquery()
        )
    # Core, not ORM: the ORM's bulk-insert machinery costs more than the round trip here.
    statement = (
        insert(_MESSAGES)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["workspace_id", "channel", "source", "external_id"])
        .returning(_MESSAGES.c.id)
    )
    message_id: uuid.UUID | None = session.connection().execute(statement).scalar_one_or_none()
    return message_id


# The common case in one statement, so one round trip and (in autocommit) one transaction:
# the campaign is known, the lead is upserted, the message inserted `on conflict do nothing`
# and, when it is new and inbound, the job enqueued. Every write depends on the campaign row,
# so an unknown campaign writes nothing and the general path takes over. No NOTIFY here: see
# `sender_service.jobs.notifier`.
_FAST_STORE = f"""
with campaign as (
    select id from email_campaigns
    where workspace_id = %(workspace_id)s and external_id = %(campaign)s
),
upserted as (
    insert into leads as l (workspace_id, external_id, {", ".join(_MERGED)})
    select %(workspace_id)s, %(lead)s, campaign.id,
        {", ".join(f"%({c})s::{_LEAD_TYPES.get(c, 'text')}" for c in _LEAD_FIELDS)}
    from campaign
    on conflict (workspace_id, external_id) do update
    set {", ".join(f"{c} = coalesce(excluded.{c}, l.{c})" for c in _MERGED)}
    where ({", ".join("l." + c for c in _MERGED)}) is distinct from ({_NEW})
    returning id
),
lead as (
    select id from upserted
    union all
    select id from leads where workspace_id = %(workspace_id)s and external_id = %(lead)s
    limit 1
),
message as (
    insert into messages (workspace_id, lead_id, email_campaign_id, direction, channel,
        subject, body, body_html, from_address, to_address, platform_tag, is_automated_reply,
        sent_by, delivery_status, source, external_id, thread_ref, occurred_at)
    select %(workspace_id)s, lead.id, campaign.id, %(direction)s, 'email', %(subject)s,
        %(body)s, %(body_html)s, %(from_address)s, %(to_address)s, %(platform_tag)s,
        %(is_automated_reply)s, %(sent_by)s, %(delivery_status)s, %(source)s, %(external_id)s,
        %(thread_ref)s, coalesce(%(occurred_at)s, now())
    from lead, campaign
    on conflict (workspace_id, channel, source, external_id) do nothing
    returning id
),
job as (
    insert into jobs (kind, payload, dedupe_key)
    select %(job_kind)s::text,
        jsonb_build_object('message_id', message.id::text, 'auto_answer', %(auto_answer)s),
        %(job_kind)s::text || ':' || message.id::text
    from message
    where %(enqueue)s
    on conflict (dedupe_key) where dedupe_key is not null do nothing
    returning kind
),
-- The delivery's journal row, written only when this statement settles the delivery (the
-- general path journals the others).
journaled as (
    insert into webhook_deliveries ({journal.COLUMNS})
    select %(j_workspace)s, %(j_provider)s, %(j_body)s, %(j_headers)s,
        case when exists (select from message) then 'stored' else 'duplicate' end,
        null, null, lead.id
    from lead, campaign
    where exists (select from message) or %(platform_tag)s::text is null
)
select (select id from campaign), (select id from lead), (select id from message),
    (select kind from job)
"""


def store_event_fast(
    conn: psycopg.Connection[Any], entry: journal.Entry, event: Event
) -> Stored | None:
    """Store a reply or campaign email of a known campaign, and journal its delivery, in one
    statement on an autocommit connection; None, with nothing written, when the event needs
    `store_event` (campaign new or absent, another kind, a setter's reply, a duplicate
    carrying a platform tag, or a lead a concurrent delivery just added).
    The caller wakes the workers for `Stored.job_kind` once this returns."""
    workspace_id = entry.workspace_id
    message, lead, campaign = event.message, event.lead, event.campaign
    if event.kind not in ("reply", "outbound") or not (message and lead and campaign):
        return None
    if message.sent_by == "setter":
        return None  # a setter's inbox reply also closes the AI's drafts: `store_event` does
    if lead.external_id is None:
        return None  # matched by email: `store_event` does

    row = conn.execute(
        _FAST_STORE,
        {
            "workspace_id": workspace_id,
            "campaign": campaign.external_id,
            "lead": lead.external_id,
            **_lead_params(lead),
            **_message_columns(message),
            "thread_ref": Jsonb(message.thread_ref),
            "occurred_at": message.occurred_at,
            "job_kind": CLASSIFY_REPLY,
            # Same payload as `store_event`'s enqueue; untracked replies never come this way.
            "auto_answer": event.kind == "reply",
            "enqueue": message.direction == "inbound",
            **journal.params(entry, "stored"),
        },
    ).fetchone()
    assert row is not None
    campaign_id, lead_id, message_id, job_kind = row
    if campaign_id is None or lead_id is None:
        return None
    if message_id is None:
        return None if message.platform_tag else Stored("duplicate", lead_id=lead_id)
    return Stored("accepted", message_id=message_id, lead_id=lead_id, job_kind=job_kind)
