"""JSON errors: `{"error": ..., ...}` with the right status, for every blueprint."""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, jsonify
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


class ApiError(HTTPException):
    """An HTTP error with a JSON body; `extra` adds fields such as `field`."""

    def __init__(self, code: int, error: str, *, close: bool = False, **extra: Any) -> None:
        super().__init__(description=error)
        self.code = code
        self.extra = extra
        # Set when the body was left unread: the server must not drain it to keep the
        # connection alive; closing is cheaper and safer.
        self.close = close


def json_error(exc: Exception) -> tuple[Response, int]:
    if not isinstance(exc, HTTPException):
        log.exception("unhandled error")
        exc = InternalServerError()
    body: dict[str, Any] = {"error": exc.description}
    if isinstance(exc, ApiError):
        body.update(exc.extra)
    response = jsonify(body)
    # Keep what the exception says about itself beyond its body: `Allow` on a 405.
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    if isinstance(exc, ApiError) and exc.close:
        response.headers["Connection"] = "close"
    return response, exc.code or 500
