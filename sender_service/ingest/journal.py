"""The delivery journal's reads and writes (`webhook_deliveries`).

Rows are written by `ingest.deliveries` (every authenticated delivery, in the same statement or
transaction as what it became where there is one) and changed here by replay, discard,
retention and lead erasure.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, cast

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy import CursorResult, delete, func, or_, select, update
from sqlalchemy.orm import Session

from sender_service.db.models import WebhookDelivery

DEFAULT_RETENTION_DAYS: Final = 30
# The headers a reader looks at, kept for replay and for the operator. Signatures and secrets
# never: of Calendly's signature only its timestamp, which says when the provider signed.
_KEPT_HEADERS: Final = ("content-type", "user-agent")


@dataclass(frozen=True)
class Entry:
    """A delivery to journal: who sent it and its raw bytes."""

    provider: str
    workspace_id: uuid.UUID
    body: bytes
    headers: dict[str, str]


def kept_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    lowered = {k.lower(): v for k, v in headers}
    kept = {name: lowered[name] for name in _KEPT_HEADERS if name in lowered}
    signature = lowered.get("calendly-webhook-signature", "")
    stamp = next((p.strip()[2:] for p in signature.split(",") if p.strip()[:2] == "t="), None)
    if stamp is not None:
        kept["calendly-signed-at"] = stamp[:20]
    return kept


# The columns, as the fast store path's CTE and `write` both name them.
COLUMNS: Final = "workspace_id, provider, body, headers, outcome, error, error_field, lead_id"
INSERT: Final = f"""
insert into webhook_deliveries ({COLUMNS})
values (%(j_workspace)s, %(j_provider)s, %(j_body)s, %(j_headers)s, %(j_outcome)s, %(j_error)s,
    %(j_field)s, %(j_lead)s)
"""


def params(
    entry: Entry,
    outcome: str,
    *,
    error: str | None = None,
    error_field: str | None = None,
    lead_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The `j_*` parameters of `INSERT` (and of the fast path's journal CTE)."""
    return {
        "j_workspace": entry.workspace_id,
        "j_provider": entry.provider,
        "j_body": entry.body,
        "j_headers": Jsonb(entry.headers),
        "j_outcome": outcome,
        "j_error": error,
        "j_field": error_field,
        "j_lead": lead_id,
    }


def write(conn: psycopg.Connection[Any], entry: Entry, outcome: str, **detail: Any) -> None:
    """One journal row on its own (autocommit) connection: a delivery that stored nothing."""
    conn.execute(INSERT, params(entry, outcome, **detail))


def add(session: Session, entry: Entry, outcome: str, **detail: Any) -> None:
    """One journal row in the caller's transaction, beside what the delivery stored."""
    session.connection().exec_driver_sql(INSERT, params(entry, outcome, **detail))


def set_outcome(
    session: Session,
    delivery_id: uuid.UUID,
    outcome: str,
    *,
    error: str | None = None,
    error_field: str | None = None,
    lead_id: uuid.UUID | None = None,
) -> None:
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .values(
            outcome=outcome,
            error=error,
            error_field=error_field,
            lead_id=func.coalesce(lead_id, WebhookDelivery.lead_id),
            replayed_at=func.now(),
        )
    )


def held(session: Session, workspace_id: uuid.UUID | None = None) -> Sequence[WebhookDelivery]:
    query = select(WebhookDelivery).where(WebhookDelivery.outcome == "held")
    if workspace_id is not None:
        query = query.where(WebhookDelivery.workspace_id == workspace_id)
    return session.execute(query.order_by(WebhookDelivery.received_at)).scalars().all()


def stale(session: Session, workspace_id: uuid.UUID) -> Sequence[WebhookDelivery]:
    """Calendly deliveries refused for an old signature, not yet reconciled."""
    return (
        session.execute(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.workspace_id == workspace_id,
                WebhookDelivery.outcome == "stale",
            )
            .order_by(WebhookDelivery.received_at)
        )
        .scalars()
        .all()
    )


def held_count(session: Session, workspace_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                WebhookDelivery.workspace_id == workspace_id, WebhookDelivery.outcome == "held"
            )
        )
        or 0
    )


def _rows(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def discard(session: Session, delivery_ids: Sequence[uuid.UUID]) -> int:
    """Give up on held deliveries: retention may then delete them. How many were held."""
    return _rows(
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(delivery_ids), WebhookDelivery.outcome == "held")
            .values(outcome="discarded")
        )
    )


def delete_expired(session: Session, now: datetime, days: int) -> int:
    """Delete rows received more than `days` ago; held ones stay until replayed or discarded."""
    return _rows(
        session.execute(
            delete(WebhookDelivery).where(
                WebhookDelivery.received_at < now - timedelta(days=days),
                WebhookDelivery.outcome != "held",
            )
        )
    )


def scrub_for_lead(
    session: Session, workspace_id: uuid.UUID, lead_id: uuid.UUID, needles: Sequence[str]
) -> int:
    """Empty the bodies of the lead's deliveries: those stored for it, and any whose raw bytes
    name one of its identifiers (an email, a provider id). A held one can no longer be
    replayed, so it is discarded."""
    # `escape` keeps printable ASCII as is, so a case-insensitive match works on the bytes.
    text_body = func.encode(WebhookDelivery.body, "escape")
    match: Any = WebhookDelivery.lead_id == lead_id
    for needle in needles:
        if needle:
            escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            match = or_(match, text_body.ilike(f"%{escaped}%"))
    return _rows(
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.workspace_id == workspace_id, match)
            .values(
                body=b"",
                headers={},
                error=None,
                outcome=func.replace(WebhookDelivery.outcome, "held", "discarded"),
            )
        )
    )
