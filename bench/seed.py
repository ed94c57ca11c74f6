"""`replyline seed` throughput and memory: 10k and 100k leads, each into a fresh database.

Each size runs the real console script in a subprocess; `os.wait4` gives that child's own peak
RSS, so the two figures show whether memory stays flat as N grows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from bench._scratch import scratch_database

SIZES = (10_000, 100_000)


def _run_seed(url: str, leads: int) -> tuple[dict[str, int], float, float]:
    """Row counts, wall seconds and peak RSS (MB) of one seed run."""
    exe = os.path.join(os.path.dirname(sys.executable), "replyline")
    args = [exe, "seed", "--leads", str(leads), "--random-seed", "1", "--json"]
    started = time.perf_counter()
    child = subprocess.Popen(
        args, stdout=subprocess.PIPE, env={**os.environ, "DATABASE_URL": url}, text=True
    )
    assert child.stdout is not None
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"seed of {leads} leads failed with exit code {child.returncode}")
    rows: dict[str, int] = json.loads(out)["rows"]
    return rows, seconds, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    for leads in SIZES:
        with scratch_database() as url:
            rows, seconds, peak_mb = _run_seed(url, leads)
        total = sum(rows.values())
        print(
            f"seed {leads:>7,} leads: {total:>9,} rows ({rows['messages']:,} messages) "
            f"in {seconds:5.1f}s = {total / seconds:>8,.0f} rows/s, peak RSS {peak_mb:.0f} MB",
            flush=True,
        )
