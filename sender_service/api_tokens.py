"""API tokens: shown once at creation, stored as a prefix (to name them) and a SHA-256 hash."""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from sender_service.db.models import ApiToken, User
from sender_service.workspaces import hash_secret

TOKEN_SCHEME = "rl"
# How stale `last_used_at` may be. Writing it on every request made each API call a write, and
# a token's concurrent requests queued on its row lock (the analytics bench's p95 tail).
LAST_USED_RESOLUTION: Final = timedelta(minutes=1)


def issue_token(session: Session, user: User) -> tuple[ApiToken, str]:
    """A new token for `user`: the row and the clear token, which is never stored."""
    prefix = f"{TOKEN_SCHEME}_{secrets.token_hex(4)}"
    token = f"{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken(user_id=user.id, token_prefix=prefix, token_hash=hash_secret(token))
    session.add(row)
    session.flush()
    return row, token


def find_by_prefix(session: Session, prefix: str) -> ApiToken | None:
    return session.execute(
        select(ApiToken).where(ApiToken.token_prefix == prefix)
    ).scalar_one_or_none()


def revoke(token: ApiToken) -> None:
    token.revoked_at = datetime.now(UTC)


def authenticate(session: Session, presented: str) -> User | None:
    """The user a live token belongs to, or None; records when it was last used (to the
    minute)."""
    # The secret part may itself hold underscores; the prefix is the first two fields.
    fields = presented.split("_", 2)
    if len(fields) != 3:
        return None
    found = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_prefix == "_".join(fields[:2]))
    ).one_or_none()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None or not hmac.compare_digest(
        row.token_hash, hash_secret(presented)
    ):
        return None
    now = datetime.now(UTC)
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    return user
