"""`POST /slack/interactions`: the reviewer's buttons and modals in the review DM.

Slack's signature is checked before the body is parsed: a stale or missing timestamp is
refused before a byte of the body is read, and the body is only parsed once one workspace's
signing secret (`slack_signing_secret`) signs it. The answer is immediate: Edit and Regenerate
open their modal, and approving, rejecting, sending an edit and regenerating are done by a job
(`notify.review_actions`), once per click or submitted modal, whatever Slack retries.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Final
from urllib.parse import parse_qs

from flask import Blueprint, current_app, jsonify, request
from pydantic import TypeAdapter, ValidationError
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select

from sender_service.credentials import cipher
from sender_service.db.engine import session_scope
from sender_service.db.models import AIDraft, WorkspaceSecret
from sender_service.jobs import queue
from sender_service.jobs.handlers import REVIEW_FROM_SLACK
from sender_service.notify import review, slack
from sender_service.services import Services
from sender_service.web.errors import ApiError, json_error
from sender_service.web.slack_models import BlockActions, Interaction, Other, ViewSubmission
from sender_service.web.webhooks import read_body

MAX_AGE_SECONDS: Final = 5 * 60  # Slack's replay window
_BUTTONS: Final = (review.APPROVE, review.EDIT, review.REGENERATE, review.REJECT)
_interaction: TypeAdapter[BlockActions | ViewSubmission] = TypeAdapter(Interaction)

bp = Blueprint("slack", __name__)
bp.register_error_handler(Exception, json_error)


def _unauthorized() -> ApiError:
    return ApiError(401, "invalid Slack signature", close=True)


def _services() -> Services:
    services: Services = current_app.extensions["replyline_services"]
    return services


def _signing_workspaces(body: bytes, timestamp: str, signature: str) -> set[uuid.UUID]:
    """The workspaces whose Slack signing secret signed this body (usually one)."""
    services = _services()
    with session_scope(services.url) as session:
        rows = session.execute(
            select(WorkspaceSecret.workspace_id, WorkspaceSecret.ciphertext).where(
                WorkspaceSecret.name == "slack_signing_secret"
            )
        ).all()
    if not rows:
        return set()
    fernet = cipher(services.settings)
    return {
        row.workspace_id
        for row in rows
        if SignatureVerifier(fernet.decrypt(row.ciphertext).decode()).is_valid(
            body, timestamp, signature
        )
    }


def _payload(body: bytes) -> dict[str, Any]:
    form = parse_qs(body.decode("utf-8", "replace"))
    try:
        raw = json.loads(form["payload"][0])
    except (KeyError, ValueError):
        raise ApiError(400, "the body has no JSON `payload` field") from None
    if not isinstance(raw, dict):
        raise ApiError(400, "`payload` is not a JSON object")
    return raw


def _draft_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ApiError(400, "the action does not name a draft", value=raw[:64]) from None


def _enqueue(draft_id: uuid.UUID, dedupe: str, **payload: Any) -> None:
    with session_scope(_services().url) as session:
        queue.enqueue(
            session,
            REVIEW_FROM_SLACK,
            {"draft_id": str(draft_id), **payload},
            dedupe_key=f"{REVIEW_FROM_SLACK}:{dedupe}",
        )


@bp.post("/slack/interactions")
def interactions() -> Any:
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    if not signature or not timestamp.isdigit():
        raise _unauthorized()
    if abs(time.time() - int(timestamp)) > MAX_AGE_SECONDS:
        raise _unauthorized()  # replayed or stale: the body is not even read
    body = read_body()
    signers = _signing_workspaces(body, timestamp, signature)
    if not signers:
        raise _unauthorized()

    raw = _payload(body)
    try:
        kind = Other.model_validate(raw).type
        if kind not in ("block_actions", "view_submission"):
            return "", 200  # nothing of ours to do
        interaction = _interaction.validate_python(raw)
    except ValidationError as exc:
        raise ApiError(400, "not a Slack interaction payload", detail=exc.errors()[:3]) from None

    if isinstance(interaction, BlockActions):
        action = interaction.actions[0]
        if action.action_id not in _BUTTONS:
            return "", 200  # "Open the lead" is a link; Slack reports its clicks too
        draft = _draft(_draft_id(action.value), signers)
        user = interaction.user.id
        if action.action_id in (review.APPROVE, review.REJECT):
            _enqueue(draft.id, f"{user}:{action.action_id}:{action.action_ts}",
                     slack_user_id=user, action=action.action_id)  # fmt: skip
        elif action.action_id == review.EDIT:
            _open(interaction.trigger_id, review.edit_modal(draft.id, draft.body))
        elif action.action_id == review.REGENERATE:
            _open(interaction.trigger_id, review.regenerate_modal(draft.id))
        return "", 200

    return _submitted(interaction, signers)


def _draft(draft_id: uuid.UUID, signers: set[uuid.UUID]) -> AIDraft:
    with session_scope(_services().url) as session:
        draft = session.get(AIDraft, draft_id)
        if draft is None or draft.workspace_id not in signers:
            # Another workspace's secret cannot act on this draft.
            raise ApiError(404, "no such draft")
        session.expunge(draft)
        return draft


def _open(trigger_id: str, view: dict[str, Any]) -> None:
    try:
        slack.open_view(_services().slack, trigger_id, view)
    except slack.SlackError as exc:
        raise ApiError(502, "Slack did not open the form", detail=str(exc)) from None


def _submitted(submission: ViewSubmission, signers: set[uuid.UUID]) -> Any:
    view = submission.view
    if view.callback_id not in (review.EDIT, review.REGENERATE):
        return "", 200
    draft = _draft(_draft_id(view.private_metadata), signers)
    user, dedupe = submission.user.id, f"view:{view.id}"
    if view.callback_id == review.REGENERATE:
        note = view.text(review.NOTE_BLOCK, review.TEXT_INPUT).strip()
        _enqueue(draft.id, dedupe, slack_user_id=user, action=review.REGENERATE, note=note)
        return "", 200
    body = view.text(review.BODY_BLOCK, review.TEXT_INPUT).replace("\r\n", "\n").strip()
    if not body:
        # Slack shows this under the field and keeps the modal open.
        return jsonify(
            response_action="errors", errors={review.BODY_BLOCK: "The reply cannot be empty."}
        )
    _enqueue(draft.id, dedupe, slack_user_id=user, action=review.EDIT, body=body)
    return "", 200
