"""Keep the warehouse at most a quarter of an hour behind Postgres; every hour, write the
weekly exports that are due and delete the expired ones."""

# No `from __future__ import annotations`: Dagster reads the parameter annotations.
from datetime import UTC, datetime

import dagster as dg

from dagster_project.jobs import warehouse_job, weekly_exports_job
from dagster_project.resources import ExportsResource
from sender_service.freshness import REFRESH_EVERY_MINUTES
from sender_service.reports.scheduled import due_reports, expired_files, pending_posts

warehouse_every_15_minutes = dg.ScheduleDefinition(
    name="warehouse_every_15_minutes",
    job=warehouse_job,
    cron_schedule=f"*/{REFRESH_EVERY_MINUTES} * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)


@dg.schedule(
    name="weekly_exports_hourly",
    job=weekly_exports_job,
    cron_schedule="0 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def weekly_exports_hourly(
    context: dg.ScheduleEvaluationContext, exports: ExportsResource
) -> dg.RunRequest | dg.SkipReason:
    """A run only when a report is due, one is waiting to go to Slack, or an export has
    expired: most hours there is nothing."""
    now = context.scheduled_execution_time or datetime.now(UTC)
    settings = exports.settings()
    due = due_reports(exports.source_url(), settings, now)
    expired = expired_files(settings.exports_dir, now, settings.exports_retention_days)
    unposted = pending_posts(exports.source_url(), settings)
    if not due and not expired and not unposted:
        return dg.SkipReason(f"no weekly report due and no expired export as of {now.isoformat()}")
    return dg.RunRequest(
        run_key=f"weekly_exports:{now.isoformat()}",
        run_config={"ops": {"weekly_exports": {"config": {"now": now.isoformat()}}}},
        tags={
            "replyline/reports_due": str(len(due)),
            "replyline/expired": str(len(expired)),
            "replyline/unposted": str(len(unposted)),
        },
    )
