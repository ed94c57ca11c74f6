"""Headcount and industry from EmailBison's custom variables under their usual names, a
workspace's own names (`replyline workspace set-fields`), placeholders meaning unknown, and
stored leads re-read and re-bucketed by the next warehouse refresh."""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from sender_service.db.engine import session_scope
from sender_service.db.models import Lead
from sender_service.definitions import headcount_bucket
from sender_service.erasure import erase_lead
from tests import emailbison_payloads as eb
from tests.cli_helpers import assert_refused, ok_json, run
from tests.service import Service
from tests.test_warehouse import (  # noqa: F401 (fixtures)
    dagster_home,
    refresh,
    warehouse_dir,
    warehouse_env,
)


def deliver(
    service: Service,
    db_url: str,
    workspace: tuple[uuid.UUID, str],
    variables: list[dict[str, str]],
    lead_id: int = 501,
    reply_id: int = 9001,
) -> Lead:
    """One LEAD_REPLIED carrying these custom variables, over HTTP; the lead as stored."""
    payload = eb.lead_replied(reply_id=reply_id + lead_id)
    payload["data"]["lead"] = {**eb.lead(lead_id, f"lead{lead_id}@prospect.io")}
    payload["data"]["lead"]["custom_variables"] = variables
    ws_id, secret = workspace
    status, answer = service.post_json(
        f"/webhooks/emailbison/{ws_id}", payload, {"X-Replyline-Secret": secret}
    )
    assert status == 202, answer
    with session_scope(db_url) as session:
        lead = session.get_one(Lead, uuid.UUID(answer["lead_id"]))
        session.expunge(lead)
        return lead


@pytest.mark.parametrize(
    "name",
    [
        "headcount",
        "employee_headcount",
        "Employee Headcount",
        "company_size",
        "Company Size",
        "employees",
        "# Employees",
        " EMPLOYEES ",
    ],
)
def test_headcount_is_read_under_its_usual_names(
    service: Service, db_url: str, workspace: tuple[uuid.UUID, str], name: str
) -> None:
    lead = deliver(service, db_url, workspace, [{"name": name, "value": "51-200"}])
    assert lead.headcount == "51-200"
    assert headcount_bucket(lead.headcount) == "51-200"


@pytest.mark.parametrize("name", ["industry", "Industry", "company_industry", "Company Industry"])
def test_industry_is_read_under_its_usual_names(
    service: Service, db_url: str, workspace: tuple[uuid.UUID, str], name: str
) -> None:
    lead = deliver(service, db_url, workspace, [{"name": name, "value": " Computer Software "}])
    assert lead.industry == "Computer Software"


def test_placeholders_are_no_value_and_the_next_name_is_tried(
    service: Service, db_url: str, workspace: tuple[uuid.UUID, str]
) -> None:
    lead = deliver(
        service,
        db_url,
        workspace,
        [
            {"name": "Headcount", "value": "-"},
            {"name": "Employees", "value": "Myself Only"},
            {"name": "Industry", "value": "N/A"},
            {"name": "company_industry", "value": "unknown"},
        ],
    )
    assert (lead.headcount, lead.industry) == ("Myself Only", None)
    assert headcount_bucket(lead.headcount) == "1-10"
    assert lead.custom_variables == {
        "Headcount": "-",
        "Employees": "Myself Only",
        "Industry": "N/A",
        "company_industry": "unknown",
    }
    # A later delivery with only placeholders never erases what is known.
    again = deliver(
        service, db_url, workspace, [{"name": "employees", "value": "none"}], reply_id=9002
    )
    assert again.headcount == "Myself Only"


def test_a_workspace_names_its_own_fields_before_its_first_delivery(
    db_url: str, cli_runner: CliRunner, service: Service, workspace: tuple[uuid.UUID, str]
) -> None:
    ws_id = str(workspace[0])
    answer = ok_json(
        run(cli_runner, db_url, "workspace", "set-fields", "--workspace", ws_id,
            "--headcount", "Size Band", "--industry", "Vertical", "--json")
    )  # fmt: skip
    assert answer["fields"] == {"headcount": "Size Band", "industry": "Vertical"}
    variables = [
        {"name": "employees", "value": "5000"},
        {"name": "size_band", "value": "11-50"},
        {"name": "Industry", "value": "Retail"},
        {"name": "VERTICAL", "value": "Healthcare"},
    ]
    lead = deliver(service, db_url, workspace, variables)
    assert (lead.headcount, lead.industry) == ("11-50", "Healthcare")


def test_set_fields_refuses_bad_input(db_url: str, cli_runner: CliRunner) -> None:
    assert_refused(
        run(cli_runner, db_url, "workspace", "set-fields", "--workspace", str(uuid.uuid4()),
            "--headcount", "x"),
        "no workspace",
    )  # fmt: skip
    assert_refused(
        run(cli_runner, db_url, "workspace", "set-fields", "--workspace", str(uuid.uuid4())),
        "nothing to set",
    )  # fmt: skip


def test_erasing_a_lead_erases_its_custom_variables(
    service: Service, db_url: str, workspace: tuple[uuid.UUID, str]
) -> None:
    lead = deliver(service, db_url, workspace, [{"name": "linkedin", "value": "in/dana"}])
    with session_scope(db_url) as session:
        erase_lead(session, lead.id)
    with session_scope(db_url) as session:
        assert session.get_one(Lead, lead.id).custom_variables is None


def _segments(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "select segment_value, leads from marts.campaign_segment_kpis"
            " where segment_type = 'headcount_bucket'"
        ).fetchall()
    return {value: leads for value, leads in rows}


def test_stored_leads_are_re_read_and_the_next_refresh_re_buckets_them(
    warehouse_env: Path,  # noqa: F811
    db_url: str,
    cli_runner: CliRunner,
    service: Service,
    workspace: tuple[uuid.UUID, str],
) -> None:
    # Two leads whose platform calls headcount "Size Band": no usual name, so unknown.
    for lead_id, band in ((601, "11-50"), (602, "201-500")):
        lead = deliver(service, db_url, workspace, [{"name": "Size Band", "value": band}], lead_id)
        assert lead.headcount is None
    assert refresh(cli_runner).exit_code == 0
    assert _segments(warehouse_env) == {"unknown": 2}

    ws_id = str(workspace[0])
    result = run(cli_runner, db_url, "workspace", "set-fields", "--workspace", ws_id,
                 "--headcount", "size band")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    print(result.stdout)
    assert "2 stored lead(s) changed" in result.stdout
    assert "headcount: read from 'size band', then 'headcount'" in result.stdout

    assert refresh(cli_runner).exit_code == 0
    assert _segments(warehouse_env) == {"11-50": 1, "201-500": 1}
    # The warehouse holds the raw value, never the custom variables themselves.
    with duckdb.connect(str(warehouse_env), read_only=True) as con:
        columns = [
            c for (c,) in con.execute("select column_name from (describe raw.leads)").fetchall()
        ]
    assert "headcount" in columns and "custom_variables" not in columns
