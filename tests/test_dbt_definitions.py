"""The locked definitions agree between Python and dbt, label by label and string by string."""

from __future__ import annotations

import csv
import itertools
import json
import os
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

from dagster_project.dbt_project import ensure_manifest
from sender_service.booking import is_meeting_booked
from sender_service.db.models import Lead, Workspace
from sender_service.definitions import (
    HEADCOUNT_BUCKETS,
    MEETING_REQUESTED_SENTIMENTS,
    PLACEHOLDERS,
    POSITIVE_SENTIMENTS,
    SENTIMENTS,
    headcount_bucket,
    is_placeholder,
)
from tests.test_definitions import HEADCOUNT_TABLE

DBT_DIR = pathlib.Path(__file__).resolve().parent.parent / "dbt"


def _seed(name: str) -> list[dict[str, str]]:
    with open(DBT_DIR / "seeds" / f"{name}.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_sentiment_seed_matches_definitions() -> None:
    rows = _seed("sentiment_labels")
    assert [r["sentiment"] for r in rows] == list(SENTIMENTS)
    assert {r["sentiment"] for r in rows if r["is_positive"] == "true"} == POSITIVE_SENTIMENTS
    assert {
        r["sentiment"] for r in rows if r["is_meeting_requested"] == "true"
    } == MEETING_REQUESTED_SENTIMENTS
    not_replies = {r["sentiment"] for r in rows if r["counts_as_reply"] == "false"}
    assert not_replies == {"Out of Office", "Automated Reply"}


def test_headcount_seed_matches_definitions() -> None:
    assert [r["bucket"] for r in _seed("headcount_buckets")] == list(HEADCOUNT_BUCKETS)


@pytest.fixture(scope="module")
def dbt_show(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Run an inline query through dbt (macros compiled) on a scratch DuckDB file."""
    from dbt.artifacts.schemas.run import RunExecutionResult
    from dbt.cli.main import dbtRunner

    build = tmp_path_factory.mktemp("dbt") / "scratch.duckdb"
    previous = os.environ.get("REPLYLINE_WAREHOUSE_BUILD")
    os.environ["REPLYLINE_WAREHOUSE_BUILD"] = str(build)
    target = tmp_path_factory.mktemp("dbt-target")

    def show(sql: str) -> list[tuple[Any, ...]]:
        result = dbtRunner().invoke(
            [
                "show",
                "--inline",
                sql,
                "--limit",
                "-1",
                "--project-dir",
                str(DBT_DIR),
                "--profiles-dir",
                str(DBT_DIR),
                "--target-path",
                str(target),
                "--log-path",
                str(target),
                "--quiet",
            ]
        )
        assert result.success, result.exception
        assert isinstance(result.result, RunExecutionResult)
        table = result.result.results[0].agate_table
        assert table is not None
        return [tuple(row) for row in table.rows]

    yield show
    if previous is None:
        os.environ.pop("REPLYLINE_WAREHOUSE_BUILD", None)
    else:
        os.environ["REPLYLINE_WAREHOUSE_BUILD"] = previous


def _literal(value: object) -> str:
    if value is None:
        return "null"
    return "'" + str(value).replace("'", "''") + "'"


def test_headcount_macro_agrees_with_python(dbt_show: Any) -> None:
    raws: list[str | int | None] = [raw for raw, _ in HEADCOUNT_TABLE] + [
        "7",
        "12 employees",
        "10,000",
        "10,001",
        "1m",
        "0.5k",
        "3k+",
        "1 - 10",
        "50-49",
        "abc 50",
        *PLACEHOLDERS,
        "MYSELF ONLY",
        " - ",
    ]
    values = ", ".join(f"({i}, {_literal(raw)})" for i, raw in enumerate(raws))
    rows = dbt_show(
        f"select i, {{{{ headcount_bucket('raw') }}}} as bucket from (values {values}) t(i, raw)"
    )
    got = {int(i): bucket for i, bucket in rows}
    mismatches = {
        raw: (headcount_bucket(raw), got[i])
        for i, raw in enumerate(raws)
        if headcount_bucket(raw) != got[i]
    }
    assert mismatches == {}


def test_industry_macro_treats_every_placeholder_as_unknown(dbt_show: Any) -> None:
    raws = [*PLACEHOLDERS, *(p.upper() for p in PLACEHOLDERS), " n/a ", "", None]
    real = ["  Computer   Software ", "Healthcare"]
    values = ", ".join(f"({i}, {_literal(raw)})" for i, raw in enumerate([*raws, *real]))
    rows = dbt_show(
        f"select i, {{{{ industry_segment('raw') }}}} as segment from (values {values}) t(i, raw)"
    )
    got = {int(i): segment for i, segment in rows}
    assert [got[i] for i in range(len(raws))] == ["unknown"] * len(raws)
    assert all(is_placeholder(raw) for raw in raws)
    assert [got[len(raws)], got[len(raws) + 1]] == ["computer software", "healthcare"]


def test_booked_macro_agrees_with_python(dbt_show: Any) -> None:
    providers = ["GHL", "CALENDLY"]
    ids = [None, "apt-1"]
    uris = [None, "https://api.calendly.com/x"]
    statuses = [None, "confirmed", "canceled", "showed", "noshow"]
    combos = list(itertools.product(providers, ids, uris, uris, statuses))
    values = ", ".join(
        "(" + ", ".join([str(i), *(_literal(v) for v in combo)]) + ")"
        for i, combo in enumerate(combos)
    )
    rows = dbt_show(
        "select i, {{ is_meeting_booked('provider', 'appt', 'invitee', 'event', 'status') }}"
        f" as booked from (values {values}) t(i, provider, appt, invitee, event, status)"
    )
    got = {int(i): bool(booked) for i, booked in rows}
    for i, (provider, appt, invitee, event, status) in enumerate(combos):
        lead = Lead(
            ghl_appointment_id=appt,
            calendly_invitee_uri=invitee,
            calendly_scheduled_event_uri=event,
            appointment_status=status,
        )
        workspace = Workspace(booking_provider=provider)
        assert got[i] == is_meeting_booked(lead, workspace), combos[i]


def test_a_deleted_model_leaves_the_manifest_at_the_next_load() -> None:
    """Deleting a model makes no remaining file newer than the manifest; the next load must
    still re-parse, or Dagster would build a model that no longer exists."""
    model = DBT_DIR / "models" / "marts" / "zz_manifest_probe.sql"
    node = "model.replyline.zz_manifest_probe"
    try:
        model.write_text("select 1 as probe\n")
        assert node in json.loads(ensure_manifest().read_text())["nodes"]
    finally:
        model.unlink(missing_ok=True)
    assert node not in json.loads(ensure_manifest().read_text())["nodes"]
