"""`/api/analytics/*`: the marts of one workspace as JSON, for viewers and above.

Read from the published warehouse file, read-only: a refresh writes a working copy and swaps it
in, so a reader is never blocked by one. No warehouse yet → 503 saying how to build it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select

from sender_service.analytics import DateRange, campaign_analytics_json, lead_analytics
from sender_service.db.engine import session_scope
from sender_service.db.models import Lead
from sender_service.reports.warehouse import WarehouseMissingError
from sender_service.web.access import current_caller, require_role
from sender_service.web.errors import ApiError, json_error
from sender_service.web.params import database_url, path_id, warehouse_path, workspace_param

bp = Blueprint("analytics", __name__, url_prefix="/api/analytics")
bp.register_error_handler(Exception, json_error)


def _week_param() -> date | None:
    raw = request.args.get("week")
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ApiError(400, f"week must be a date YYYY-MM-DD, not {raw!r}", field="week") from None


def _date_param(name: str) -> date | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ApiError(400, f"{name} must be a date YYYY-MM-DD, not {raw!r}", field=name) from None


def _range_param() -> DateRange | None:
    """`from` and `to`, both or neither; both days included, in the workspace's time zone."""
    start, end = _date_param("from"), _date_param("to")
    if start is None and end is None:
        return None
    if start is None or end is None:
        missing = "from" if start is None else "to"
        raise ApiError(400, f"{missing} is required when a range is given", field=missing)
    if end < start:
        raise ApiError(400, f"to ({end}) is before from ({start})", field="to")
    return DateRange(start, end)


def _unavailable(exc: WarehouseMissingError) -> ApiError:
    return ApiError(503, f"the analytics warehouse is not available: {exc}")


@bp.get("/campaigns")
def campaigns() -> Any:
    workspace_id = workspace_param()
    week = _week_param()
    date_range = _range_param()
    with session_scope(database_url()) as session:
        require_role(session, current_caller(session), workspace_id, "viewer")
    try:
        body = campaign_analytics_json(warehouse_path(), workspace_id, week, date_range)
        return Response(body, mimetype="application/json")
    except WarehouseMissingError as exc:
        raise _unavailable(exc) from None


@bp.get("/leads/<lead_id>")
def lead(lead_id: str) -> Any:
    lead_uuid = path_id(lead_id)
    with session_scope(database_url()) as session:
        caller = current_caller(session)
        workspace_id = session.execute(
            select(Lead.workspace_id).where(Lead.id == lead_uuid)
        ).scalar_one_or_none()
        if workspace_id is None:
            raise ApiError(404, "not found")
        require_role(session, caller, workspace_id, "viewer")
    try:
        row = lead_analytics(warehouse_path(), workspace_id, lead_uuid)
    except WarehouseMissingError as exc:
        raise _unavailable(exc) from None
    if row is None:
        raise ApiError(
            404, "the lead is not in the warehouse yet; it appears after the next refresh"
        )
    return jsonify(row)
