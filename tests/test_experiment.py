"""Experiment assignment: reproducible, balanced by size, recorded, and refuses bad input."""

from __future__ import annotations

import json
import random
import uuid
from datetime import date
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import insert

from sender_service.cli import cli
from sender_service.db.engine import session_scope
from sender_service.db.models import Lead
from sender_service.experiment import plan_arms
from tests import thread_builders as f
from tests.warehouse_fixture import build

SIZES = [400, 380, 300, 260, 200, 150, 120, 90, 60, 40, 30, 10]


@pytest.fixture
def workspace(db_url: str) -> str:
    with session_scope(db_url) as s:
        built = f.workspace(s, "Acme")
        for i, size in enumerate(SIZES):
            camp = f.campaign(s, built, f"Campaign {i}")
            s.execute(
                insert(Lead),
                [{"workspace_id": built.workspace.id, "email_campaign_id": camp.id}] * size,
            )
        done = f.campaign(s, built, "Already in")
        done.in_experiment = True
        old = f.campaign(s, built, "Archived")
        old.archived = True
        return str(built.workspace.id)


def _assign(runner: CliRunner, db_url: str, *args: str) -> Result:
    return runner.invoke(
        cli, ["experiment", "assign", *args, "--json"], env={"DATABASE_URL": db_url}
    )


def test_plan_is_reproducible_balanced_and_recorded(
    db_url: str, cli_runner: CliRunner, workspace: str
) -> None:
    args = ["--workspace", workspace, "--ai-share", "0.5", "--random-seed", "11"]
    dry = _assign(cli_runner, db_url, *args, "--dry-run")
    again = _assign(cli_runner, db_url, *args, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)["assignments"] == json.loads(again.output)["assignments"]
    plan = json.loads(dry.output)
    assert len(plan["assignments"]) == len(SIZES)  # not the archived one nor the one already in
    assert abs(plan["summary"]["AI_AUTO_SEND"]["lead_share"] - 0.5) < 0.1
    assert plan["summary"]["AI_AUTO_SEND"]["campaigns"] == 6
    with psycopg.connect(db_url) as conn:
        assert conn.execute(
            "select count(*) from campaign_mode_changes where reason = 'experiment'"
        ).fetchone() == (0,)

    real = json.loads(_assign(cli_runner, db_url, *args).output)
    assert real["assignments"] == plan["assignments"]
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "select c.response_mode, m.from_mode, m.to_mode from email_campaigns c"
            " join campaign_mode_changes m on m.email_campaign_id = c.id"
            " where m.reason = 'experiment'"
        ).fetchall()
        assert len(rows) == len(SIZES) and all(mode == to for mode, _, to in rows)
        in_now = conn.execute("select count(*) from email_campaigns where in_experiment").fetchone()
        assert in_now == (len(SIZES) + 1,)
    # Nothing left to assign on a second run.
    assert json.loads(_assign(cli_runner, db_url, *args).output)["assignments"] == []


@pytest.mark.parametrize("share", [0.2, 0.5, 0.8])
def test_lead_share_tracks_the_requested_share(share: float) -> None:
    rng = random.Random(3)
    sizes = [(str(uuid.uuid4()), rng.randint(10, 1000)) for _ in range(60)]
    shares = []
    for seed in range(20):
        arms = plan_arms(sizes, share, random.Random(seed))
        ai = sum(n for cid, n in sizes if arms[cid] == "AI_AUTO_SEND")
        shares.append(ai / sum(n for _, n in sizes))
    assert all(abs(s - share) < 0.08 for s in shares)
    assert len({round(s, 6) for s in shares}) > 1  # random, not a fixed split


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ai-share", "1"], "--ai-share must be strictly between 0 and 1"),
        (["--ai-share", "0"], "--ai-share must be strictly between 0 and 1"),
        (["--ai-share", "-0.3"], "--ai-share must be strictly between 0 and 1"),
        (["--ai-share", "0.5", "--workspace", str(uuid.UUID(int=5))], "no workspace"),
    ],
)
def test_bad_input_changes_nothing(
    db_url: str, cli_runner: CliRunner, workspace: str, args: list[str], message: str
) -> None:
    base = ["experiment", "assign"] + ([] if "--workspace" in args else ["--workspace", workspace])
    result = cli_runner.invoke(cli, [*base, *args], env={"DATABASE_URL": db_url})
    assert result.exit_code == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    with psycopg.connect(db_url) as conn:
        assert conn.execute(
            "select count(*) from email_campaigns where in_experiment"
        ).fetchone() == (1,)


def test_assign_defaults_to_the_80_20_split(
    db_url: str, cli_runner: CliRunner, workspace: str
) -> None:
    result = cli_runner.invoke(
        cli,
        ["experiment", "assign", "--workspace", workspace, "--dry-run", "--json"],
        env={"DATABASE_URL": db_url},
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert plan["ai_share"] == 0.2
    assert abs(plan["summary"]["AI_AUTO_SEND"]["lead_share"] - 0.2) < 0.1


@pytest.mark.parametrize(
    ("sizes", "conclusive"),
    [((400, 400), True), ((40, 30), False)],
)
def test_status_gives_the_verdict(
    db_url: str,
    cli_runner: CliRunner,
    workspace: str,
    tmp_path: Path,
    sizes: tuple[int, int],
    conclusive: bool,
) -> None:
    build(tmp_path / "w.duckdb", uuid.UUID(workspace), date(2025, 3, 3), arm_sizes=sizes)
    env = {"DATABASE_URL": db_url, "WAREHOUSE_PATH": str(tmp_path / "w.duckdb")}
    as_json = cli_runner.invoke(
        cli, ["experiment", "status", "--workspace", workspace, "--json"], env=env
    )
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.output)
    ai, setter = body["ai"], body["setter"]
    # The fixture books 34 % of the AI arm and 18 % of the setter arm.
    assert (ai["positive_leads"], setter["positive_leads"]) == sizes
    assert ai["booked_leads"] == round(sizes[0] * 0.34)
    assert body["conclusive"] is conclusive
    assert body["difference_low"] < body["difference"] < body["difference_high"]
    text = cli_runner.invoke(cli, ["experiment", "status", "--workspace", workspace], env=env)
    assert text.exit_code == 0
    if conclusive:
        assert body["winner"] == "AI_AUTO_SEND" and body["more_needed_ai"] is None
        assert "Conclusive: AI auto-send books more positive leads" in text.output
    else:
        assert body["more_needed_ai"] == body["needed_per_arm_observed"] - sizes[0] > 0
        assert "Inconclusive" in text.output and "more in the setter arm" in text.output


def test_status_without_a_warehouse_is_one_line(
    db_url: str, cli_runner: CliRunner, workspace: str, tmp_path: Path
) -> None:
    env = {"DATABASE_URL": db_url, "WAREHOUSE_PATH": str(tmp_path / "none.duckdb")}
    result = cli_runner.invoke(cli, ["experiment", "status", "--workspace", workspace], env=env)
    assert result.exit_code == 2 and "no warehouse at" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
