"""The weekly report, posted to the workspace's Slack channel: a summary and its files.

Idempotent per report: a `slack-posted` marker in the report's folder says it went out, so the
hourly schedule posts each week once and retries one whose post failed.
"""

from __future__ import annotations

import csv
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from sender_service import metrics
from sender_service.notify.slack import SlackError, escape
from sender_service.reports.private_files import write_private

MARKER: Final = "slack-posted"
FILES: Final = ("report.html", "funnel.png", "ai_vs_setter.png", "trend.png", "kpis.csv")


@dataclass(frozen=True)
class WeekNumbers:
    positive: int
    meetings_requested: int
    booked: int
    ai_sends: int
    setter_sends: int


def week_numbers(report_dir: Path) -> WeekNumbers:
    """The week's totals, read back from the report's own `kpis.csv`."""
    totals = dict.fromkeys(
        (
            "new_positive_leads",
            "new_meetings_requested_leads",
            "new_booked_leads",
            "ai_sends",
            "setter_sends",
        ),
        0,
    )
    with (report_dir / "kpis.csv").open(newline="") as f:
        for row in csv.DictReader(f):
            for key in totals:
                totals[key] += int(row.get(f"week_{key}") or 0)
    return WeekNumbers(
        totals["new_positive_leads"],
        totals["new_meetings_requested_leads"],
        totals["new_booked_leads"],
        totals["ai_sends"],
        totals["setter_sends"],
    )


def summary(name: str, week: str, numbers: WeekNumbers, link: str | None) -> str:
    text = (
        f"*Weekly report — {escape(name)}, week of {week}*\n"
        f"{numbers.positive} new positive leads, {numbers.meetings_requested} asked for a "
        f"meeting, {numbers.booked} booked. Answers: {numbers.ai_sends} by the AI, "
        f"{numbers.setter_sends} by setters."
    )
    return text + (f"\nFull report: {link}" if link else "")


def post_report(
    client: WebClient, channel: str, report_dir: Path, name: str, workspace_id: uuid.UUID
) -> bool:
    """Post the summary and files once; False when it had already gone out."""
    marker = report_dir / MARKER
    if marker.exists():
        return False
    text = summary(name, report_dir.name, week_numbers(report_dir), None)
    uploads = [
        {"file": str(report_dir / f), "filename": f, "title": f"{name} {report_dir.name} {f}"}
        for f in FILES
        if (report_dir / f).exists()
    ]
    calls = metrics.SLACK_CALLS
    try:
        client.files_upload_v2(channel=channel, initial_comment=text, file_uploads=uploads)
    except SlackApiError as exc:
        calls.labels(method="files_upload_v2", outcome="error").inc()
        raise SlackError(f"posting the report: {exc.response.get('error', 'error')}") from None
    except SlackClientError as exc:
        calls.labels(method="files_upload_v2", outcome="error").inc()
        raise SlackError(f"posting the report: {exc}") from None
    calls.labels(method="files_upload_v2", outcome="ok").inc()
    write_private(marker, f"{workspace_id}\n".encode())
    return True
