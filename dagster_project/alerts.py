"""A failed Dagster run is posted to every workspace's report channel.

Through Replyline's own Slack client (`sender_service.notify.slack`), not `dagster-slack`:
that package installs with our pins, but its sensor takes one fixed channel and a token at
load time and always calls slack.com, while the channels live on the workspaces and the API
base URL is a setting (SLACK_API_URL).
"""

# No `from __future__ import annotations`: Dagster reads the parameter annotations.
import dagster as dg
import psycopg

from dagster_project.resources import ExportsResource
from sender_service.notify import slack

# Enough of the error to act on; the full one is in the run's page.
MAX_ERROR_CHARS = 1500


def failure_text(job_name: str, run_id: str, error: str) -> str:
    error = error.strip() or "no error message"
    if len(error) > MAX_ERROR_CHARS:
        error = error[:MAX_ERROR_CHARS] + " …"
    return (
        f":rotating_light: Dagster run of *{slack.escape(job_name)}* failed "
        f"(run `{run_id[:8]}`):\n```{slack.escape(error)}```\n"
        "Readers keep the last published warehouse; see the run in the Dagster UI."
    )


@dg.run_failure_sensor(
    name="post_run_failures_to_slack",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Posts each failed run to every workspace's report channel.",
)
def post_run_failures_to_slack(
    context: dg.RunFailureSensorContext, exports: ExportsResource
) -> dg.SkipReason | None:
    settings = exports.settings()
    if not settings.slack_bot_token:
        return dg.SkipReason("SLACK_BOT_TOKEN is not set: nowhere to post")
    with psycopg.connect(exports.source_url()) as conn:
        channels = [
            row[0]
            for row in conn.execute(
                "select distinct report_slack_channel from workspaces"
                " where report_slack_channel is not null order by 1"
            )
        ]
    if not channels:
        return dg.SkipReason("no workspace has a report channel")
    run = context.dagster_run
    # The run's own message names the failed steps; their errors say why.
    errors = [context.failure_event.message or ""]
    for step in context.get_step_failure_events():
        error = step.step_failure_data.error
        # Dagster wraps the op's exception ("Error occurred while executing op ..."): its
        # innermost cause is the one that says what went wrong.
        while error is not None and error.cause is not None:
            error = error.cause
        if error is not None:
            errors.append(f"{step.step_key}: {error.message}")
    text = failure_text(run.job_name, run.run_id, "\n".join(e.strip() for e in errors if e))
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    client = slack.make_client(settings)
    failed = []
    for channel in channels:
        try:
            slack.post_message(client, channel, text, blocks)
        except slack.SlackError as exc:
            failed.append(f"{channel}: {exc}")
    if failed:
        raise slack.SlackError("could not post the run failure to " + "; ".join(failed))
    context.log.info(f"posted the failure of run {run.run_id} to {', '.join(channels)}")
    return None
