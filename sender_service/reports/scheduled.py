"""What the hourly exports schedule does: each workspace's weekly report and ChatGPT zip once
its Monday 08:00 (workspace time zone) has passed, and the removal of expired exports.

Idempotent: a week whose report directory exists is not written again, so the schedule may
fire every hour (or be re-run) without duplicating work.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

import psycopg

from sender_service.exports.chatgpt import chatgpt_export
from sender_service.notify.report_post import MARKER
from sender_service.reports.private_files import open_private, private_folder
from sender_service.reports.weekly import last_complete_week, report_dir, write_weekly_report
from sender_service.settings import Settings

REPORT_TIME: Final = time(8, 0)


@dataclass(frozen=True)
class DueReport:
    workspace_id: uuid.UUID
    name: str
    week_start: date


def report_due_at(timezone: str, week_start: date) -> datetime:
    """The Monday 08:00 after the week, in the workspace's time zone."""
    return datetime.combine(week_start + timedelta(days=7), REPORT_TIME, ZoneInfo(timezone))


def due_reports(database_url: str, settings: Settings, now: datetime) -> list[DueReport]:
    """The workspaces whose last week's report is due at `now` and not written yet."""
    with psycopg.connect(database_url) as conn:
        workspaces = conn.execute(
            "select id, name, timezone from workspaces order by name"
        ).fetchall()
    due = []
    for workspace_id, name, timezone in workspaces:
        week = last_complete_week(timezone, now)
        if (
            now >= report_due_at(timezone, week)
            and not report_dir(settings, workspace_id, week).exists()
        ):
            due.append(DueReport(workspace_id, name, week))
    return due


def write_chatgpt_zip(database_url: str, settings: Settings, workspace_id: uuid.UUID) -> Path:
    """The workspace's full ChatGPT zip into exports/<id>/chatgpt/, swapped in when complete."""
    export = chatgpt_export(database_url, workspace_id)
    folder = private_folder(settings.exports_dir, str(workspace_id), "chatgpt")
    target = folder / export.filename
    partial = target.with_name(f".{target.name}.part")
    try:
        with open_private(partial) as out:
            for chunk in export:
                out.write(chunk)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def write_due(database_url: str, settings: Settings, report: DueReport) -> tuple[Path, Path]:
    """The zip first, then the report: the report's directory marks the week as done."""
    zip_path = write_chatgpt_zip(database_url, settings, report.workspace_id)
    report_path = write_weekly_report(
        settings, report.workspace_id, report.week_start, workspace_name=report.name
    )
    return report_path, zip_path


def expired_files(exports_dir: Path, now: datetime, retention_days: int) -> list[Path]:
    """Files under exports/ last written more than `retention_days` ago (they hold personal
    data). Dot-files at the top (`.gitkeep`) are the folder's own, never expired."""
    if not exports_dir.is_dir():
        return []
    cutoff = (now - timedelta(days=retention_days)).timestamp()
    return sorted(
        path
        for path in exports_dir.rglob("*")
        if path.is_file()
        and not (path.parent == exports_dir and path.name.startswith("."))
        and path.stat().st_mtime < cutoff
    )


def delete_expired(exports_dir: Path, now: datetime, retention_days: int) -> list[Path]:
    """Delete the expired files, then the directories they leave empty; the deleted files."""
    expired = expired_files(exports_dir, now, retention_days)
    for path in expired:
        path.unlink(missing_ok=True)
    for directory in sorted({p.parent for p in expired}, key=lambda p: len(p.parts), reverse=True):
        while directory != exports_dir and directory.is_dir() and not any(directory.iterdir()):
            os.rmdir(directory)
            directory = directory.parent
    return expired


@dataclass(frozen=True)
class PendingPost:
    workspace_id: uuid.UUID
    name: str
    channel: str
    report_dir: Path


def pending_posts(database_url: str, settings: Settings) -> list[PendingPost]:
    """Written reports of workspaces with a report channel that have not gone to Slack yet."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "select id, name, report_slack_channel from workspaces"
            " where coalesce(report_slack_channel, '') <> '' order by name"
        ).fetchall()
    pending = []
    for workspace_id, name, channel in rows:
        weekly = settings.exports_dir / str(workspace_id) / "weekly"
        for folder in sorted(weekly.iterdir()) if weekly.is_dir() else []:
            if (folder / "kpis.csv").exists() and not (folder / MARKER).exists():
                pending.append(PendingPost(workspace_id, name, channel, folder))
    return pending
