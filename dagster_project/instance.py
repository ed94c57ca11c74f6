"""DAGSTER_HOME for the CLI and `make dagster`: under var/ by default, telemetry off.

`python -m dagster_project.instance` prepares it and prints its path (the Makefile uses that).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sender_service.settings import Settings, load_settings

DAGSTER_YAML = """\
# Written by Replyline (dagster_project/instance.py).
telemetry:
  enabled: false
concurrency:
  pools:
    # The warehouse pool: one writer at a time (the file lock enforces it across processes).
    default_limit: 1
# Runs' events in SQLite files as by default, each file's engine opened once (event_log.py).
event_log_storage:
  module: dagster_project.event_log
  class: KeptEngineSqliteEventLogStorage
  config:
    base_dir: {runs}
"""


def dagster_home(settings: Settings | None = None) -> Path:
    """The Dagster instance directory, created with its dagster.yaml when missing."""
    env = os.environ.get("DAGSTER_HOME", "").strip()
    home = Path(env) if env else (settings or load_settings()).var_dir / "dagster"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        # A JSON string is a YAML double-quoted scalar: any path, quoted right.
        runs = json.dumps(str(home.resolve() / "history" / "runs"))
        config.write_text(DAGSTER_YAML.format(runs=runs))
    return home.resolve()


if __name__ == "__main__":
    print(dagster_home())
