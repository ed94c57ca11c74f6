"""The warehouse: lossless incremental replication, checks that catch a lost row, readers
never blocked, the refresh command, and a valid Dagster code location."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import psycopg
import pytest
from click.testing import CliRunner

from dagster_project.assets.publish import published_warehouse
from dagster_project.assets.replication import replicate_postgres
from dagster_project.checks import raw_matches_postgres
from dagster_project.resources import WarehouseResource
from dagster_project.warehouse import WarehouseFiles
from sender_service.cli import cli
from sender_service.db.models import REPLICATED_TABLES

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def dagster_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Dagster instance for the session: creating its storage takes seconds."""
    return tmp_path_factory.mktemp("dagster")


@pytest.fixture(scope="session")
def warehouse_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory for every test's warehouse: dbt keeps its partial-parse state beside the
    working copy, and a new path would change dbt's profile and force a full parse (~15 s)."""
    return tmp_path_factory.mktemp("warehouse")


@pytest.fixture
def warehouse_env(
    db_url: str,
    tmp_path: Path,
    warehouse_dir: Path,
    dagster_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Path]:
    """A fresh WAREHOUSE_PATH, the var dir under tmp_path; Postgres is the test database."""
    path = warehouse_dir / "warehouse.duckdb"
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("WAREHOUSE_PATH", str(path))
    monkeypatch.setenv("REPLYLINE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    yield path
    for leftover in warehouse_dir.glob("warehouse*"):  # files, WAL, lock; not dbt-target/
        leftover.unlink()


def seed(url: str, leads: int = 200) -> None:
    """A workspace with campaigns, leads and messages, in plain SQL, last changed a day ago
    (outside the replication's overlap window, so that a run re-reads only new changes)."""
    with psycopg.connect(url) as conn:
        ws = conn.execute(
            "insert into workspaces (name, booking_provider, webhook_secret_hash, ai_context,"
            " updated_at) values ('Acme', 'GHL', repeat('a', 64), '{\"tone\": \"warm\"}',"
            " now() - interval '1 day') returning id"
        ).fetchone()
        assert ws is not None
        conn.execute(
            "insert into email_campaigns (workspace_id, external_id, name,"
            " auto_send_confidence_threshold, updated_at) select %s, 'c' || g, 'Campaign ' || g,"
            " 0.875, now() - interval '1 day' from generate_series(1, 3) g",
            (ws[0],),
        )
        conn.execute(
            "insert into leads (workspace_id, email_campaign_id, external_id, email, industry,"
            " updated_at) select %s, (select id from email_campaigns order by external_id"
            " limit 1), 'l' || g, 'lead' || g || '@example.com', 'SaaS', now() - interval '1 day'"
            " from generate_series(1, %s) g",
            (ws[0], leads),
        )
        conn.execute(
            "insert into messages (workspace_id, lead_id, direction, source, external_id, body,"
            " occurred_at, updated_at) select workspace_id, id, 'inbound', 'emailbison_reply',"
            " external_id, 'Sounds good', now(), updated_at from leads"
        )


def change(url: str) -> None:
    """Inserts, updates and deletes, including a cascade from leads to messages."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into leads (workspace_id, external_id, email) select workspace_id,"
            " 'new' || g, 'new' || g || '@example.com' from (select workspace_id from leads"
            " limit 1) w, generate_series(1, 5) g"
        )
        conn.execute("update leads set industry = 'Fintech' where external_id in ('l1', 'l2')")
        conn.execute("update email_campaigns set name = 'Renamed' where external_id = 'c2'")
        conn.execute("delete from leads where external_id in ('l3', 'l4')")
        conn.execute("delete from email_campaigns where external_id = 'c3'")


def contents(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            t: con.execute(f"select * from raw.{t} order by id").fetchall()
            for t in REPLICATED_TABLES
        }


def refresh(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(cli, ["warehouse", "refresh", *args], catch_exceptions=False)


def test_incremental_after_changes_equals_a_full_rebuild(
    warehouse_env: Path, db_url: str, cli_runner: CliRunner, tmp_path: Path
) -> None:
    seed(db_url)
    first = refresh(cli_runner)
    assert first.exit_code == 0, first.output
    assert "raw/leads: full, 200 rows copied" in first.output
    assert "published" in first.output

    change(db_url)
    second = refresh(cli_runner)
    assert second.exit_code == 0, second.output
    assert "raw/leads: incremental, 7 rows copied, 2 deleted, 203 rows" in second.output
    incremental = contents(warehouse_env)
    assert len(incremental["leads"]) == 203
    assert len(incremental["messages"]) == 198  # cascaded with their leads

    full = refresh(cli_runner, "--full")
    assert full.exit_code == 0, full.output
    assert contents(warehouse_env) == incremental


def test_types_are_exact_and_secrets_stay_out(warehouse_env: Path, db_url: str) -> None:
    seed(db_url, leads=1)
    assert refresh(CliRunner()).exit_code == 0
    with duckdb.connect(str(warehouse_env), read_only=True) as con:
        types = dict(
            con.execute(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = 'raw' and table_name in ('email_campaigns', 'workspaces')"
            ).fetchall()
        )
    assert types["id"] == "UUID"
    assert types["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["auto_send_confidence_threshold"] == "DECIMAL(4,3)"
    assert types["ai_context"] == "JSON"
    assert "webhook_secret_hash" not in types


def test_truncate_is_replicated(warehouse_env: Path, db_url: str, cli_runner: CliRunner) -> None:
    seed(db_url)
    assert refresh(cli_runner).exit_code == 0
    with psycopg.connect(db_url) as conn:
        conn.execute("truncate messages cascade")
    result = refresh(cli_runner)
    assert result.exit_code == 0, result.output
    assert "raw/messages: full" in result.output
    assert contents(warehouse_env)["messages"] == []


def _check_raw(resource: WarehouseResource) -> dict[str, dg.AssetCheckEvaluation]:
    """Run `raw_matches_postgres` alone on the working copy as it stands: each table's result."""
    checked = dg.materialize(
        [replicate_postgres, raw_matches_postgres],
        selection=dg.AssetSelection.checks(raw_matches_postgres),
        resources={"warehouse": resource},
        raise_on_error=False,
    )
    return {e.asset_key.path[-1]: e for e in checked.get_asset_check_evaluations()}


def test_a_lost_row_fails_the_check_and_the_refresh(
    warehouse_env: Path, db_url: str, cli_runner: CliRunner
) -> None:
    seed(db_url)
    resource = WarehouseResource()
    assert dg.materialize([replicate_postgres], resources={"warehouse": resource}).success
    build = resource.files.build
    with duckdb.connect(str(build)) as con:
        con.execute("delete from raw.leads where id = (select min(id) from raw.leads)")

    evaluations = _check_raw(resource)
    assert not evaluations["leads"].passed
    assert "199 rows in the warehouse, 200 in Postgres" in (evaluations["leads"].description or "")
    assert evaluations["messages"].passed

    before = warehouse_env.stat().st_mtime_ns if warehouse_env.exists() else None
    result = cli_runner.invoke(cli, ["warehouse", "refresh"])
    assert result.exit_code != 0
    assert "raw/leads FAILED" in result.output
    assert (warehouse_env.stat().st_mtime_ns if warehouse_env.exists() else None) == before

    assert cli_runner.invoke(cli, ["warehouse", "refresh", "--full"]).exit_code == 0


def test_an_extra_or_substituted_row_fails_the_check(warehouse_env: Path, db_url: str) -> None:
    """The check compares DuckDB's recount with the fingerprint Postgres's triggers kept."""
    seed(db_url, leads=20)
    resource = WarehouseResource()
    assert dg.materialize([replicate_postgres], resources={"warehouse": resource}).success
    with duckdb.connect(str(resource.files.build)) as con:
        con.execute("insert into raw.leads select * replace (uuid() as id) from raw.leads limit 1")
        con.execute(
            "update raw.messages set id = uuid() where id = (select min(id) from raw.messages)"
        )

    evaluations = _check_raw(resource)
    assert not evaluations["leads"].passed
    assert "21 rows in the warehouse, 20 in Postgres" in (evaluations["leads"].description or "")
    assert not evaluations["messages"].passed
    assert "20 rows in the warehouse, 20 in Postgres, but the ids differ" in (
        evaluations["messages"].description or ""
    )
    assert evaluations["email_campaigns"].passed


def test_a_table_without_a_kept_fingerprint_stops_the_refresh(
    warehouse_env: Path, db_url: str, cli_runner: CliRunner
) -> None:
    seed(db_url, leads=5)
    with psycopg.connect(db_url) as conn:
        conn.execute("delete from row_fingerprint_deltas where table_name = 'leads'")
    result = refresh(cli_runner)
    assert result.exit_code != 0
    assert "no row fingerprint kept for leads" in result.output
    assert not warehouse_env.exists()


def test_unchanged_tables_are_skipped_but_a_missed_row_still_fails_the_check(
    warehouse_env: Path, db_url: str, cli_runner: CliRunner
) -> None:
    seed(db_url)
    assert refresh(cli_runner).exit_code == 0
    # Nothing moved: the probe says so and no run starts.
    idle = refresh(cli_runner)
    assert idle.exit_code == 0, idle.output
    assert "nothing changed since the last refresh" in idle.output
    assert "replicate_postgres" not in idle.output

    with psycopg.connect(db_url) as conn:
        conn.execute("update email_campaigns set name = 'Renamed' where external_id = 'c1'")
    second = refresh(cli_runner)
    assert second.exit_code == 0, second.output
    assert "raw/email_campaigns: incremental, 1 rows copied" in second.output
    assert "dbt_build: dbt build: " in second.output  # campaigns feed the marts
    assert "raw/leads: unchanged, 0 rows copied, 0 deleted, 200 rows" in second.output
    # The renamed campaign is inside the overlap window, so a run would re-read it; `raw` holds
    # that version already, so the probe still finds nothing to do.
    again = refresh(cli_runner)
    assert again.exit_code == 0, again.output
    assert "no run started" in again.output, again.output

    # An INSERT that keeps an old updated_at escapes the incremental copy; the count gives the
    # table away, its ids are checksummed again and the check fails.
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "insert into leads (workspace_id, external_id, email, updated_at) select"
            " workspace_id, 'late', 'late@example.com', now() - interval '1 day' from leads limit 1"
        )
    third = refresh(cli_runner)
    assert third.exit_code != 0
    assert "raw/leads FAILED: leads: 200 rows in the warehouse, 201 in Postgres" in third.output


def test_a_changed_row_inside_the_overlap_is_not_taken_for_nothing(
    warehouse_env: Path, db_url: str, cli_runner: CliRunner
) -> None:
    seed(db_url, leads=20)
    assert refresh(cli_runner).exit_code == 0
    with psycopg.connect(db_url) as conn:
        conn.execute("update leads set industry = 'Fintech' where external_id = 'l1'")
    assert refresh(cli_runner).exit_code == 0
    # Changed again within the overlap window of the last run: a new version, so a run.
    with psycopg.connect(db_url) as conn:
        conn.execute("update leads set industry = 'Health' where external_id = 'l1'")
    third = refresh(cli_runner)
    assert third.exit_code == 0, third.output
    assert "no run started" not in third.output
    assert "raw/leads: incremental" in third.output
    with duckdb.connect(str(warehouse_env), read_only=True) as con:
        row = con.execute("select industry from raw.leads where external_id = 'l1'").fetchone()
    assert row == ("Health",)


def test_time_dependent_marts_are_rebuilt_once_their_build_is_an_hour_old(
    warehouse_env: Path, db_url: str, cli_runner: CliRunner
) -> None:
    seed(db_url, leads=20)
    assert refresh(cli_runner).exit_code == 0
    assert "no run started" in refresh(cli_runner).output
    # That build and the copy before it two hours back: no table changed since, but
    # `draft_outcomes.pending` may have moved with the clock.
    with duckdb.connect(str(WarehouseFiles(warehouse_env).build)) as con:
        con.execute(
            "update raw._build_state set done_at = done_at - interval 2 hours where step = 'dbt'"
        )
        con.execute("update raw._replication_state set changed_at = changed_at - interval 2 hours")
    stale = refresh(cli_runner)
    assert stale.exit_code == 0, stale.output
    assert "1 time-dependent tables (last built over an hour ago)" in stale.output
    assert "marts/draft_outcomes: built" in stale.output
    assert "marts/campaign_kpis: built" not in stale.output
    assert "published " in stale.output
    assert "no run started" in refresh(cli_runner).output


def test_materialize_all_assets(warehouse_env: Path, db_url: str) -> None:
    seed(db_url, leads=10)
    result = dg.materialize(
        [replicate_postgres, published_warehouse, raw_matches_postgres],
        resources={"warehouse": WarehouseResource()},
    )
    assert result.success
    leads = result.asset_materializations_for_node("replicate_postgres")
    by_key = {m.asset_key.path[-1]: m.metadata for m in leads}
    assert by_key["leads"]["rows_copied"].value == 10
    assert {"watermark", "duration_s", "rows_deleted", "mode"} <= by_key["leads"].keys()
    assert warehouse_env.exists()


READER = """
import sys, time, duckdb
path, stop = sys.argv[1], sys.argv[2]
opened = 0
import os
while not os.path.exists(stop):
    with duckdb.connect(path, read_only=True) as con:
        con.execute("select count(*) from raw.leads").fetchone()
    opened += 1
print(opened)
"""


def test_readers_are_never_blocked_by_a_refresh(
    warehouse_env: Path, db_url: str, cli_runner: CliRunner, tmp_path: Path
) -> None:
    seed(db_url, leads=2000)
    assert refresh(cli_runner).exit_code == 0
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(warehouse_env), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(0.3)
        change(db_url)
        assert refresh(cli_runner).exit_code == 0
        assert refresh(cli_runner, "--full").exit_code == 0
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=30)
    assert reader.returncode == 0, err
    assert int(out) > 10


def test_a_second_writer_waits_and_says_so(warehouse_env: Path, db_url: str) -> None:
    from dagster_project.warehouse import WarehouseBusy, WarehouseFiles, writer_lock

    files = WarehouseFiles(warehouse_env)
    said: list[str] = []
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from dagster_project.warehouse import *;"
            " ctx = writer_lock(WarehouseFiles(__import__('pathlib').Path(sys.argv[1])), 1,"
            " print); ctx.__enter__(); print('held', flush=True); time.sleep(30)",
            str(warehouse_env),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with (
            pytest.raises(WarehouseBusy, match="still holds"),
            writer_lock(files, 0.2, said.append),
        ):
            pass
        assert said and "another warehouse refresh is running (pid" in said[0]
    finally:
        holder.kill()
        holder.communicate()
    with writer_lock(files, 1, said.append):
        pass


def test_dagster_definitions_validate(tmp_path: Path) -> None:
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "dagster"),
            "definitions",
            "validate",
            "-w",
            "workspace.yaml",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "All code locations passed validation" in result.stderr + result.stdout


def test_dagster_home_defaults_under_var_with_telemetry_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dagster_project.instance import dagster_home

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("REPLYLINE_VAR_DIR", str(tmp_path / "var"))
    home = dagster_home()
    assert home == (tmp_path / "var" / "dagster").resolve()
    assert "enabled: false" in (home / "dagster.yaml").read_text()


def test_runs_events_are_read_back_by_another_instance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The instance's event log keeps its engines (event_log.py): each run's events still
    land in its own file, which the UI's process reads, also once an engine was let go."""
    from dagster_project import event_log
    from dagster_project.instance import dagster_home

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(event_log, "_ENGINES", 2)  # fewer than the runs below: some evicted
    home = dagster_home()

    @dg.op
    def say_hello() -> None:
        dg.get_dagster_logger().info("hello from the run")

    @dg.job
    def hello() -> None:
        say_hello()

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.event_log_storage, event_log.KeptEngineSqliteEventLogStorage)
        runs = [hello.execute_in_process(instance=instance).run_id for _ in range(4)]
        # The first run's file again, after its engine was evicted.
        assert any(e.user_message == "hello from the run" for e in instance.all_logs(runs[0]))
    with dg.DagsterInstance.from_config(str(home)) as ui:
        for run_id in runs:
            assert ui.get_run_by_id(run_id) is not None
            assert any(e.user_message == "hello from the run" for e in ui.all_logs(run_id))
