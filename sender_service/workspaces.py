"""Workspaces and their webhook secret: created once, shown once, stored as SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from sqlalchemy.orm import Session

from sender_service.db.models import Workspace


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
