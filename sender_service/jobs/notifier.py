"""Wake the workers after the webhook hot path commits jobs, many commits to one NOTIFY.

A NOTIFY inside a transaction takes a cluster-wide lock at commit and holds it through the
WAL flush, so concurrent notifying commits run one at a time (about 300 a second here against
1,200+ without). The hot path commits its job without one and calls `wake`; a thread per
process then sends one NOTIFY for everything committed since its last one. It is sent after
the commit, so a woken worker always finds the job; a NOTIFY lost to a crash in between is
covered by the workers' polling.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import psycopg

from sender_service.jobs.queue import CHANNEL

log = logging.getLogger(__name__)

_lock = threading.Lock()
_notifiers: dict[tuple[int, str, str], _Notifier] = {}


class _Notifier:
    def __init__(self, url: str, kind: str) -> None:
        self._url = url
        self._kind = kind
        self._pending = threading.Event()
        threading.Thread(target=self._run, name="replyline-notifier", daemon=True).start()

    def wake(self) -> None:
        self._pending.set()

    def _run(self) -> None:
        conn: psycopg.Connection[tuple[object, ...]] | None = None
        while True:
            self._pending.wait()
            self._pending.clear()  # wakes from now on get a NOTIFY of their own
            # A connection the server ended since the last NOTIFY fails once: a fresh one
            # is tried at once, so a database blip does not leave the workers to poll.
            for attempt in (1, 2):
                try:
                    if conn is None or conn.closed:
                        conn = psycopg.connect(self._url, autocommit=True)
                    conn.execute("select pg_notify(%s, %s)", (CHANNEL, self._kind))
                    break
                except psycopg.Error:
                    if conn is not None:
                        conn.close()
                    conn = None
                    if attempt == 2:
                        log.warning("could not notify the workers; they will poll", exc_info=True)
                        time.sleep(1.0)  # do not hammer a database that is down


def wake(url: str, kind: str) -> None:
    """NOTIFY the workers on `url` soon that a `kind` job was committed."""
    key = (os.getpid(), url, kind)  # a thread does not survive a fork: one per process
    notifier = _notifiers.get(key)
    if notifier is None:
        with _lock:
            notifier = _notifiers.get(key) or _notifiers.setdefault(key, _Notifier(url, kind))
    notifier.wake()
