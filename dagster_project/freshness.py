"""Is each mart fresh? A check per mart, run every five minutes by its own schedule.

A mart is as fresh as the later of its last materialization and the start of the last
`warehouse` run that succeeded: an incremental run that found nothing changed in Postgres
materializes nothing, yet it confirms every mart current as of its start. Past twice the
refresh schedule (`sender_service.freshness.STALE_AFTER`) the check fails with ERROR severity,
which the UI shows on the mart and the operator alerts on. The checks have a job and a
schedule of their own, so they report even when the warehouse job stops running at all.
"""

# No `from __future__ import annotations`: Dagster reads the parameter annotations.
from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg

from dagster_project.assets.dbt import dbt_build
from dagster_project.jobs import warehouse_job
from sender_service.freshness import REFRESH_EVERY, STALE_AFTER

CHECK_NAME = "fresh_within_two_refreshes"
MARTS: list[dg.AssetKey] = sorted(key for key in dbt_build.keys if key.path[0] == "marts")


class FreshnessConfig(dg.Config):
    now: str | None = None
    """The moment to judge at (ISO 8601); the run's start when unset."""


def last_confirmed(instance: dg.DagsterInstance, key: dg.AssetKey) -> datetime | None:
    """When the mart was last known current: materialized, or covered by a successful run."""
    times = []
    event = instance.get_latest_materialization_event(key)
    if event is not None:
        times.append(datetime.fromtimestamp(event.timestamp, UTC))
    runs = instance.get_run_records(
        dg.RunsFilter(job_name=warehouse_job.name, statuses=[dg.DagsterRunStatus.SUCCESS]),
        limit=1,
    )
    if runs and runs[0].start_time is not None:
        times.append(datetime.fromtimestamp(runs[0].start_time, UTC))
    return max(times, default=None)


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=key,
            description=f"Updated (or confirmed current) within {STALE_AFTER}: twice the "
            f"{REFRESH_EVERY} refresh schedule.",
        )
        for key in MARTS
    ],
    name="marts_fresh",
)
def marts_fresh(
    context: dg.AssetCheckExecutionContext, config: FreshnessConfig
) -> Iterator[dg.AssetCheckResult]:
    now = datetime.fromisoformat(config.now) if config.now else datetime.now(UTC)
    for key in MARTS:
        confirmed = last_confirmed(context.instance, key)
        if confirmed is None:
            passed, description = False, "never built: run the warehouse job"
            minutes = None
        else:
            minutes = round((now - confirmed).total_seconds() / 60, 1)
            passed = now - confirmed <= STALE_AFTER
            description = (
                f"current as of {minutes} min ago"
                if passed
                else f"{minutes} min old, stale after {STALE_AFTER.total_seconds() / 60:.0f} "
                "min: look at the warehouse job's last runs"
            )
        yield dg.AssetCheckResult(
            asset_key=key,
            check_name=CHECK_NAME,
            passed=passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=description,
            metadata={"age_minutes": minutes if minutes is not None else -1.0},
        )


marts_freshness_job = dg.define_asset_job(
    "marts_freshness",
    selection=dg.AssetSelection.checks(marts_fresh),
    description="Check that every mart is fresh (nothing is built).",
)

marts_freshness_every_5_minutes = dg.ScheduleDefinition(
    name="marts_freshness_every_5_minutes",
    job=marts_freshness_job,
    cron_schedule="*/5 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
