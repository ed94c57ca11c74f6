"""Engines and sessions for the operational store. A session per request or job, never global."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from sender_service.db.resolve import resolve_database_url
from sender_service.db.urls import sqlalchemy_url

__all__ = ["engine_for", "resolve_database_url", "session_scope"]


@cache
def engine_for(url: str) -> Engine:
    # A statement's parameters are emails and message bodies: an error's text (and so a log
    # line, beyond `lead erase`'s reach) shows the SQL only.
    return create_engine(sqlalchemy_url(url), pool_pre_ping=True, future=True, hide_parameters=True)


@cache
def _sessionmaker(url: str) -> sessionmaker[Session]:
    return sessionmaker(engine_for(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back when it raises."""
    session = _sessionmaker(url)()
    try:
        with session.begin():
            yield session
    finally:
        session.close()
