"""The pages' blueprint and what every page shares: sign-in required, the user's workspaces,
HTML errors, security headers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from sender_service.db.models import Membership, Workspace
from sender_service.pipeline.gate import shown_score
from sender_service.services import Services
from sender_service.web.access import RANK, Caller, require_role
from sender_service.web.auth import login_manager
from sender_service.web.errors import ApiError
from sender_service.web.html import html_error, security_headers

bp = Blueprint(
    "pages",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/assets",
)


def database_url() -> str:
    url: str = current_app.config["DATABASE_URL"]
    return url


def services() -> Services:
    found: Services = current_app.extensions["replyline_services"]
    return found


def caller() -> Caller:
    return Caller(current_user.user_id, current_user.email)


@dataclass(frozen=True)
class Member:
    workspace_id: uuid.UUID
    name: str
    role: str

    def can(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]


def memberships(session: Session) -> list[Member]:
    rows = session.execute(
        select(Workspace.id, Workspace.name, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == current_user.user_id)
        .order_by(Workspace.name, Workspace.id)
    ).all()
    return [Member(*row) for row in rows]


def parse_id(raw: str | None) -> uuid.UUID:
    """A UUID from a path or query; anything else is a 404, like an id that does not exist."""
    try:
        return uuid.UUID(raw or "")
    except ValueError:
        raise ApiError(404, "not found") from None


def chosen_member(session: Session, role: str = "viewer") -> tuple[Member, list[Member]]:
    """The workspace picked by `?workspace=` (the user's first by name when absent)."""
    members = memberships(session)
    raw = request.values.get("workspace")
    if raw:
        workspace_id = parse_id(raw)
        require_role(session, caller(), workspace_id, role)
        member = next(m for m in members if m.workspace_id == workspace_id)
    elif members:
        member = members[0]
    else:
        raise ApiError(404, "you are not a member of any workspace yet")
    return member, members


def member_of(session: Session, workspace_id: uuid.UUID, role: str = "viewer") -> Member:
    """The user's membership of a workspace: 404 when not a member, 403 without the role."""
    require_role(session, caller(), workspace_id, role)
    return next(m for m in memberships(session) if m.workspace_id == workspace_id)


def waited(since: datetime, now: datetime | None = None) -> str:
    seconds = int(((now or datetime.now(UTC)) - since).total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


@bp.before_request
def _signed_in_only() -> Any:
    if request.endpoint != "pages.static" and not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


bp.register_error_handler(HTTPException, html_error)
bp.after_request(security_headers)


@bp.app_template_filter("num")
def _num(value: Any) -> str:
    return "—" if value is None else f"{int(value):,}"


@bp.app_template_filter("score")
def _score(value: Any) -> str:
    """A confidence or threshold with every digit it has (0.899 never shows as 0.90)."""
    return "—" if value is None else shown_score(value)


@bp.app_template_filter("pct")
def _pct(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:.1f} %"


@bp.app_template_filter("duration")
def _duration(seconds: Any) -> str:
    if seconds is None:
        return "—"
    minutes = float(seconds) / 60
    if minutes < 1:
        return f"{float(seconds):.0f} s"
    if minutes < 90:
        return f"{minutes:.0f} min"
    return f"{minutes / 60:.1f} h"


@bp.app_template_filter("when")
def _when(moment: datetime | None) -> str:
    return "—" if moment is None else f"{moment.astimezone(UTC):%d %b %Y, %H:%M} UTC"


@bp.app_template_filter("arm")
def _arm(mode: str | None) -> str:
    return {"AI_AUTO_SEND": "AI", "SETTER_MANAGED": "Setter"}.get(mode or "", mode or "—")


@bp.app_template_filter("lead_name")
def _lead_name(lead: Any) -> str:
    name = " ".join(p for p in (lead.first_name, lead.last_name) if p)
    return name or lead.email or "Unnamed lead"
