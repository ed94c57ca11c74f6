"""Weekly exports: each workspace's report and ChatGPT zip once its Monday 08:00 has passed,
and the removal of exports older than EXPORTS_RETENTION_DAYS (they hold personal data)."""

# No `from __future__ import annotations`: Dagster reads the parameter annotations.
from datetime import UTC, datetime

import dagster as dg

from dagster_project.assets.publish import published_warehouse
from dagster_project.resources import ExportsResource
from sender_service.notify.report_post import post_report
from sender_service.notify.slack import SlackError, make_client
from sender_service.reports.scheduled import delete_expired, due_reports, pending_posts, write_due
from sender_service.reports.warehouse import WarehouseMissingError
from sender_service.settings import Settings


class ExportsConfig(dg.Config):
    now: str | None = None
    """The moment to act as of (ISO 8601 with a zone): the schedule passes its tick's time; a
    manual run acts as of the current time."""


def as_of(config: ExportsConfig) -> datetime:
    return datetime.fromisoformat(config.now) if config.now else datetime.now(UTC)


@dg.asset(
    key="weekly_exports",
    deps=[published_warehouse],
    group_name="exports",
    kinds={"python"},
    description="exports/<workspace>/weekly/<week>/ (the report) and exports/<workspace>/chatgpt/ "
    "(the dataset zip) for each workspace whose week is due; expired exports deleted.",
)
def weekly_exports(
    context: dg.AssetExecutionContext, config: ExportsConfig, exports: ExportsResource
) -> dg.MaterializeResult[None]:
    now = as_of(config)
    settings = exports.settings()
    url = exports.source_url()
    written: list[str] = []
    missing_warehouse = None
    for report in due_reports(url, settings, now):
        try:
            report_path, zip_path = write_due(url, settings, report)
        except WarehouseMissingError as exc:
            missing_warehouse = str(exc)
            context.log.warning(f"no weekly reports written: {exc}")
            break
        context.log.info(f"{report.name}: wrote {report_path} and {zip_path}")
        written.append(f"{report.name} ({report.week_start}): {report_path}")
    posted, post_errors = _post_to_slack(context, url, settings)
    deleted = delete_expired(settings.exports_dir, now, settings.exports_retention_days)
    for path in deleted:
        context.log.info(f"deleted expired {path}")
    return dg.MaterializeResult(
        metadata={
            "as_of": now.isoformat(),
            "reports_written": len(written),
            "written": dg.MetadataValue.md("\n".join(f"- {w}" for w in written) or "none"),
            "posted_to_slack": posted,
            **(
                {"slack_errors": dg.MetadataValue.md("\n".join(post_errors))} if post_errors else {}
            ),
            "expired_deleted": len(deleted),
            "retention_days": settings.exports_retention_days,
            **({"warehouse_missing": missing_warehouse} if missing_warehouse else {}),
        }
    )


def _post_to_slack(
    context: dg.AssetExecutionContext, url: str, settings: Settings
) -> tuple[int, list[str]]:
    """Post written reports to their workspace's channel; a failure is retried next hour."""
    pending = pending_posts(url, settings)
    if not pending:
        return 0, []
    try:
        client = make_client(settings)
    except SlackError as exc:
        return 0, [f"reports not posted: {exc}"]
    posted, errors = 0, []
    for post in pending:
        try:
            posted += post_report(
                client, post.channel, post.report_dir, post.name, post.workspace_id
            )
        except SlackError as exc:
            context.log.warning(f"{post.name}: {exc}")
            errors.append(f"{post.name} {post.report_dir.name}: {exc}")
    return posted, errors
