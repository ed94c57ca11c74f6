"""`GET /healthz` (the database answers) and `GET /openapi.json`."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from sender_service.db.engine import engine_for
from sender_service.web.errors import ApiError, json_error
from sender_service.web.openapi import openapi_document

bp = Blueprint("health", __name__)
bp.register_error_handler(Exception, json_error)


@bp.get("/healthz")
def healthz() -> Any:
    try:
        with engine_for(current_app.config["DATABASE_URL"]).connect() as conn:
            conn.execute(text("select 1"))
    except SQLAlchemyError:
        raise ApiError(503, "database unreachable", status="unavailable") from None
    return jsonify(status="ok", database="ok")


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(openapi_document())
