"""How long `replyline --help`, `replyline jobs list --help` and `replyline jobs list` take,
against `python -c pass` measured in the same run, and the heaviest imports behind each.

`.venv/bin/python -m bench cli_startup` prints the median wall time of five runs of each (`jobs
list` lists a scratch database), the ratio to the bare interpreter, and the packages whose
import costs most (`python -X importtime`). With `CLI_STARTUP_BEFORE=/path/to/other/checkout`
the same commands are timed in that checkout too (run from its directory, so its
`sender_service` is the one imported), in the same run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench._scratch import scratch_database

ROOT = str(Path(__file__).resolve().parent.parent)
RUNS = 5
COMMANDS: dict[str, list[str]] = {
    "python -c pass": ["-c", "pass"],
    "replyline --help": ["-m", "sender_service", "--help"],
    "replyline jobs list --help": ["-m", "sender_service", "jobs", "list", "--help"],
    "replyline jobs list": ["-m", "sender_service", "jobs", "list"],
}


def wall(args: list[str], cwd: str | None = None) -> float:
    """Median seconds of RUNS runs; `cwd` another checkout, to time its code instead."""
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run([sys.executable, *args], check=True, capture_output=True, cwd=cwd or ROOT)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def heaviest_imports(args: list[str], top: int = 6) -> list[tuple[int, str]]:
    """Seconds of import per package other than Replyline's own, from `-X importtime`.

    Each import Replyline's own modules make (or the interpreter makes at start) is charged
    with its cumulative time; what those packages import in turn is counted inside them.
    """
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args], check=True, capture_output=True, text=True
    )
    rows: list[tuple[int, str, int]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, total, name = line[len("import time:") :].split("|")
        depth = (len(name) - len(name.lstrip())) // 2
        rows.append((depth, name.strip().split(".")[0], int(total)))
    totals: dict[str, int] = {}
    parents: list[tuple[int, str]] = []  # the enclosing imports, read bottom-up
    for depth, root, cumulative in reversed(rows):
        while parents and parents[-1][0] >= depth:
            parents.pop()
        parent_root = parents[-1][1] if parents else None
        ours = ("sender_service", "dagster_project")
        if root not in ours and (parent_root is None or parent_root in ours):
            totals[root] = totals.get(root, 0) + cumulative
        parents.append((depth, root))
    return sorted(((us, n) for n, us in totals.items()), reverse=True)[:top]


def main() -> None:
    # `jobs list` really lists, from a scratch database of its own.
    with scratch_database("cli_startup") as url:
        os.environ["DATABASE_URL"] = url
        measure()


def measure() -> None:
    baseline = wall(COMMANDS["python -c pass"])
    before = os.environ.get("CLI_STARTUP_BEFORE")
    print(f"{'command':<38} {'median s':>9} {'x python -c pass':>17}")
    for label, args in COMMANDS.items():
        if label == "python -c pass":
            print(f"{label:<38} {baseline:>9.3f} {1:>17.1f}")
            continue
        for name, cwd in ([("before", before)] if before else []) + [("now", None)]:
            seconds = wall(args, cwd)
            print(f"{label + ' (' + name + ')':<38} {seconds:>9.3f} {seconds / baseline:>17.1f}")
    for label, args in list(COMMANDS.items())[1:3]:
        print(f"slowest imports under {label}:")
        for us, name in heaviest_imports(args):
            print(f"  {us / 1e6:>7.3f} s  {name}")


if __name__ == "__main__":
    main()
