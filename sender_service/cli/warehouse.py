"""`replyline warehouse ...`: the DuckDB warehouse fed from Postgres."""

from __future__ import annotations

import sys
import time

import click

from sender_service.cli.common import CommandError, database_url, settings_or_fail


@click.group()
def warehouse() -> None:
    """The DuckDB warehouse analysts read (WAREHOUSE_PATH)."""


@warehouse.command()
@click.option("--full", is_flag=True, help="Reload every table whole, not only what changed.")
def refresh(full: bool) -> None:
    """Run the `warehouse` Dagster job in process: replicate, check, dbt build, publish.

    Prints a line per step, table and dbt model; exits non-zero when a step, check or dbt
    test fails (the published warehouse then stays as it was). Waits, saying so, while
    another refresh runs. Starts no run when nothing changed since the last one.
    """
    from dagster_project.probe import up_to_date
    from dagster_project.warehouse import WarehouseFiles, confirm_current

    settings = settings_or_fail()
    url = database_url()  # a bad DATABASE_URL fails here in one line; starts the embedded server
    started = time.perf_counter()
    out = sys.stdout
    click.echo(
        f"warehouse refresh ({'full' if full else 'incremental'}) → {settings.warehouse_path}"
    )
    if not full and up_to_date(WarehouseFiles(settings.warehouse_path), url):
        confirm_current(WarehouseFiles(settings.warehouse_path))
        click.echo(
            "nothing changed since the last refresh (no table moved, marts built, file"
            f" published): no run started, done in {time.perf_counter() - started:.1f}s"
        )
        return
    # Imported here: Dagster takes seconds to import and no other command needs it.
    from dagster_project.dbt_project import dbt_target_path
    from dagster_project.refresh import run_refresh

    outcome = run_refresh(
        settings, full=full, echo=lambda line: click.echo(line, file=out), trigger="cli"
    )
    result = outcome.result
    elapsed = time.perf_counter() - started
    if not result.success:
        failed = [e.step_key or "run" for e in result.get_step_failure_events()]
        failed_checks = [
            e.asset_key.to_user_string()
            for e in result.get_asset_check_evaluations()
            if not e.passed
        ]
        what = ", ".join(failed + [f"check on {c}" for c in failed_checks]) or "the run"
        for line in outcome.dbt_console.splitlines():
            if "ERROR" in line or "FAIL" in line:
                click.echo(f"  dbt: {line.strip()}")
        dbt_log = dbt_target_path(WarehouseFiles(settings.warehouse_path).build) / "dbt.log"
        if dbt_log.exists():
            click.echo(f"  dbt's log: {dbt_log}")
        raise CommandError(
            f"warehouse refresh failed after {elapsed:.1f}s ({what}); "
            "the published warehouse was left as it was"
        )
    click.echo(f"warehouse refresh done in {elapsed:.1f}s")
