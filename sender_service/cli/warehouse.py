"""`replyline warehouse ...`: the DuckDB warehouse fed from Postgres."""

from __future__ import annotations

import io
import sys
import time
from contextlib import redirect_stdout

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
    another refresh runs.
    """
    # Imported here: Dagster takes a second to import and no other command needs it.
    import dagster as dg

    from dagster_project.dbt_project import dbt_target_path, ensure_manifest

    settings = settings_or_fail()
    database_url()  # a bad DATABASE_URL fails here in one line; starts the embedded server
    started = time.perf_counter()
    out = sys.stdout
    ensure_manifest()  # before the definitions load: they are built from the manifest

    from dagster_project.definitions import defs
    from dagster_project.instance import dagster_home
    from dagster_project.progress import progress_logger
    from dagster_project.warehouse import WarehouseFiles

    job = defs.resolve_job_def("warehouse").with_logger_defs(
        {"progress": progress_logger(lambda line: click.echo(line, file=out))}
    )
    click.echo(
        f"warehouse refresh ({'full' if full else 'incremental'}) → {settings.warehouse_path}"
    )
    # dagster-dbt echoes every dbt event to stdout; the progress lines say what matters.
    dbt_console = io.StringIO()
    with (
        dg.DagsterInstance.from_config(str(dagster_home(settings))) as instance,
        redirect_stdout(dbt_console),
    ):
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            tags={"replyline/trigger": "cli"},
            run_config={
                "loggers": {"progress": {}},
                "ops": {"replicate_postgres": {"config": {"full": full}}},
            },
        )
    elapsed = time.perf_counter() - started
    if not result.success:
        failed = [e.step_key or "run" for e in result.get_step_failure_events()]
        failed_checks = [
            e.asset_key.to_user_string()
            for e in result.get_asset_check_evaluations()
            if not e.passed
        ]
        what = ", ".join(failed + [f"check on {c}" for c in failed_checks]) or "the run"
        for line in dbt_console.getvalue().splitlines():
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
