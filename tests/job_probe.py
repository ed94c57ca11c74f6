"""A worker process for the tests: the real Worker with one `probe` handler.

`python -m tests.job_probe DB_URL START_LOG` — each run appends `start <n> <pid> <time>` to
START_LOG when it begins, and inserts into `probe_runs` in the job's own transaction, so a row
exists exactly for the runs that completed.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from sender_service.jobs.worker import Worker


def main(url: str, start_log: str) -> None:
    def probe(session: Session, payload: dict[str, Any]) -> None:
        started = time.time()
        with open(start_log, "a") as log:
            log.write(f"start {payload['n']} {os.getpid()} {started}\n")
        time.sleep(payload.get("sleep", 0.1))
        session.execute(
            text(
                "insert into probe_runs (n, pid, started_at, finished_at)"
                " values (:n, :pid, to_timestamp(:started), clock_timestamp())"
            ),
            {"n": payload["n"], "pid": os.getpid(), "started": started},
        )

    worker = Worker(url, handlers={"probe": probe}, poll_interval=0.2, reap_interval=0.2)
    worker.install_signal_handlers()
    worker.run()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
