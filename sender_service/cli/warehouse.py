"""`replyline warehouse ...`: the DuckDB warehouse fed from Postgres."""

from __future__ import annotations

import time

import click

from sender_service.cli.common import CommandError, database_url, settings_or_fail


@click.group()
def warehouse() -> None:
    """The DuckDB warehouse analysts read (WAREHOUSE_PATH)."""


@warehouse.command()
@click.option("--full", is_flag=True, help="Reload every table whole, not only what changed.")
def refresh(full: bool) -> None:
    """Run the `warehouse` Dagster job in process: replicate, check, publish.

    Prints a line per step; exits non-zero when a step or check fails (the published
    warehouse then stays as it was). Waits, saying so, while another refresh runs.
    """
    # Imported here: Dagster takes a second to import and no other command needs it.
    import dagster as dg

    from dagster_project.definitions import defs
    from dagster_project.instance import dagster_home
    from dagster_project.progress import progress_logger

    settings = settings_or_fail()
    database_url()  # a bad DATABASE_URL fails here in one line; starts the embedded server
    started = time.perf_counter()
    job = defs.resolve_job_def("warehouse").with_logger_defs(
        {"progress": progress_logger(lambda line: click.echo(line))}
    )
    click.echo(
        f"warehouse refresh ({'full' if full else 'incremental'}) → {settings.warehouse_path}"
    )
    with dg.DagsterInstance.from_config(str(dagster_home(settings))) as instance:
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
        raise CommandError(
            f"warehouse refresh failed after {elapsed:.1f}s ({what}); "
            "the published warehouse was left as it was"
        )
    click.echo(f"warehouse refresh done in {elapsed:.1f}s")
