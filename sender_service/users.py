"""People: users and their role in each workspace."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sender_service.db.models import Membership, User

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def valid_email(email: str) -> bool:
    return bool(_EMAIL_RE.match(email))


def find_user(session: Session, email: str) -> User | None:
    """The user with this email, compared case-insensitively as the unique index does."""
    return session.execute(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).scalar_one_or_none()


def add_member(
    session: Session, email: str, workspace_id: uuid.UUID, role: str
) -> tuple[User, Membership, bool]:
    """Give `email` `role` in the workspace, creating the user if new; True when created."""
    user = find_user(session, email)
    created = user is None
    if user is None:
        user = User(email=email.strip())
        session.add(user)
        session.flush()
    membership = session.execute(
        select(Membership).where(
            Membership.user_id == user.id, Membership.workspace_id == workspace_id
        )
    ).scalar_one_or_none()
    if membership is None:
        membership = Membership(user_id=user.id, workspace_id=workspace_id, role=role)
        session.add(membership)
    else:
        membership.role = role
    session.flush()
    return user, membership, created
