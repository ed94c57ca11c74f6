"""`GET /metrics`: Prometheus text, for a scraper holding METRICS_TOKEN.

Without METRICS_TOKEN the route answers 404, so a service exposed to the internet never
shows its counters by accident; `gunicorn.conf.py` can serve them on an address of their own.
The token is checked in constant time, like every other secret.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, Response, current_app, request

from sender_service.web.errors import ApiError, json_error

bp = Blueprint("metrics", __name__)
bp.register_error_handler(Exception, json_error)


@bp.get("/metrics")
def metrics() -> Any:
    from sender_service import metrics as counters

    settings = current_app.extensions["replyline_services"].settings
    token = settings.metrics_token
    if not token:
        raise ApiError(404, "metrics are not served here (METRICS_TOKEN is not set)")
    presented = request.headers.get("Authorization", "")
    if not hmac.compare_digest(presented.encode(), f"Bearer {token}".encode()):
        raise ApiError(401, "a valid metrics token is required", close=True)
    body, content_type = counters.exposition(
        current_app.config["DATABASE_URL"], settings.warehouse_path
    )
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})
