"""Keep the warehouse at most a quarter of an hour behind Postgres."""

from __future__ import annotations

import dagster as dg

from dagster_project.jobs import warehouse_job

warehouse_every_15_minutes = dg.ScheduleDefinition(
    name="warehouse_every_15_minutes",
    job=warehouse_job,
    cron_schedule="*/15 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
