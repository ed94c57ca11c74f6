"""Shared fixtures: a real PostgreSQL per test session, and the CLI runner.

`TEST_DATABASE_URL` names a server (any database on it); without it the embedded server under
var/pg is started. Each session creates its own database and drops it at the end, so runs never
share state.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from sender_service.db import embedded, migrate
from sender_service.db.engine import session_scope
from sender_service.db.models import TABLES
from sender_service.db.urls import libpq_url, with_database
from sender_service.settings import load_settings
from sender_service.workspaces import create_workspace
from tests.service import Service, run_service


def _server_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if url:
        return libpq_url(url)
    return embedded.server_url(load_settings().embedded_pgdata)


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """A maintenance URL of the PostgreSQL server the tests use."""
    return _server_url()


@pytest.fixture(scope="session")
def make_database(pg_server_url: str) -> Iterator[Callable[[], str]]:
    """A factory of fresh, empty databases on the test server, all dropped at session end."""
    created: list[str] = []

    def make() -> str:
        name = f"replyline_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        created.append(name)
        return with_database(pg_server_url, name)

    yield make
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        for name in created:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
def migrated_url(make_database: Callable[[], str]) -> str:
    """The session's database, migrated to head."""
    url = make_database()
    migrate.upgrade(url)
    return url


@pytest.fixture
def db_url(migrated_url: str) -> Iterator[str]:
    """The migrated session database, emptied after each test."""
    yield migrated_url
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        conn.execute(f"truncate {', '.join(TABLES)} cascade")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """`replyline serve` and `worker` configure process-wide logging, as long-running
    processes should; run in-process by a test, that must not leak into the next test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def cli_runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def service(db_url: str) -> Iterator[Service]:
    """The Flask service over real HTTP on a free loopback port."""
    with run_service(db_url) as running:
        yield running


@pytest.fixture
def workspace(db_url: str) -> tuple[uuid.UUID, str]:
    """A workspace's id and its webhook secret."""
    with session_scope(db_url) as session:
        ws, secret = create_workspace(session, name="Acme", booking_provider="GHL")
        return ws.id, secret
