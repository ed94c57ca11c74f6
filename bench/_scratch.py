"""A scratch database on the configured server for one benchmark, dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from sender_service.db import migrate
from sender_service.db.engine import resolve_database_url
from sender_service.db.urls import with_database


@contextmanager
def scratch_database(prefix: str = "bench", *, migrated: bool = True) -> Iterator[str]:
    server = resolve_database_url()
    name = f"replyline_{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = with_database(server, name)
    try:
        if migrated:
            migrate.upgrade(url)
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )
