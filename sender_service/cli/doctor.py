"""`replyline doctor`: every check of `sender_service.doctor`, one line each, and its fix."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from sender_service.cli.common import database_url, echo_json, parse_uuid, settings_or_fail


@click.command()
@click.option("--workspace", "workspace_id", help="Check this workspace only (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def doctor(workspace_id: str | None, as_json: bool) -> None:
    """Is this deployment healthy? Each check OK, WARN or FAIL with its fix; exit 0 when all
    are OK, 1 with warnings, 2 with failures."""
    from sender_service import doctor as checks

    wanted = parse_uuid(workspace_id, "--workspace") if workspace_id else None
    settings = settings_or_fail()
    findings = []
    with _quiet("sender_service"):
        for finding in checks.run(settings, database_url(), wanted):
            findings.append(finding)
            if not as_json:
                click.echo(f"{finding.status:<4}  {finding.check:<15} {finding.detail}")
                if finding.fix and finding.status != "OK":
                    click.echo(f"{'':<4}  {'':<15} fix: {finding.fix}")
    code = checks.exit_code(findings)
    if as_json:
        echo_json(
            {
                "status": ("ok", "warnings", "failures")[code],
                "checks": [f.as_json() for f in findings],
            }
        )
    sys.exit(code)


@contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """Only errors from the clients while the checks run: they log each failed attempt, and
    the doctor's own line already says what failed. Restored after (tests run in process)."""
    logger = logging.getLogger(logger_name)
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)
