"""The Flask app factory. Production: `gunicorn 'sender_service.app:create_app()'`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from sender_service import metrics as counters
from sender_service.db.engine import resolve_database_url
from sender_service.services import Services
from sender_service.settings import load_settings
from sender_service.web import (
    analytics,
    api,
    auth,
    booking_webhooks,
    campaigns,
    exports,
    health,
    metrics,
    pages,
    redact,
    request_ids,
    slack,
    webhooks,
)
from sender_service.web.errors import json_error


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    redact.install()
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config.from_mapping(config or {})
    if not app.config.get("DATABASE_URL"):
        app.config["DATABASE_URL"] = resolve_database_url()
    settings = app.config.get("SETTINGS") or load_settings()
    app.extensions["replyline_services"] = Services(app.config["DATABASE_URL"], settings)
    counters.install_decision_counter()
    request_ids.init_app(app)
    auth.init_app(app, settings)
    # CSRF guards every form by default; the JSON API checks it itself for session callers
    # (web/access.py), and webhooks and health are never called with the pages' cookie.
    json_api = (api.bp, analytics.bp, campaigns.bp, exports.bp)
    for blueprint in (*json_api, webhooks.bp, booking_webhooks.bp, slack.bp, health.bp, metrics.bp):
        auth.csrf.exempt(blueprint)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(booking_webhooks.bp)
    app.register_blueprint(slack.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(analytics.bp)
    app.register_blueprint(campaigns.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(pages.bp)
    # Routing errors (404, 405) happen before any blueprint is chosen.
    app.register_error_handler(404, json_error)
    app.register_error_handler(405, json_error)
    return app
