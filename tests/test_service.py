"""The app itself: health, the OpenAPI document kept in step with the routes, JSON errors."""

from __future__ import annotations

import re

import psycopg

from sender_service.app import create_app
from sender_service.jobs.worker import Worker


def test_healthz_checks_the_database(service):
    assert service.request("GET", "/healthz") == (
        200,
        {"status": "ok", "database": "ok", "worker": "none"},
    )


def test_healthz_reports_a_worker_that_stopped_polling(db_url, service):
    worker = Worker(db_url, handlers={})
    with psycopg.connect(db_url, autocommit=True) as conn:
        worker._maybe_heartbeat(conn)  # what the worker's loop does as it polls
        assert service.request("GET", "/healthz") == (
            200,
            {"status": "ok", "database": "ok", "worker": "ok"},
        )
        # The same worker, a minute and a half later without a poll: stuck, or killed.
        conn.execute("update worker_heartbeats set polled_at = now() - interval '90 seconds'")
        status, body = service.request("GET", "/healthz")
        assert (status, body["worker"], body["database"]) == (503, "stale", "ok")
        assert body["error"].startswith("no worker has polled the queue for 9")
    # A worker stopped on purpose takes its heartbeat with it.
    assert worker.run(drain=True) == 0
    assert service.request("GET", "/healthz")[1]["worker"] == "none"


def test_healthz_reports_an_unreachable_database():
    app = create_app({"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"error": "database unreachable", "status": "unavailable"}


def test_openapi_documents_every_route(db_url, service):
    status, document = service.request("GET", "/openapi.json")
    assert status == 200
    assert document["openapi"].startswith("3.1")
    app = create_app({"DATABASE_URL": db_url})
    # The HTML pages (blueprints `pages` and `auth`) are not JSON endpoints; none lives under
    # /api/ or /webhooks/, so every JSON route is still checked.
    html = {"pages", "auth"}
    pages = [r for r in app.url_map.iter_rules() if r.endpoint.split(".")[0] in html]
    assert pages and not [r for r in pages if r.rule.startswith(("/api/", "/webhooks/"))]
    routes = [r for r in app.url_map.iter_rules() if r.endpoint != "static" and r not in pages]
    assert routes
    for rule in routes:
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        assert path in document["paths"], f"{rule.rule} is not in /openapi.json"
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert method.lower() in document["paths"][path], f"{method} {path} undocumented"
    # Every $ref resolves.
    refs = re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', str(document).replace("'", '"'))
    assert refs and set(refs) <= set(document["components"]["schemas"])


def test_unknown_routes_and_methods_answer_json(service):
    assert service.request("GET", "/nope")[0] == 404
    status, body = service.request("GET", "/webhooks/emailbison/x")
    assert status == 405 and "error" in body
