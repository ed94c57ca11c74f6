"""`GET /healthz` (the database answers, the workers poll) and `GET /openapi.json`."""

from __future__ import annotations

from typing import Any, Final

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from sender_service.db.engine import engine_for
from sender_service.web.errors import ApiError, json_error
from sender_service.web.openapi import openapi_document

# A polling worker refreshes its heartbeat every 10 s; one silent for a minute is stuck or gone.
WORKER_STALE_SECONDS: Final = 60

bp = Blueprint("health", __name__)
bp.register_error_handler(Exception, json_error)


@bp.get("/healthz")
def healthz() -> Any:
    """`worker` is `ok` when a worker polled within the last minute, `stale` (503) when the
    freshest one did not, `none` when no worker is running (none started, or every one was
    stopped on purpose)."""
    try:
        with engine_for(current_app.config["DATABASE_URL"]).connect() as conn:
            silent = conn.execute(
                text("select extract(epoch from now() - max(polled_at)) from worker_heartbeats")
            ).scalar()
    except SQLAlchemyError:
        raise ApiError(503, "database unreachable", status="unavailable") from None
    if silent is None:
        return jsonify(status="ok", database="ok", worker="none")
    if silent > WORKER_STALE_SECONDS:
        raise ApiError(
            503,
            f"no worker has polled the queue for {int(silent)} s",
            status="unavailable",
            database="ok",
            worker="stale",
        )
    return jsonify(status="ok", database="ok", worker="ok")


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(openapi_document())
