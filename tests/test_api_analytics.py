"""The analytics, campaigns and export endpoints against a real refresh of seeded data.

One module-scoped warehouse: `replyline seed` (two workspaces, fixed `--as-of`), then the real
`replyline warehouse refresh`; the app reads the published file. Workspace A has a viewer, a
setter and an admin; B an admin only, so every cross-workspace request is a stranger's.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from flask.testing import FlaskClient

from sender_service.analytics import CAMPAIGN_MARTS, json_value
from sender_service.api_tokens import issue_token
from sender_service.app import create_app
from sender_service.db.engine import session_scope
from sender_service.reports.warehouse import MART_ORDER
from sender_service.settings import load_settings
from sender_service.users import add_member
from tests.seeded_warehouse import refresh, seeded

AS_OF = "2026-11-20"


@dataclass(frozen=True)
class World:
    url: str
    warehouse: Path
    a: uuid.UUID
    b: uuid.UUID
    tokens: dict[str, str]  # viewer, setter, admin (of A), admin_b, stranger (no membership)

    def marts(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            cursor = con.execute(sql, params)
            columns = [d[0] for d in cursor.description or []]
            return [
                {c: json_value(v) for c, v in zip(columns, row, strict=True)}
                for row in cursor.fetchall()
            ]

    def pg(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url) as conn:
            return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def world(make_database: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    url = make_database()
    tmp = tmp_path_factory.mktemp("api_analytics")
    seed_args = ("--workspaces", "2", "--leads", "200", "--random-seed", "5", "--as-of", AS_OF)
    with seeded(url, tmp, *seed_args) as runner:
        refresh(runner)
    with psycopg.connect(url) as conn:
        (a, b) = [r[0] for r in conn.execute("select id from workspaces order by name")]
    tokens = {}
    with session_scope(url) as session:
        for name, workspace, role in (
            ("viewer", a, "viewer"),
            ("setter", a, "setter"),
            ("admin", a, "admin"),
            ("admin_b", b, "admin"),
        ):
            user = add_member(session, f"{name}@example.test", workspace, role)[0]
            tokens[name] = issue_token(session, user)[1]
    yield World(url, tmp / "warehouse.duckdb", a, b, tokens)


@pytest.fixture
def client(world: World, tmp_path: Path) -> FlaskClient:
    settings = replace(
        load_settings(), warehouse_path=world.warehouse, exports_dir=tmp_path / "exports"
    )
    return create_app({"DATABASE_URL": world.url, "SETTINGS": settings}).test_client()


def auth(world: World, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[who]}"}


def get(client: FlaskClient, world: World, who: str, path: str) -> tuple[int, Any]:
    response = client.get(path, headers=auth(world, who))
    return response.status_code, response.get_json(silent=True)


# -- analytics -----------------------------------------------------------------------------------


def test_the_campaign_analytics_are_the_marts_rows(client: FlaskClient, world: World) -> None:
    status, body = get(client, world, "viewer", f"/api/analytics/campaigns?workspace_id={world.a}")
    assert status == 200, body
    assert body["workspace_id"] == str(world.a)
    assert datetime.fromisoformat(body["as_of"]).tzinfo is not None
    for key, mart in CAMPAIGN_MARTS.items():
        expected = world.marts(
            f"select * from marts.{mart} where workspace_id = ?", (str(world.a),)
        )
        assert expected, f"the seed left marts.{mart} empty"
        key_of = json.dumps  # rows compared as sets: order is the mart's, not part of the API
        assert sorted(map(key_of, body[key]), key=str) == sorted(map(key_of, expected), key=str)
    # Clean JSON: ids and dates as strings, no NaN.
    row = body["weekly"][0]
    assert uuid.UUID(row["email_campaign_id"]) and date.fromisoformat(row["week_start"])


def test_every_list_comes_in_its_grains_order(client: FlaskClient, world: World) -> None:
    """A dashboard or a diff of two answers sees the same order whatever order a refresh
    stored the rows in: all time and for a range."""
    _, everything = get(client, world, "viewer", f"/api/analytics/campaigns?workspace_id={world.a}")
    for key, mart in CAMPAIGN_MARTS.items():
        expected = world.marts(
            f"select * from marts.{mart} where workspace_id = ? order by {MART_ORDER[mart]}",
            (str(world.a),),
        )
        assert list(map(json.dumps, everything[key])) == list(map(json.dumps, expected)), key
    query = f"/api/analytics/campaigns?workspace_id={world.a}&from=2026-09-01&to=2026-10-31"
    _, ranged = get(client, world, "viewer", query)
    for key, fields in (
        ("weekly", ("week_start", "campaign_name", "email_campaign_id")),
        ("draft_outcomes", ("week_start", "email_campaign_id")),
        ("setters", ("week_start", "setter_email", "user_id")),
    ):
        keys = [tuple(row[f] for f in fields) for row in ranged[key]]
        assert len(keys) > 1 and keys == sorted(keys), key


def test_a_week_narrows_the_weekly_rows_only(client: FlaskClient, world: World) -> None:
    week = world.marts(
        "select max(week_start) as w from marts.weekly_campaign_report where workspace_id = ?",
        (str(world.a),),
    )[0]["w"]
    _, everything = get(client, world, "viewer", f"/api/analytics/campaigns?workspace_id={world.a}")
    status, body = get(
        client, world, "viewer", f"/api/analytics/campaigns?workspace_id={world.a}&week={week}"
    )
    assert status == 200
    assert body["weekly"] and {r["week_start"] for r in body["weekly"]} == {week}
    assert len(body["weekly"]) < len(everything["weekly"])
    assert body["campaigns"] == everything["campaigns"]


def test_a_workspace_never_sees_anothers_rows(client: FlaskClient, world: World) -> None:
    _, body = get(client, world, "admin_b", f"/api/analytics/campaigns?workspace_id={world.b}")
    a_campaigns = {
        str(r[0])
        for r in world.pg("select id from email_campaigns where workspace_id = %s", (world.a,))
    }
    for key in CAMPAIGN_MARTS:
        assert all(r["workspace_id"] == str(world.b) for r in body[key])
        assert not {r.get("email_campaign_id") for r in body[key]} & a_campaigns
    status, _ = get(client, world, "admin_b", f"/api/analytics/campaigns?workspace_id={world.a}")
    assert status == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "workspace_id"),
        ("workspace_id=nope", "workspace_id"),
        ("workspace_id={a}&week=last-week", "week"),
        ("workspace_id={a}&from=2026-10-01", "to"),
        ("workspace_id={a}&to=2026-10-31", "from"),
        ("workspace_id={a}&from=october&to=2026-10-31", "from"),
        ("workspace_id={a}&from=2026-10-31&to=2026-10-01", "to"),
    ],
)
def test_bad_analytics_parameters_are_named(
    client: FlaskClient, world: World, query: str, field: str
) -> None:
    status, body = get(
        client, world, "viewer", f"/api/analytics/campaigns?{query.format(a=world.a)}"
    )
    assert status == 400 and body["field"] == field and field in body["error"]


def test_a_range_is_the_cohort_of_first_replies(client: FlaskClient, world: World) -> None:
    query = f"/api/analytics/campaigns?workspace_id={world.a}&from=2026-10-01&to=2026-10-31"
    status, body = get(client, world, "viewer", query)
    assert status == 200, body
    assert (body["from"], body["to"]) == ("2026-10-01", "2026-10-31")
    (cohort,) = world.marts(
        "select count(*) as n, count(case when is_positive then 1 end) as positive"
        " from marts.lead_funnel where workspace_id = ?"
        " and first_reply_date between '2026-10-01' and '2026-10-31'",
        (str(world.a),),
    )
    assert cohort["n"] > 0
    assert sum(r["leads"] for r in body["campaigns"]) == cohort["n"]
    assert sum(r["positive_leads"] for r in body["ai_vs_setter"]) == cohort["positive"]
    _, everything = get(client, world, "viewer", f"/api/analytics/campaigns?workspace_id={world.a}")
    assert sum(r["leads_replied"] for r in everything["campaigns"]) > cohort["n"]
    assert {r["email_campaign_id"] for r in body["campaigns"]} == {
        r["email_campaign_id"] for r in everything["campaigns"]
    }
    assert all(
        "2026-09-28" <= r["week_start"] <= "2026-10-31" for r in body["weekly"] + body["setters"]
    )
    assert all(r["sentiment"] and r["replies"] > 0 for r in body["sentiments"])


def test_a_leads_booking_status(client: FlaskClient, world: World) -> None:
    (expected,) = world.marts(
        "select * from marts.lead_booking_status where workspace_id = ? and is_positive limit 1",
        (str(world.a),),
    )
    status, body = get(client, world, "viewer", f"/api/analytics/leads/{expected['lead_id']}")
    assert status == 200 and body == expected
    assert get(client, world, "admin_b", f"/api/analytics/leads/{expected['lead_id']}")[0] == 404
    assert get(client, world, "viewer", f"/api/analytics/leads/{uuid.uuid4()}")[0] == 404


def test_no_warehouse_is_a_clear_503(world: World, tmp_path: Path) -> None:
    app = create_app({"DATABASE_URL": world.url, "WAREHOUSE_PATH": str(tmp_path / "none.duckdb")})
    response = app.test_client().get(
        f"/api/analytics/campaigns?workspace_id={world.a}", headers=auth(world, "viewer")
    )
    assert response.status_code == 503
    assert "warehouse refresh" in response.get_json()["error"]


# -- access, for every new endpoint --------------------------------------------------------------


def _endpoints(world: World) -> list[tuple[str, str, str, str]]:
    """(method, path in A, the least role that may, body) of each new endpoint."""
    lead = world.pg("select id from leads where workspace_id = %s limit 1", (world.a,))[0][0]
    campaign = world.pg(
        "select id from email_campaigns where workspace_id = %s limit 1", (world.a,)
    )[0][0]
    return [
        ("GET", f"/api/analytics/campaigns?workspace_id={world.a}", "viewer", ""),
        ("GET", f"/api/analytics/leads/{lead}", "viewer", ""),
        ("GET", f"/api/campaigns?workspace_id={world.a}", "viewer", ""),
        ("PATCH", f"/api/campaigns/{campaign}", "admin", "{}"),
        ("GET", f"/api/export/chatgpt?workspace_id={world.a}", "viewer", ""),
    ]


def test_every_endpoint_answers_401_403_404(client: FlaskClient, world: World) -> None:
    rank = ["viewer", "setter", "admin"]
    for method, path, least, body in _endpoints(world):
        assert client.open(path, method=method, data=body).status_code == 401, path
        bad = client.open(path, method=method, data=body, headers={"Authorization": "Bearer x"})
        assert bad.status_code == 401, path
        stranger = client.open(path, method=method, data=body, headers=auth(world, "admin_b"))
        assert stranger.status_code == 404, path
        for role in rank:
            response = client.open(path, method=method, data=body, headers=auth(world, role))
            expected = 403 if rank.index(role) < rank.index(least) else 200
            assert response.status_code == expected, (path, role, response.get_data()[:200])
            response.close()


# -- campaigns -------------------------------------------------------------------------------


def test_list_campaigns(client: FlaskClient, world: World) -> None:
    status, body = get(client, world, "viewer", f"/api/campaigns?workspace_id={world.a}")
    assert status == 200
    ids = {
        str(r[0])
        for r in world.pg("select id from email_campaigns where workspace_id = %s", (world.a,))
    }
    assert {c["id"] for c in body["campaigns"]} == ids
    first = body["campaigns"][0]
    assert set(first) >= {"response_mode", "auto_send_confidence_threshold", "sending_hours"}


def _patch(
    client: FlaskClient, world: World, campaign: Any, payload: Any, who: str = "admin"
) -> tuple[int, Any]:
    response = client.patch(
        f"/api/campaigns/{campaign}", data=json.dumps(payload), headers=auth(world, who)
    )
    return response.status_code, response.get_json()


def test_patch_changes_a_campaign_and_records_who(client: FlaskClient, world: World) -> None:
    (campaign, mode) = world.pg(
        "select id, response_mode from email_campaigns where workspace_id = %s"
        " order by name limit 1",
        (world.a,),
    )[0]
    other = "AI_AUTO_SEND" if mode == "SETTER_MANAGED" else "SETTER_MANAGED"
    before = world.pg(
        "select count(*) from campaign_mode_changes where email_campaign_id = %s", (campaign,)
    )[0][0]
    status, body = _patch(
        client,
        world,
        campaign,
        {
            "response_mode": other,
            "auto_send_confidence_threshold": 0.85,
            "send_delay_min_seconds": 30,
            "send_delay_max_seconds": 90,
            "sending_hours": "business_hours",
        },
    )
    assert status == 200, body
    assert body["response_mode"] == other and body["auto_send_confidence_threshold"] == 0.85
    assert (body["send_delay_min_seconds"], body["send_delay_max_seconds"]) == (30, 90)
    assert body["sending_hours"] == "business_hours"
    history = world.pg(
        "select c.from_mode, c.to_mode, c.threshold, c.reason, u.email from campaign_mode_changes c"
        " join users u on u.id = c.changed_by where c.email_campaign_id = %s"
        " order by c.changed_at desc",
        (campaign,),
    )
    assert len(history) >= 1
    from_mode, to_mode, threshold, reason, email = history[0]
    assert (from_mode, to_mode, float(threshold), reason, email) == (
        mode,
        other,
        0.85,
        "manual",
        "admin@example.test",
    )
    # Timing alone, or the same mode again, is no history row.
    status, _ = _patch(
        client, world, campaign, {"send_delay_max_seconds": 120, "response_mode": other}
    )
    assert status == 200
    after = world.pg(
        "select count(*) from campaign_mode_changes where email_campaign_id = %s", (campaign,)
    )[0][0]
    assert after == before + 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"response_mode": "YOLO"}, "response_mode"),
        ({"auto_send_confidence_threshold": 1.5}, "auto_send_confidence_threshold"),
        ({"auto_send_confidence_threshold": -0.1}, "auto_send_confidence_threshold"),
        ({"auto_send_confidence_threshold": 0.12345}, "auto_send_confidence_threshold"),
        ({"send_delay_min_seconds": -1}, "send_delay_min_seconds"),
        ({"send_delay_min_seconds": "5"}, "send_delay_min_seconds"),
        ({"send_delay_min_seconds": 100, "send_delay_max_seconds": 10}, "send_delay_min_seconds"),
        ({"send_delay_min_seconds": 10**6}, "send_delay_min_seconds"),  # above the stored max
        ({"sending_hours": "nights"}, "sending_hours"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_patch_validation_names_the_field_and_changes_nothing(
    client: FlaskClient, world: World, payload: dict[str, Any], field: str
) -> None:
    (campaign,) = world.pg(
        "select id from email_campaigns where workspace_id = %s order by name desc limit 1",
        (world.a,),
    )[0]
    before = world.pg("select * from email_campaigns where id = %s", (campaign,))
    history = world.pg("select count(*) from campaign_mode_changes")
    status, body = _patch(client, world, campaign, payload)
    assert status == 400 and body["field"] == field, body
    assert world.pg("select * from email_campaigns where id = %s", (campaign,)) == before
    assert world.pg("select count(*) from campaign_mode_changes") == history


def test_patch_needs_a_json_object(client: FlaskClient, world: World) -> None:
    (campaign,) = world.pg(
        "select id from email_campaigns where workspace_id = %s limit 1", (world.a,)
    )[0]
    response = client.patch(
        f"/api/campaigns/{campaign}", data="{oops", headers=auth(world, "admin")
    )
    assert response.status_code == 400


# -- export --------------------------------------------------------------------------------------


def _zip(client: FlaskClient, world: World, query: str, who: str = "viewer") -> zipfile.ZipFile:
    response = client.get(f"/api/export/chatgpt?{query}", headers=auth(world, who))
    assert response.status_code == 200, response.get_data()[:300]
    assert response.mimetype == "application/zip"
    assert response.is_streamed
    today = datetime.now(UTC).date().isoformat()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="replyline-{query.split("=")[1].split("&")[0]}-{today}.zip"'
    )
    return zipfile.ZipFile(io.BytesIO(response.get_data()))


def test_the_export_streams_only_the_workspaces_rows(client: FlaskClient, world: World) -> None:
    archive = _zip(client, world, f"workspace_id={world.a}")
    assert sorted(archive.namelist()) == ["README.md", "leads.csv", "messages.jsonl"]
    leads = list(csv.DictReader(io.StringIO(archive.read("leads.csv").decode())))
    a_leads = {
        str(r[0]) for r in world.pg("select id from leads where workspace_id = %s", (world.a,))
    }
    assert {r["lead_id"] for r in leads} == a_leads
    messages = [json.loads(line) for line in archive.read("messages.jsonl").splitlines()]
    assert messages and {m["lead_id"] for m in messages if m["lead_id"]} <= a_leads
    b_emails = {
        r[0] for r in world.pg("select email from leads where workspace_id = %s", (world.b,))
    }
    text = archive.read("leads.csv").decode() + archive.read("messages.jsonl").decode()
    assert not any(email in text for email in b_emails if email)


def test_export_filters(client: FlaskClient, world: World) -> None:
    archive = _zip(
        client,
        world,
        f"workspace_id={world.a}&positive_only=true&channels=email&directions=inbound"
        "&from=2026-09-01T00:00:00Z&to=2026-11-01T00:00:00%2B00:00",
    )
    leads = list(csv.DictReader(io.StringIO(archive.read("leads.csv").decode())))
    assert leads and all(r["is_positive"] == "true" for r in leads)
    messages = [json.loads(line) for line in archive.read("messages.jsonl").splitlines()]
    assert messages
    for m in messages:
        assert (m["channel"], m["direction"]) == ("email", "inbound")
        assert "2026-09-01" <= m["occurred_at"][:10] < "2026-11-01"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "workspace_id"),
        ("workspace_id=x", "workspace_id"),
        ("workspace_id={a}&positive_only=maybe", "positive_only"),
        ("workspace_id={a}&channels=email,fax", "channels"),
        ("workspace_id={a}&directions=sideways", "directions"),
        ("workspace_id={a}&from=yesterday", "from"),
        ("workspace_id={a}&to=2026-01-01T00:00:00", "to"),  # no zone
        ("workspace_id={a}&from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from"),
    ],
)
def test_bad_export_filters_are_named(
    client: FlaskClient, world: World, query: str, field: str
) -> None:
    status, body = get(client, world, "viewer", f"/api/export/chatgpt?{query.format(a=world.a)}")
    assert status == 400 and body["field"] == field, body


def _client_on_a_copy(world: World, tmp_path: Path) -> FlaskClient:
    """An app reading its own copy of the seeded warehouse (`_republish` replaces it)."""
    published = tmp_path / "warehouse.duckdb"
    shutil.copy(world.warehouse, published)
    return create_app({"DATABASE_URL": world.url, "WAREHOUSE_PATH": str(published)}).test_client()


def _republish(world: World, tmp_path: Path, *statements: str) -> None:
    """A "refresh": a new file, built beside the published one and renamed over it."""
    build = tmp_path / "build.duckdb"
    shutil.copy(world.warehouse, build)
    with duckdb.connect(str(build)) as con:
        for statement in statements:
            con.execute(statement)
    os.replace(build, tmp_path / "warehouse.duckdb")


def test_a_new_published_warehouse_is_read_at_once(world: World, tmp_path: Path) -> None:
    """Answers are cached per published file; a refresh swaps in a new file, never stale."""
    client = _client_on_a_copy(world, tmp_path)
    path = f"/api/analytics/campaigns?workspace_id={world.a}"
    first = client.get(path, headers=auth(world, "viewer")).get_json()
    assert (
        first["campaigns"] and client.get(path, headers=auth(world, "viewer")).get_json() == first
    )
    _republish(world, tmp_path, "delete from marts.campaign_kpis")
    assert client.get(path, headers=auth(world, "viewer")).get_json()["campaigns"] == []


def test_a_range_reads_the_new_published_warehouse_at_once(world: World, tmp_path: Path) -> None:
    """Ranged answers come from a per-file index of the marts; a refresh is a new index."""
    client = _client_on_a_copy(world, tmp_path)
    october = f"/api/analytics/campaigns?workspace_id={world.a}&from=2026-10-01&to=2026-10-31"
    first = client.get(october, headers=auth(world, "viewer")).get_json()
    assert sum(r["leads"] for r in first["campaigns"]) > 0 and first["segments"]
    _republish(
        world,
        tmp_path,
        "delete from marts.lead_funnel",
        "delete from marts.campaign_sentiment_counts",
    )
    after = client.get(october, headers=auth(world, "viewer")).get_json()
    assert [r["email_campaign_id"] for r in after["campaigns"]] == [
        r["email_campaign_id"] for r in first["campaigns"]
    ]
    assert all(r["leads"] == 0 for r in after["campaigns"])
    assert after["segments"] == [] and after["ai_vs_setter"] == [] and after["sentiments"] == []
