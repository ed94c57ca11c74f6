"""How long `replyline --help` and `replyline jobs list --help` take to start, against
`python -c pass` measured in the same run, and the heaviest imports behind each.

`.venv/bin/python -m bench cli_startup` prints the median wall time of five runs of each, the
ratio to the bare interpreter, and the five slowest top-level imports (`python -X importtime`).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

RUNS = 5
COMMANDS: dict[str, list[str]] = {
    "python -c pass": ["-c", "pass"],
    "replyline --help": ["-m", "sender_service", "--help"],
    "replyline jobs list --help": ["-m", "sender_service", "jobs", "list", "--help"],
}


def wall(args: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run([sys.executable, *args], check=True, capture_output=True)
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
    baseline = wall(COMMANDS["python -c pass"])
    print(f"{'command':<30} {'median s':>9} {'x python -c pass':>17}")
    for label, args in COMMANDS.items():
        seconds = baseline if label == "python -c pass" else wall(args)
        print(f"{label:<30} {seconds:>9.3f} {seconds / baseline:>17.1f}")
    for label, args in list(COMMANDS.items())[1:]:
        print(f"slowest imports under {label}:")
        for us, name in heaviest_imports(args):
            print(f"  {us / 1e6:>7.3f} s  {name}")


if __name__ == "__main__":
    main()
