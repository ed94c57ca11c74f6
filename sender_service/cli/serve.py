"""`replyline serve`: the Flask service for development (production runs gunicorn)."""

from __future__ import annotations

import click
from werkzeug.serving import run_simple

from sender_service import logs
from sender_service.app import create_app
from sender_service.cli.common import database_url


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def serve(host: str, port: int) -> None:
    """Serve the webhooks and the JSON API with Werkzeug's threaded server."""
    logs.configure()
    app = create_app({"DATABASE_URL": database_url()})
    run_simple(host, port, app, threaded=True)
