"""The baseline for `bench.ingest`: a bare Flask endpoint doing one psycopg INSERT per request.

No auth, no validation, no idempotency: the floor that the real webhook is compared with.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import psycopg
from flask import Flask, jsonify, request
from psycopg.types.json import Jsonb

_local = threading.local()


def _conn() -> psycopg.Connection[Any]:
    conn: psycopg.Connection[Any] | None = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = psycopg.connect(os.environ["BENCH_DATABASE_URL"])
        _local.conn = conn
    return conn


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/ingest")
    def ingest() -> Any:
        payload = json.loads(request.get_data())
        conn = _conn()
        with conn.transaction():
            row = conn.execute(
                "insert into bench_events (payload) values (%s) returning id", (Jsonb(payload),)
            ).fetchone()
        assert row is not None
        return jsonify(status="accepted", id=row[0]), 202

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok")

    return app
