"""The demo's last word: what `replyline doctor` says of its configuration, and the metrics
an operator would scrape after its replay (the service's `/metrics`, summed over the service
and the worker through the shared multiprocess directory)."""

from __future__ import annotations

import http.client
import shutil
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

from prometheus_client.parser import text_string_to_metric_families

from sender_service import doctor
from sender_service.settings import load_settings

Echo = Callable[[str], None]
METRICS_TOKEN: Final = "demo-metrics-token"


def metrics_env(log_dir: Path) -> dict[str, str]:
    """What the service and worker need to count together and answer `/metrics`."""
    directory = log_dir / "metrics"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return {"PROMETHEUS_MULTIPROC_DIR": str(directory), "METRICS_TOKEN": METRICS_TOKEN}


def print_metrics(port: int, echo: Echo) -> None:
    """Every Replyline sample that is not zero (histograms as count and sum)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    body = conn.getresponse().read().decode()
    conn.close()
    echo("\nGET /metrics after the replay (non-zero Replyline samples):")
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            if not sample.name.startswith("replyline_") or not sample.value:
                continue
            if sample.name.endswith(("_bucket", "_created")):
                continue
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            echo(f"  {sample.name}{{{labels}}} {sample.value:g}")


def print_doctor(env: Mapping[str, str], url: str, workspace_id: uuid.UUID, echo: Echo) -> None:
    settings = load_settings(env)
    echo(f"\nreplyline doctor --workspace {workspace_id} (the demo's configuration):")
    findings = list(doctor.run(settings, url, workspace_id))
    for finding in findings:
        echo(f"  {finding.status:<4}  {finding.check:<15} {finding.detail}")
    code = doctor.exit_code(findings)
    echo(f"  exit {code}: {('all OK', 'warnings', 'failures')[code]}")
