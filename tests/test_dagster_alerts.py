"""The marts' freshness checks fail (ERROR) once a mart is older than twice the refresh
schedule; a failed Dagster run is posted to each workspace's report channel (Slack stub)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
from pytest_httpserver import HTTPServer

from dagster_project.alerts import post_run_failures_to_slack
from dagster_project.definitions import defs
from dagster_project.freshness import CHECK_NAME, MARTS
from dagster_project.resources import ExportsResource
from sender_service.db.engine import session_scope
from tests import factories
from tests.stubs import Stubs


def check_marts(instance: dg.DagsterInstance, now: datetime) -> dict[str, tuple[bool, str]]:
    job = defs.resolve_job_def("marts_freshness")
    result = job.execute_in_process(
        instance=instance,
        run_config={"ops": {"marts_fresh": {"config": {"now": now.isoformat()}}}},
    )
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == {CHECK_NAME}
    assert all(e.severity == dg.AssetCheckSeverity.ERROR for e in evaluations)
    return {e.asset_key.to_user_string(): (e.passed, str(e.description)) for e in evaluations}


def test_a_mart_older_than_two_refreshes_fails_its_check() -> None:
    with dg.instance_for_test() as instance:
        now = datetime.now(UTC)
        never = check_marts(instance, now)
        assert len(never) == len(MARTS) >= 7
        assert all(not passed and "never built" in why for passed, why in never.values())

        for key in MARTS:
            instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))
        fresh = check_marts(instance, datetime.now(UTC) + timedelta(minutes=20))
        assert all(passed for passed, _ in fresh.values()), fresh

        stale = check_marts(instance, datetime.now(UTC) + timedelta(minutes=45))
        passed, why = stale["marts/campaign_kpis"]
        assert not passed and "stale after 30 min" in why
        assert not any(passed for passed, _ in stale.values())
        # Recorded on the mart, where the UI shows it.
        record = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey(["marts", "campaign_kpis"]), CHECK_NAME)]
        )
        [execution] = record.values()
        assert execution.run_id == instance.get_runs(limit=1)[0].run_id


@dg.op
def copy_postgres() -> None:
    raise RuntimeError("could not lock var/warehouse.build.duckdb: held by another process")


@dg.job(name="warehouse")
def failing_warehouse() -> None:
    copy_postgres()


@pytest.fixture
def stubs(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> Stubs:
    stubs = Stubs(httpserver)
    for name, value in stubs.env().items():
        monkeypatch.setenv(name, value)
    return stubs


def failure_context(instance: dg.DagsterInstance, db_url: str) -> dg.RunFailureSensorContext:
    result = failing_warehouse.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    [failure] = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert failure.dagster_event is not None
    run = instance.get_run_by_id(result.run_id)
    assert run is not None
    return dg.build_run_status_sensor_context(
        sensor_name="post_run_failures_to_slack",
        dagster_event=failure.dagster_event,
        dagster_instance=instance,
        dagster_run=run,
        resources={"exports": ExportsResource(database_url=db_url)},
    ).for_run_failure()


def test_a_failed_run_is_posted_to_each_report_channel(db_url: str, stubs: Stubs) -> None:
    with session_scope(db_url) as session:
        factories.workspace(session, name="Acme", report_slack_channel="C-REPORTS")
        factories.workspace(session, name="Beta", report_slack_channel="C-BETA")
        factories.workspace(session, name="Quiet")  # no report channel: nothing posted for it
    with dg.instance_for_test() as instance:
        post_run_failures_to_slack(failure_context(instance, db_url))
    posts = stubs.slack_posts()
    assert sorted(p["channel"] for p in posts) == ["C-BETA", "C-REPORTS"]
    text = posts[0]["text"]
    assert "Dagster run of *warehouse* failed" in text
    assert "could not lock var/warehouse.build.duckdb" in text


def test_no_report_channel_posts_nothing(db_url: str, stubs: Stubs) -> None:
    with session_scope(db_url) as session:
        factories.workspace(session, name="Quiet")
    with dg.instance_for_test() as instance:
        skipped = post_run_failures_to_slack(failure_context(instance, db_url))
    assert isinstance(skipped, dg.SkipReason)
    assert stubs.slack_posts() == []
