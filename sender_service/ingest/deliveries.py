"""Every webhook delivery goes through here once authenticated and size-capped: journaled
verbatim, read, and stored; and every replay of a journaled one goes through here again.

Outcomes: `stored` / `duplicate` (written in the same statement or transaction as the event),
`ignored` (a type or channel Replyline does not use), `held` (valid JSON a reader cannot use,
or an email platform's delivery for a workspace now on another one: answered 202 so the
provider neither retries for ever nor disables the hook; replay it after a fix), `rejected`
(not JSON, or another account's delivery: 4xx).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy import select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from sender_service import metrics
from sender_service.booking_sync.ghl import InboundSMS
from sender_service.booking_sync.record import BookingUpdate, Recorded, record
from sender_service.db import pool
from sender_service.db.engine import session_scope
from sender_service.db.models import Lead, WebhookDelivery, Workspace
from sender_service.ingest import journal
from sender_service.ingest.events import Event, Ignored, NotJSON, NotThisWorkspace, PayloadError
from sender_service.ingest.lead_fields import FieldNames
from sender_service.ingest.platforms import EMAIL_PLATFORMS, READERS, Reading, Target
from sender_service.ingest.store import Stored, store_event, store_event_fast, store_message
from sender_service.jobs import notifier

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What became of a delivery: its journal outcome and the HTTP answer to give."""

    outcome: str
    status: int
    answer: dict[str, Any] = field(default_factory=dict)
    lead_id: uuid.UUID | None = None
    error: str | None = None
    error_field: str | None = None

    def detail(self) -> dict[str, Any]:
        return {"error": self.error, "error_field": self.error_field, "lead_id": self.lead_id}


def _held(error: str, error_field: str | None) -> Outcome:
    return Outcome("held", 202, {"status": "held"}, error=error[:500], error_field=error_field)


def read(provider: str, body: bytes, target: Target) -> Reading | Outcome:
    """The reading, or the outcome of a body that cannot be read."""
    if provider in EMAIL_PLATFORMS and target.email_platform not in (None, provider):
        # A late webhook after the workspace switched platform (or a hook left pointing here):
        # kept, never processed while on another platform, whose ids it would mix with and
        # through which none of its replies could be answered.
        return _held(
            f"the workspace's email platform is {target.email_platform}, not {provider}: kept"
            f" unprocessed; switch the workspace back to {provider} and replay it to use it",
            None,
        )
    try:
        return READERS[provider](body, target)
    except NotJSON as exc:
        return Outcome("rejected", 400, {"error": exc.error}, error=exc.error)
    except NotThisWorkspace as exc:
        answer = {"error": exc.error, "field": exc.field}
        return Outcome("rejected", 403, answer, error=exc.error, error_field=exc.field)
    except PayloadError as exc:
        return _held(exc.error, exc.field)
    except Exception as exc:  # a reader's bug must not lose the delivery either
        log.exception("the %s reader failed", provider)
        return _held(f"the reader failed: {type(exc).__name__}", None)


def receive(url: str, entry: journal.Entry, target: Target) -> Outcome:
    """Journal, read and store one live delivery (counted and timed for /metrics)."""
    with metrics.timed(metrics.INGEST_SECONDS, provider=entry.provider):
        outcome = _receive(url, entry, target)
    metrics.WEBHOOK_DELIVERIES.labels(provider=entry.provider, outcome=outcome.outcome).inc()
    return outcome


def _receive(url: str, entry: journal.Entry, target: Target) -> Outcome:
    reading = read(entry.provider, entry.body, target)
    if isinstance(reading, Outcome | Ignored):
        outcome = reading if isinstance(reading, Outcome) else _ignored(reading)
        with pool.connection(url) as conn:
            journal.write(conn, entry, outcome.outcome, **outcome.detail())
        return outcome
    try:
        if isinstance(reading, Event):
            # Idempotent (a redelivery is a duplicate), so a blip may retry it.
            stored = pool.run(url, lambda conn: store_event_fast(conn, entry, reading))
            if stored is not None:
                if stored.job_kind is not None:
                    notifier.wake(url, stored.job_kind)
                return _from_stored(stored)
        with session_scope(url) as session:
            outcome = apply(session, target, reading)
            journal.add(session, entry, outcome.outcome, **outcome.detail())
    except (DataError, psycopg.DataError) as exc:
        # Readable, but the database refuses a value: held, so a fix and a replay recover it.
        outcome = _held(f"the database refused a value: {type(exc).__name__}", None)
        with pool.connection(url) as conn:
            journal.write(conn, entry, outcome.outcome, **outcome.detail())
    return outcome


def apply(session: Session, target: Target, reading: Reading) -> Outcome:
    """Store what a delivery reports, in the caller's transaction."""
    if isinstance(reading, Ignored):
        return _ignored(reading)
    if isinstance(reading, Event):
        return _from_stored(store_event(session, target.workspace_id, reading))
    if isinstance(reading, InboundSMS):
        return _from_stored(_store_sms(session, target.workspace_id, reading))
    assert isinstance(reading, BookingUpdate)
    workspace = session.get_one(Workspace, target.workspace_id)
    return _from_recorded(record(session, workspace, reading))


def replay(session: Session, delivery: WebhookDelivery) -> Outcome:
    """Run a journaled body through today's readers; the journal row takes the new outcome.
    Idempotent like a redelivery: what was stored stays one row."""
    target = target_for(session, delivery.workspace_id)
    reading = read(delivery.provider, delivery.body, target)
    if isinstance(reading, Outcome):
        outcome = reading
    else:
        try:
            with session.begin_nested():
                outcome = apply(session, target, reading)
        except DataError as exc:
            outcome = _held(f"the database refused a value: {type(exc).__name__}", None)
    journal.set_outcome(session, delivery.id, outcome.outcome, **outcome.detail())
    return outcome


def target_for(session: Session, workspace_id: uuid.UUID) -> Target:
    workspace = session.get_one(Workspace, workspace_id)
    return Target(
        workspace.id,
        workspace.ghl_location_id,
        workspace.ghl_calendar_id,
        FieldNames(headcount=workspace.headcount_field, industry=workspace.industry_field),
        workspace.email_platform,
    )


def _ignored(ignored: Ignored) -> Outcome:
    return Outcome("ignored", 200, {"status": "ignored"}, error=ignored.reason[:500])


def _from_stored(stored: Stored) -> Outcome:
    if stored.status == "ignored":
        reason = stored.reason or "no lead matches the email's recipient"
        return Outcome("ignored", 200, {"status": "ignored"}, error=reason)
    if stored.status == "duplicate":
        return Outcome("duplicate", 200, {"status": "duplicate"}, lead_id=stored.lead_id)
    answer = {"status": "accepted"}
    if stored.message_id is not None:
        answer["message_id"] = str(stored.message_id)
    if stored.lead_id is not None:
        answer["lead_id"] = str(stored.lead_id)
    return Outcome("stored", 202, answer, lead_id=stored.lead_id)


def _from_recorded(result: Recorded) -> Outcome:
    if result.status == "duplicate":
        return Outcome("duplicate", 200, {"status": "duplicate"}, lead_id=result.lead_id)
    answer = {"status": result.status, "booking_event_id": str(result.booking_event_id)}
    if result.lead_id is not None:
        answer["lead_id"] = str(result.lead_id)
    return Outcome("stored", 202, answer, lead_id=result.lead_id)


def _store_sms(session: Session, workspace_id: uuid.UUID, sms: InboundSMS) -> Stored:
    """An SMS from a known contact is a reply like an email; an unknown one is only kept."""
    lead = session.execute(
        select(Lead)
        .where(Lead.workspace_id == workspace_id, Lead.ghl_contact_id == sms.contact_id)
        .order_by(Lead.updated_at.desc())
        .limit(1)
    ).scalar()
    return store_message(
        session,
        workspace_id,
        lead.id if lead else None,
        lead.email_campaign_id if lead else None,
        sms.message,
        auto_answer=lead is not None,
    )
