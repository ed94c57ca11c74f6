"""The follow-up job: send every due step (enqueued each minute by the worker's schedule)."""

from __future__ import annotations

import logging
from typing import Any, Final

from sqlalchemy.orm import Session

from sender_service.followups.run import run_due
from sender_service.jobs.handlers import handler
from sender_service.services import Services

log = logging.getLogger(__name__)

RUN_DUE_FOLLOWUPS: Final = "run_due_followups"


@handler(RUN_DUE_FOLLOWUPS)
def run_due_followups(session: Session, payload: dict[str, Any]) -> None:
    # Each step commits on its own (claim before the provider call); the job's session is
    # only the job's bookkeeping.
    services: Services = session.info["services"]
    summary = run_due(services.url, services.repliers)
    if summary.results:
        log.info(
            "follow-ups: %d sent, %d stopped, %d completed, %d to retry, %d unknown",
            summary.count("sent"),
            summary.count("stopped"),
            summary.count("completed"),
            summary.count("retry"),
            summary.count("unknown"),
        )
