"""The durable job queue: a Postgres table, claimed with SKIP LOCKED, woken by NOTIFY."""

from __future__ import annotations

from typing import Final

JOB_STATUSES: Final = ("queued", "running", "done", "dead")
