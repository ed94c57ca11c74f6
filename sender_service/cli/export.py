"""`replyline export chatgpt`: the ChatGPT dataset zip, written to a file."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import click
import psycopg
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from sender_service.cli.common import CommandError, database_url, parse_uuid
from sender_service.exports.chatgpt import ExportFilters, UnknownWorkspaceError, chatgpt_export
from sender_service.exports.filters import parse_filters
from sender_service.reports.private_files import open_private


def build_filters(
    positive_only: bool,
    occurred_from: str | None,
    occurred_to: str | None,
    channels: str | None,
    directions: str | None,
) -> ExportFilters:
    try:
        return parse_filters(
            positive_only,
            occurred_from,
            occurred_to,
            channels,
            directions,
            names=("--from", "--to"),
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from None


def _reason(exc: psycopg.Error) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class _RichProgress:
    """Two bars (leads, messages) that fill as rows are written."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def start(self, leads: int, messages: int) -> None:
        self._tasks["leads"] = self._progress.add_task("leads.csv", total=leads)
        self._tasks["messages"] = self._progress.add_task("messages.jsonl", total=messages)

    def advance(self, kind: str, rows: int) -> None:
        self._progress.advance(self._tasks[kind], rows)


@click.group("export")
def export_group() -> None:
    """Datasets to hand to people and tools outside Replyline."""


@export_group.command("chatgpt")
@click.option("--workspace", "workspace_id", required=True, help="Workspace id.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--positive-only", is_flag=True, help="Only positive leads and their messages.")
@click.option("--from", "occurred_from", help="Messages at or after this ISO time (UTC if bare).")
@click.option("--to", "occurred_to", help="Messages before this ISO time (UTC if bare).")
@click.option("--channels", help="Comma-separated: email,sms.")
@click.option("--directions", help="Comma-separated: inbound,outbound.")
@click.option("--quiet", is_flag=True, help="No progress display.")
def chatgpt_command(
    workspace_id: str,
    out: Path,
    positive_only: bool,
    occurred_from: str | None,
    occurred_to: str | None,
    channels: str | None,
    directions: str | None,
    quiet: bool,
) -> None:
    """Write the ChatGPT dataset zip (leads.csv, messages.jsonl, README.md) to OUT."""
    workspace = parse_uuid(workspace_id, "--workspace")
    filters = build_filters(positive_only, occurred_from, occurred_to, channels, directions)
    if not out.parent.is_dir():
        raise CommandError(f"--out: directory {out.parent} does not exist")
    url = database_url()
    # Written beside the target (owner-only: personal data) and renamed at the end: a failed
    # export leaves no partial zip.
    partial = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        with Progress(
            TextColumn("{task.description:<15}"),
            BarColumn(),
            TextColumn("{task.completed:,}/{task.total:,} rows"),
            TimeElapsedColumn(),
            disable=quiet,
            transient=True,
        ) as bars:
            try:
                export = chatgpt_export(
                    url, workspace, filters, None if quiet else _RichProgress(bars)
                )
            except UnknownWorkspaceError as exc:
                raise CommandError(str(exc)) from None
            try:
                chunks = iter(export)  # connects and plans: a refusal writes nothing
            except psycopg.Error as exc:
                raise CommandError(f"the database refused the export: {_reason(exc)}") from None
            written = 0
            with open_private(partial) as sink:
                try:
                    for chunk in chunks:
                        sink.write(chunk)
                        written += len(chunk)
                except psycopg.Error as exc:
                    # Not bad input (exit 2): the export broke off; the partial file goes.
                    click.echo(
                        f"replyline: error: export failed after {written:,} bytes:"
                        f" {_reason(exc)}; {out} not written",
                        err=True,
                    )
                    raise SystemExit(1) from None
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    click.echo(f"wrote {out} ({out.stat().st_size:,} bytes)")
