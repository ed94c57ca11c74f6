"""The JSON API for setters: send or reject a draft, pause or resume AI sends to a lead.
System functions do the work."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from pydantic import ValidationError

from sender_service.db.engine import session_scope
from sender_service.db.models import AIDraft, Lead
from sender_service.sending.review import reject_draft, set_ai_paused
from sender_service.sending.system_sender import send_draft
from sender_service.services import Services
from sender_service.web.access import current_caller, require_role
from sender_service.web.api_models import SendDraftBody
from sender_service.web.errors import ApiError, json_error

bp = Blueprint("api", __name__, url_prefix="/api")
bp.register_error_handler(Exception, json_error)


def _url() -> str:
    url: str = current_app.config["DATABASE_URL"]
    return url


def _draft_id(raw: str) -> uuid.UUID:
    """A path id as a UUID; anything else is a 404, like an id that does not exist."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ApiError(404, "not found") from None


def _authorised_draft(draft_id: uuid.UUID, role: str) -> tuple[uuid.UUID, AIDraft]:
    with session_scope(_url()) as session:
        caller = current_caller(session)
        draft = session.get(AIDraft, draft_id)
        if draft is None:
            raise ApiError(404, "not found")
        require_role(session, caller, draft.workspace_id, role)
        return caller.user_id, draft


def _send_body() -> SendDraftBody:
    if not request.content_length and not request.is_json:
        return SendDraftBody()
    try:
        return SendDraftBody.model_validate(request.get_json(force=True, silent=False))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ApiError(400, first["msg"], field=".".join(str(p) for p in first["loc"])) from None
    except Exception:
        raise ApiError(400, 'the body must be JSON: {"body": "..."} or empty') from None


_SEND_STATUS: dict[str, tuple[int, str]] = {
    "already_handled": (409, "the draft was already handled"),
    "skipped": (409, "the draft cannot be sent"),
    "held": (409, "the draft waits for a person"),
    "unsendable": (422, "the message cannot be sent as written"),
    "not_sent": (502, "the platform did not send it"),
    "unknown": (502, "the platform did not confirm the send; check the thread before retrying"),
}


@bp.post("/drafts/<draft_id>/send")
def send(draft_id: str) -> Any:
    user_id, draft = _authorised_draft(_draft_id(draft_id), "setter")
    edit = _send_body()
    services: Services = current_app.extensions["replyline_services"]
    result = send_draft(
        _url(), draft.id, services.repliers, sent_by="setter", body=edit.body, user_id=user_id
    )
    if result.status == "sent":
        return jsonify(status="sent", message_id=str(result.message_id))
    code, error = _SEND_STATUS[result.status]
    raise ApiError(code, error, status=result.status, detail=result.reason)


@bp.post("/drafts/<draft_id>/reject")
def reject(draft_id: str) -> Any:
    user_id, draft = _authorised_draft(_draft_id(draft_id), "setter")
    if (status := reject_draft(_url(), draft.id, user_id)) is not None:
        raise ApiError(409, f"the draft is already {status}", status=status.replace(" ", "_"))
    return jsonify(status="rejected")


def _set_ai_paused(raw_lead_id: str, paused: bool) -> Any:
    """Setter or admin."""
    lead_id = _draft_id(raw_lead_id)
    with session_scope(_url()) as session:
        caller = current_caller(session)
        lead = session.get(Lead, lead_id)
        if lead is None:
            raise ApiError(404, "not found")
        require_role(session, caller, lead.workspace_id, "setter")
    set_ai_paused(_url(), lead_id, paused)
    return jsonify(lead_id=str(lead_id), ai_paused=paused)


@bp.post("/leads/<lead_id>/pause-ai")
def pause_ai(lead_id: str) -> Any:
    return _set_ai_paused(lead_id, True)


@bp.post("/leads/<lead_id>/resume-ai")
def resume_ai(lead_id: str) -> Any:
    return _set_ai_paused(lead_id, False)
