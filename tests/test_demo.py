"""`replyline demo` — the README's first command — runs end to end and says what happened."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
import uuid
import zipfile

import psycopg
from psycopg import sql

from sender_service.db.urls import with_database


def test_demo_replays_a_day_and_reports_sends_and_reviews(
    pg_server_url: str, tmp_path: pathlib.Path
) -> None:
    name = f"replyline_demo_{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": with_database(pg_server_url, "postgres"),
        "REPLYLINE_VAR_DIR": str(tmp_path),
    }
    try:
        result = subprocess.run(
            [sys.executable, "-m", "sender_service", "demo", "--leads", "200", "--database", name],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        out = result.stdout
        assert result.returncode == 0, result.stdout + result.stderr
        assert "[5/5] the worker finished" in out
        assert "send_now: confidence 0.95" in out
        assert "needs_review:" in out and "Slack review DMs to the reviewer (1)" in out
        assert "setter-managed: a draft waits for a setter" in out
        assert "skip: a setter already answered" in out
        assert "untracked reply: stored and classified, never auto-answered" in out
        assert "EmailBison calls recorded: 4 replies sent in thread" in out
        assert "campaigns told to stop emailing a lead who replied" in out
        # Exactly the sends it reports.
        assert out.count("  to ") == 4
        assert (tmp_path / "demo" / "worker.log").exists()
        # Then its own warehouse, the weekly report, the zip and the analytics JSON.
        assert "Warehouse refreshed in" in out
        tail = out[out.index("GET /api/analytics/campaigns?workspace_id=") :]
        document = json.loads(tail[tail.index("{") : tail.index("\nWeekly report")])
        assert document["campaigns"] and document["ai_vs_setter"]
        assert {r["workspace_id"] for r in document["campaigns"]} == {document["workspace_id"]}
        report = re.search(r"Weekly report \(week of [0-9-]+\): (\S+)", out)
        dataset = re.search(r"ChatGPT dataset: (\S+\.zip)", out)
        assert report and dataset
        assert (
            pathlib.Path(report[1]).is_file()
            and (tmp_path / "demo") in pathlib.Path(report[1]).parents
        )
        with zipfile.ZipFile(dataset[1]) as archive:
            assert sorted(archive.namelist()) == ["README.md", "leads.csv", "messages.jsonl"]
        assert (tmp_path / "demo" / "warehouse.duckdb").is_file()
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )
