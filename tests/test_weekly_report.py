"""The weekly report from a small warehouse: files, CSV = marts, charts in the HTML, verdicts."""

from __future__ import annotations

import base64
import csv
import io
import re
import uuid
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from matplotlib import image as mpimg

from sender_service.cli import cli
from sender_service.db.engine import session_scope
from sender_service.reports.weekly import chart_names, write_weekly_report
from sender_service.settings import load_settings
from tests import thread_builders as f
from tests.warehouse_fixture import build

WEEK = date(2025, 3, 3)


def _env(tmp_path: Path, db_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": db_url,
        "WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"),
        "EXPORTS_DIR": str(tmp_path / "exports"),
    }


@pytest.fixture
def workspace_id(db_url: str) -> uuid.UUID:
    with session_scope(db_url) as s:
        return f.workspace(s, "Acme Agency").workspace.id


def test_report_files_csv_and_charts(
    tmp_path: Path, db_url: str, cli_runner: CliRunner, workspace_id: uuid.UUID
) -> None:
    built = build(tmp_path / "warehouse.duckdb", workspace_id, WEEK, arm_sizes=(140, 160))
    result = cli_runner.invoke(
        cli,
        ["report", "weekly", "--workspace", str(workspace_id), "--week", "2025-03-05"],
        env=_env(tmp_path, db_url),
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "exports" / str(workspace_id) / "weekly" / "2025-03-03"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["report.md", "report.html", "kpis.csv", *chart_names()]
    )

    rows = list(csv.DictReader(io.StringIO((out / "kpis.csv").read_text())))
    expected = {str(c["email_campaign_id"]): c for c in built["campaigns"]}
    assert {r["email_campaign_id"] for r in rows} == set(expected)
    for row in rows:
        mart = expected[row["email_campaign_id"]]
        assert row["campaign_name"] == mart["campaign_name"]
        assert int(row["positive_leads"]) == mart["positive_leads"]
        assert float(row["booking_rate"]) == pytest.approx(mart["booking_rate"])
        assert row["week_start"] == "2025-03-03"

    html = (out / "report.html").read_text()
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == len(chart_names())
    for encoded in images:
        assert mpimg.imread(io.BytesIO(base64.b64decode(encoded)), format="png").shape[0] > 200
    for name in chart_names():
        assert mpimg.imread(out / name).shape[1] >= 900  # a decodable, full-width PNG
    assert 'src="funnel.png"' not in html  # self-contained: no file references

    md = (out / "report.md").read_text()
    assert "Other workspace secret" not in md + html
    assert "## Many positive replies, few bookings" in md
    assert "Logistics VPs: 55 positive leads, 2 booked" in md  # called out
    assert "AI auto-send books more positive leads" in md  # 140 vs 160, intervals apart
    # Three campaigns: 0+1+2 links, a price each, one echo → 6 drafts stopped.
    assert "The outbound guard stopped 6 AI drafts for a person: link 3, pricing 3, echo 1." in md
    for name in chart_names():
        assert f"]({name})" in md


def test_small_arms_are_too_small_to_conclude(tmp_path: Path, workspace_id: uuid.UUID) -> None:
    build(tmp_path / "warehouse.duckdb", workspace_id, WEEK, arm_sizes=(12, 200))
    settings = load_settings(
        {"WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"), "EXPORTS_DIR": str(tmp_path)}
    )
    path = write_weekly_report(settings, workspace_id, WEEK)
    md = (path / "report.md").read_text()
    assert "Samples too small to conclude: 12 positive leads in the AI arm" in md


def test_overlapping_intervals_are_too_small_to_conclude(
    tmp_path: Path, workspace_id: uuid.UUID
) -> None:
    build(tmp_path / "warehouse.duckdb", workspace_id, WEEK, arm_sizes=(35, 40))
    settings = load_settings(
        {"WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"), "EXPORTS_DIR": str(tmp_path)}
    )
    md = (write_weekly_report(settings, workspace_id, WEEK) / "report.md").read_text()
    assert "Samples too small to conclude: the 95 % intervals overlap" in md


def test_empty_workspace_still_gets_a_report(tmp_path: Path, workspace_id: uuid.UUID) -> None:
    build(tmp_path / "warehouse.duckdb", uuid.uuid4(), WEEK, arm_sizes=(50, 50))
    settings = load_settings(
        {"WAREHOUSE_PATH": str(tmp_path / "warehouse.duckdb"), "EXPORTS_DIR": str(tmp_path)}
    )
    path = write_weekly_report(settings, workspace_id, WEEK)
    assert (path / "kpis.csv").read_text().count("\n") == 1  # header only
    assert "No positive leads yet." in (path / "report.md").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "no warehouse at"),
        (["--week", "last tuesday"], "--week must be a date"),
        (["--workspace", str(uuid.UUID(int=1))], "no workspace"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    tmp_path: Path,
    db_url: str,
    cli_runner: CliRunner,
    workspace_id: uuid.UUID,
    args: list[str],
    message: str,
) -> None:
    base = ["report", "weekly"]
    if "--workspace" not in args:
        base += ["--workspace", str(workspace_id)]
    result = cli_runner.invoke(cli, [*base, *args], env=_env(tmp_path, db_url))
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "exports").exists()
