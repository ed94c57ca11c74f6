"""A small per-process pool of autocommit psycopg connections for the webhook hot path.

The ORM session costs a pre-ping, a BEGIN and a COMMIT round trip per checkout; a webhook that
is one statement needs none of them. Connections outlive the threads that borrow them (the
development server starts a thread per request), and a broken one is dropped, not returned.

An idle connection the server has ended (a restart, `pg_terminate_backend`, an idle timeout)
is noticed at checkout without a round trip: a healthy idle connection has nothing to read,
an ended one has the server's last message or EOF waiting. It is closed and replaced, so a
database blip costs no request an error.
"""

from __future__ import annotations

import atexit
import os
import select
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final, TypeVar

import psycopg

_MAX_IDLE: Final = 16
T = TypeVar("T")
_lock = threading.Lock()
_idle: dict[tuple[int, str], list[psycopg.Connection[Any]]] = {}


@contextmanager
def connection(url: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection to `url`: each statement is its own transaction."""
    key = (os.getpid(), url)  # never share a connection inherited across a fork
    with _lock:
        idle = _idle.setdefault(key, [])
        conn = idle.pop() if idle else None
    if conn is not None and not _alive(conn):
        conn.close()
        conn = None
    if conn is None:
        conn = psycopg.connect(url, autocommit=True, prepare_threshold=0)
    try:
        yield conn
    except BaseException:
        conn.close()
        raise
    with _lock:
        idle = _idle.setdefault(key, [])
        if len(idle) < _MAX_IDLE and not conn.broken:
            idle.append(conn)
            return
    conn.close()


def run(url: str, statement: Callable[[psycopg.Connection[Any]], T]) -> T:
    """`statement` on a pooled connection, once more on a new one if the connection fails.

    `pg_terminate_backend` returns before the server's goodbye reaches the socket, so an ended
    connection can pass the checkout's look and fail on its first statement. The other idle
    connections were most likely ended with it: they are dropped, and the retry connects
    afresh. Only for statements that are safe to run twice (idempotent ingest).
    """
    try:
        with connection(url) as conn:
            return statement(conn)
    except psycopg.OperationalError:
        with _lock:
            stale = _idle.pop((os.getpid(), url), [])
        for conn in stale:
            conn.close()
        with connection(url) as conn:
            return statement(conn)


def _alive(conn: psycopg.Connection[Any]) -> bool:
    """Whether an idle connection is still usable, asked of the socket, not the server."""
    if conn.closed or conn.broken:
        return False
    poller = select.poll()
    try:
        poller.register(conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    except (OSError, ValueError, psycopg.Error):
        return False
    return not poller.poll(0)


@atexit.register
def close_all() -> None:
    with _lock:
        for conns in _idle.values():
            for conn in conns:
                conn.close()
        _idle.clear()
