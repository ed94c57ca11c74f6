"""Workspaces: their webhook secret (created once, shown once, stored as SHA-256) and where
their leads' headcount and industry come from."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sender_service.db.models import Lead, Workspace
from sender_service.ingest import lead_fields


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def webhook_secret_matches(workspace: Workspace, presented: str | None) -> bool:
    """Constant-time check of a presented secret against the stored hash."""
    return secret_matches_hash(workspace.webhook_secret_hash, presented)


def secret_matches_hash(stored_hash: str, presented: str | None) -> bool:
    if not presented:
        return False
    return hmac.compare_digest(hash_secret(presented), stored_hash)


def create_workspace(session: Session, **fields: Any) -> tuple[Workspace, str]:
    """Add a workspace; return it with its webhook secret, which is never stored in clear."""
    secret = new_webhook_secret()
    workspace = Workspace(webhook_secret_hash=hash_secret(secret), **fields)
    session.add(workspace)
    session.flush()
    return workspace, secret


def rotate_webhook_secret(workspace: Workspace) -> str:
    secret = new_webhook_secret()
    workspace.webhook_secret_hash = hash_secret(secret)
    return secret


def set_lead_field_names(
    session: Session, workspace: Workspace, headcount: str | None, industry: str | None
) -> int:
    """Name the custom variables to read headcount and industry from first (blank: the usual
    names only), and read them again on every stored lead; the count of leads that changed.

    Their raw values change, so the next warehouse refresh replicates them and the marts
    bucket them anew. A lead with no value under any name keeps the one it had.
    """
    workspace.headcount_field = (headcount or "").strip() or None
    workspace.industry_field = (industry or "").strip() or None
    fields = lead_fields.FieldNames(workspace.headcount_field, workspace.industry_field)
    rows = session.execute(
        select(Lead.id, Lead.custom_variables, Lead.headcount, Lead.industry).where(
            Lead.workspace_id == workspace.id, Lead.custom_variables.is_not(None)
        )
    )
    changed = []
    for row in rows:
        variables: dict[str, str] = row.custom_variables or {}
        headcount_now = lead_fields.headcount(variables, fields) or row.headcount
        industry_now = lead_fields.industry(variables, fields) or row.industry
        if (headcount_now, industry_now) != (row.headcount, row.industry):
            changed.append({"id": row.id, "headcount": headcount_now, "industry": industry_now})
    if changed:
        session.execute(update(Lead), changed)
    return len(changed)
