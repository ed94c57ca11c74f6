"""Access control in one place: who is asking, and may they act in this workspace.

`/api/*` takes `Authorization: Bearer <token>` or, without that header, the pages' signed-in
session; with a session, unsafe methods also need the CSRF token (`X-CSRFToken` header or a
`csrf_token` form field), since a browser sends the cookie on any site's behalf. No or an
invalid credential → 401; a workspace the user is not a member of → 404 (its existence is not
revealed); a member without the role → 403. Roles are ordered: viewer reads, setter also sends
and pauses, admin also configures. The pages call `require_role` too.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final

from flask import request
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from sqlalchemy import select
from sqlalchemy.orm import Session

from sender_service.api_tokens import authenticate
from sender_service.db.models import Membership, User
from sender_service.web.errors import ApiError

RANK: Final = {"viewer": 0, "setter": 1, "admin": 2}
_SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Caller:
    user_id: uuid.UUID
    email: str


def current_caller(session: Session) -> Caller:
    header = request.headers.get("Authorization")
    if header is None and current_user.is_authenticated:
        return _session_caller()
    scheme, _, token = (header or "").partition(" ")
    user: User | None = None
    if scheme.lower() == "bearer" and token.strip():
        user = authenticate(session, token.strip())
    if user is None:
        raise ApiError(401, "a valid API token is required (Authorization: Bearer <token>)")
    return Caller(user.id, user.email)


def _session_caller() -> Caller:
    if request.method not in _SAFE_METHODS:
        token = request.headers.get("X-CSRFToken") or request.form.get("csrf_token")
        try:
            validate_csrf(token)
        except ValueError as exc:  # wtforms.ValidationError: missing, expired or forged
            raise ApiError(400, "the CSRF token is missing or invalid", detail=str(exc)) from None
    return Caller(current_user.user_id, current_user.email)


def require_role(session: Session, caller: Caller, workspace_id: uuid.UUID, role: str) -> str:
    """The caller's role in the workspace, if at least `role`; else 404 or 403."""
    member_role = session.execute(
        select(Membership.role).where(
            Membership.user_id == caller.user_id, Membership.workspace_id == workspace_id
        )
    ).scalar_one_or_none()
    if member_role is None:
        raise ApiError(404, "not found")
    if RANK[member_role] < RANK[role]:
        raise ApiError(403, f"this needs the {role} role; you are a {member_role}")
    return member_role
