"""A real pipeline worker process for the fault tests, with short intervals and backoffs.

`python -m tests.pipeline_worker DB_URL` — the services come from the environment
(OPENAI_BASE_URL, SLACK_API_URL, REPLYLINE_SECRET_KEY, ...), as in production.
"""

from __future__ import annotations

import sys
from datetime import timedelta

from sender_service.jobs.worker import Worker
from sender_service.sending.providers import Repliers
from sender_service.services import Services
from sender_service.settings import load_settings

PLATFORM_TIMEOUT = 1.0
CLAIM_TIMEOUT = timedelta(seconds=2)


def make_worker(url: str, services: Services | None = None) -> Worker:
    services = services or Services(url, load_settings())
    # Seeded into the cached property: a short platform timeout keeps the tests fast.
    services.__dict__["repliers"] = Repliers(url, services.settings, timeout=PLATFORM_TIMEOUT)
    return Worker(
        url,
        services=services,
        poll_interval=0.1,
        reap_interval=0.2,
        sweep_interval=0.3,
        claim_timeout=CLAIM_TIMEOUT,
        backoff_base=0.1,
    )


if __name__ == "__main__":
    worker = make_worker(sys.argv[1])
    worker.install_signal_handlers()
    worker.run()
