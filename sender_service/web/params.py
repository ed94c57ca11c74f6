"""Reading a request's ids and parameters; a bad one is a 400 that names it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TypeVar

from flask import current_app, request
from pydantic import BaseModel, ValidationError

from sender_service.services import Services
from sender_service.web.errors import ApiError

M = TypeVar("M", bound=BaseModel)


def database_url() -> str:
    url: str = current_app.config["DATABASE_URL"]
    return url


def warehouse_path() -> Path:
    """The published warehouse: the app's WAREHOUSE_PATH if configured, else the settings'."""
    configured = current_app.config.get("WAREHOUSE_PATH")
    if configured:
        return Path(configured)
    services: Services = current_app.extensions["replyline_services"]
    return services.settings.warehouse_path


def path_id(raw: str) -> uuid.UUID:
    """A path id as a UUID; anything else is a 404, like an id that does not exist."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ApiError(404, "not found") from None


def required_query(name: str) -> str:
    value = request.args.get(name, "").strip()
    if not value:
        raise ApiError(400, f"the query parameter {name} is required", field=name)
    return value


def workspace_param() -> uuid.UUID:
    raw = required_query("workspace_id")
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ApiError(
            400, f"workspace_id must be a UUID, not {raw!r}", field="workspace_id"
        ) from None


def json_body(model: type[M]) -> M:
    """The request's JSON body validated by `model`; 400 naming the first bad field."""
    try:
        payload = request.get_json(force=True, silent=False)
    except Exception:
        raise ApiError(400, "the body must be a JSON object") from None
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ApiError(400, first["msg"], field=".".join(str(p) for p in first["loc"])) from None
