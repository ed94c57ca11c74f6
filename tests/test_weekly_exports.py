"""The hourly exports schedule and its asset, at fixed moments: a workspace's report and zip
once its Monday 08:00 has passed (its own time zone), never twice, and expired exports deleted."""

from __future__ import annotations

import json
import os
import re
import stat
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from dagster_project.assets.exports import weekly_exports
from dagster_project.resources import ExportsResource
from dagster_project.schedules import weekly_exports_hourly
from tests.warehouse_fixture import build

WEEK = date(2026, 11, 9)  # a Monday; its report is due Monday 16 November, 08:00 local
MONDAY = datetime(2026, 11, 16, tzinfo=UTC)


@pytest.fixture
def setup(db_url: str, workspace: tuple[uuid.UUID, str], tmp_path: Path) -> dict[str, Any]:
    workspace_id = workspace[0]
    build(tmp_path / "warehouse.duckdb", workspace_id, WEEK, arm_sizes=(40, 40))
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / ".gitkeep").touch()
    resource = ExportsResource(
        database_url=db_url,
        warehouse_path=str(tmp_path / "warehouse.duckdb"),
        exports_dir=str(exports),
        retention_days=30,
    )
    return {"id": workspace_id, "exports": exports, "resource": resource, "url": db_url}


def tick(setup: dict[str, Any], now: datetime) -> dg.RunRequest | dg.SkipReason:
    context = dg.build_schedule_context(
        scheduled_execution_time=now, resources={"exports": setup["resource"]}
    )
    result = weekly_exports_hourly(context)
    assert isinstance(result, dg.RunRequest | dg.SkipReason)
    return result


def materialize(setup: dict[str, Any], now: datetime) -> dict[str, Any]:
    result = dg.materialize(
        [weekly_exports],
        resources={"exports": setup["resource"]},
        run_config={"ops": {"weekly_exports": {"config": {"now": now.isoformat()}}}},
    )
    assert result.success
    (event,) = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    return {k: v.value for k, v in metadata.items()}


def test_nothing_is_due_before_monday_eight(setup: dict[str, Any]) -> None:
    result = tick(setup, MONDAY + timedelta(hours=7, minutes=59))
    assert isinstance(result, dg.SkipReason)
    assert materialize(setup, MONDAY + timedelta(hours=7))["reports_written"] == 0
    assert not (setup["exports"] / str(setup["id"])).exists()


def test_the_report_and_zip_are_written_once(setup: dict[str, Any]) -> None:
    now = MONDAY + timedelta(hours=8)
    request = tick(setup, now)
    assert isinstance(request, dg.RunRequest)
    assert request.run_config == {"ops": {"weekly_exports": {"config": {"now": now.isoformat()}}}}
    assert materialize(setup, now)["reports_written"] == 1
    root = setup["exports"] / str(setup["id"])
    report = root / "weekly" / WEEK.isoformat()
    assert (report / "report.html").is_file() and (report / "kpis.csv").is_file()
    (zip_path,) = (root / "chatgpt").iterdir()
    assert zip_path.name.startswith(f"replyline-{setup['id']}-") and zip_path.suffix == ".zip"
    written = report.stat().st_mtime
    # The next hours: nothing due, nothing rewritten.
    later = now + timedelta(hours=1)
    assert isinstance(tick(setup, later), dg.SkipReason)
    assert materialize(setup, later)["reports_written"] == 0
    assert report.stat().st_mtime == written


def test_exports_on_disk_are_for_their_owner_only(setup: dict[str, Any]) -> None:
    """They hold personal data: folders 0700 and files 0600 even under a permissive umask,
    and a folder an older version left open is narrowed when it is next written into."""
    root = setup["exports"] / str(setup["id"])
    (root / "weekly").mkdir(parents=True, mode=0o755)
    previous = os.umask(0o022)
    try:
        assert materialize(setup, MONDAY + timedelta(hours=8))["reports_written"] == 1
    finally:
        os.umask(previous)
    folders = [root, *(p for p in root.rglob("*") if p.is_dir())]
    files = [p for p in root.rglob("*") if p.is_file()]
    assert {p.relative_to(root).as_posix() for p in folders} >= {".", "weekly", "chatgpt"}
    assert {"report.html", "kpis.csv"} <= {p.name for p in files}
    assert any(p.suffix == ".zip" for p in files)
    assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in folders} == {
        f.name: 0o700 for f in folders
    }
    assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {f.name: 0o600 for f in files}


def test_the_workspaces_time_zone_decides(setup: dict[str, Any]) -> None:
    with psycopg.connect(setup["url"]) as conn:
        conn.execute(
            "update workspaces set timezone = 'America/New_York' where id = %s", (setup["id"],)
        )
    assert isinstance(tick(setup, MONDAY + timedelta(hours=12)), dg.SkipReason)  # 07:00 EST
    assert isinstance(tick(setup, MONDAY + timedelta(hours=13)), dg.RunRequest)  # 08:00 EST


def test_expired_exports_are_deleted(setup: dict[str, Any]) -> None:
    now = MONDAY + timedelta(hours=3)  # no report due: only the expired file asks for a run
    exports: Path = setup["exports"]
    old = exports / str(setup["id"]) / "chatgpt" / "replyline-old.zip"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"personal data")
    fresh = exports / str(setup["id"]) / "weekly" / "2026-11-02" / "report.md"
    fresh.parent.mkdir(parents=True)
    fresh.write_text("recent")
    stale = (now - timedelta(days=31)).timestamp()
    os.utime(old, (stale, stale))
    os.utime(exports / ".gitkeep", (stale, stale))
    request = tick(setup, now)
    assert isinstance(request, dg.RunRequest)
    assert materialize(setup, now)["expired_deleted"] == 1
    assert not old.exists() and not old.parent.exists()
    assert fresh.exists() and (exports / ".gitkeep").exists()
    assert isinstance(tick(setup, now), dg.SkipReason)


def test_the_report_is_posted_to_the_workspace_channel_once(
    setup: dict[str, Any], httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploads: list[str] = []
    httpserver.expect_request("/api/files.getUploadURLExternal").respond_with_handler(
        lambda req: Response(
            json.dumps(
                {
                    "ok": True,
                    "upload_url": httpserver.url_for(f"/upload/{len(uploads)}"),
                    "file_id": f"F{len(uploads)}",
                }
            ),
            content_type="application/json",
        )
    )

    def upload(req: Request) -> Response:
        uploads.append(req.path)
        return Response("OK - 1")

    httpserver.expect_request(re.compile(r"^/upload/\d+$")).respond_with_handler(upload)
    httpserver.expect_request("/api/files.completeUploadExternal").respond_with_json(
        {"ok": True, "files": [{"id": "F0"}]}
    )
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_API_URL", httpserver.url_for("/api/"))
    with psycopg.connect(setup["url"]) as conn:
        conn.execute(
            # A name with mrkdwn in it: posted inert (issue 15).
            "update workspaces set report_slack_channel = 'C0REPORTS', "
            "name = 'Acme <!channel> & co' where id = %s",
            (setup["id"],),
        )
    now = MONDAY + timedelta(hours=8)
    first = materialize(setup, now)
    assert (first["reports_written"], first["posted_to_slack"]) == (1, 1)
    (complete,) = [r for r, _ in httpserver.log if r.path.endswith("completeUploadExternal")]
    form = complete.get_json() if complete.is_json else complete.form.to_dict()
    assert form["channel_id"] == "C0REPORTS"
    assert "Weekly report" in form["initial_comment"] and "booked" in form["initial_comment"]
    assert "Acme &lt;!channel&gt; &amp; co" in form["initial_comment"]
    assert "<!channel>" not in form["initial_comment"]
    assert len(uploads) == 5  # report.html, three charts, kpis.csv
    marker = setup["exports"] / str(setup["id"]) / "weekly" / WEEK.isoformat() / "slack-posted"
    assert stat.S_IMODE(marker.stat().st_mode) == 0o600
    # The next hour posts nothing again.
    assert materialize(setup, now + timedelta(hours=1))["posted_to_slack"] == 0
    assert len(uploads) == 5
