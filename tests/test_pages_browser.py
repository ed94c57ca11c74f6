"""The pages in a real headless Chromium (Debian's `chromium`, driven by Playwright).

One flow over a seeded, refreshed warehouse and the real service on loopback: sign in → the
dashboard shows the marts' numbers → the ChatGPT zip downloads and parses → an admin switches a
campaign to AI_AUTO_SEND (a setter cannot) → a low-confidence draft reaches the review queue →
a setter edits and sends it (a second setter is told it was handled) → the lead page shows it as
`setter` → another workspace's lead is 404; posts without the CSRF token are refused.
Screenshots of every page go to `var/screenshots/` (the committed set is `docs/screenshots/`).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from PIL import Image
from playwright.sync_api import Browser, Page, expect, sync_playwright
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from sender_service.campaigns import get_or_create_campaign
from sender_service.cli import cli
from sender_service.credentials import cipher, store_secret
from sender_service.db import migrate
from sender_service.db.engine import session_scope
from sender_service.db.models import (
    CampaignModeChange,
    EmailCampaign,
    Lead,
    Message,
    User,
    Workspace,
)
from sender_service.ingest import journal
from sender_service.jobs.worker import Worker
from sender_service.passwords import set_password
from sender_service.services import Services
from sender_service.settings import Settings, project_root
from sender_service.users import add_member
from sender_service.workspaces import rotate_webhook_secret
from tests import emailbison_payloads as eb
from tests.service import Service, run_service
from tests.stubs import Stubs

CHROMIUM = "/usr/bin/chromium"
# Keep the browser off the network: nothing but the service on loopback.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"
SETTERS = {"sam@agency.test", "sid@agency.test"}
WAITING = ("dana@prospect.io", "omar@northwind.io")  # the two replies the flow makes wait
SCREENSHOTS = project_root() / "var" / "screenshots"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium is missing: run `make chromium`"
)


@pytest.fixture(scope="module")
def seeded(
    make_database: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Two seeded workspaces refreshed into a published warehouse."""
    url = make_database()
    migrate.upgrade(url)
    tmp = tmp_path_factory.mktemp("pages")
    env = {
        "DATABASE_URL": url,
        "WAREHOUSE_PATH": str(tmp / "warehouse.duckdb"),
        "REPLYLINE_VAR_DIR": str(tmp / "var"),
        "DAGSTER_HOME": str(tmp / "dagster"),
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        runner = CliRunner()
        args = ["seed", "--workspaces", "2", "--leads", "400", "--random-seed", "5"]
        seeded = runner.invoke(cli, [*args, "--as-of", "2026-11-20"], catch_exceptions=False)
        assert seeded.exit_code == 0, seeded.output
        refreshed = runner.invoke(cli, ["warehouse", "refresh"], catch_exceptions=False)
        assert refreshed.exit_code == 0, refreshed.output
    with session_scope(url) as session:
        a, b = session.execute(select(Workspace).order_by(Workspace.name)).scalars().all()[:2]
        ids = (a.id, b.id)
    yield {"url": url, "env": env, "a": ids[0], "b": ids[1]}


@pytest.fixture
def stubs(httpserver: HTTPServer) -> Stubs:
    return Stubs(httpserver)


@pytest.fixture
def app(seeded: dict[str, Any], stubs: Stubs) -> Iterator[tuple[Service, Settings]]:
    settings = stubs.settings(
        PUBLIC_BASE_URL="http://127.0.0.1",
        WAREHOUSE_PATH=seeded["env"]["WAREHOUSE_PATH"],
        REPLYLINE_VAR_DIR=seeded["env"]["REPLYLINE_VAR_DIR"],
    )
    with session_scope(seeded["url"]) as session:
        for email, workspace, role in [
            ("ada@agency.test", seeded["a"], "admin"),
            ("sam@agency.test", seeded["a"], "setter"),
            ("sid@agency.test", seeded["a"], "setter"),
            ("ada@agency.test", seeded["b"], "viewer"),
        ]:
            user, _, _ = add_member(session, email, workspace, role)
            set_password(session, user, PASSWORD)
        ws = session.get_one(Workspace, seeded["a"])
        ws.email_platform_url = stubs.platform_url
        store_secret(session, cipher(settings), ws.id, "email_platform_api_key", "eb-key")
        get_or_create_campaign(session, ws.id, "77", "Spring push")
        get_or_create_campaign(session, ws.id, "88", "Summer webinar follow-up")
    with run_service(seeded["url"], settings) as service:
        yield service, settings


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def shot(page: Page, name: str) -> None:
    """A full-page PNG, reduced to a 256-colour palette: flat UI loses nothing visible and the
    file stays small enough to commit."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    image = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
        SCREENSHOTS / f"{name}.png", optimize=True
    )


def sign_in(browser: Browser, service: Service, email: str, **options: Any) -> Page:
    page = browser.new_context(
        base_url=service.base_url, accept_downloads=True, **options
    ).new_page()
    page.goto("/")
    expect(page).to_have_url(f"{service.base_url}/sign-in?next=%2F")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    return page


def csrf_token(page: Page) -> str:
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert token
    return token


def marts(path: str, workspace: uuid.UUID) -> list[dict[str, Any]]:
    with duckdb.connect(path, read_only=True) as con:
        cursor = con.execute(
            "select * from marts.campaign_kpis where cast(workspace_id as varchar) = ?",
            (str(workspace),),
        )
        columns = [d[0] for d in cursor.description or []]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def test_pages_end_to_end(
    seeded: dict[str, Any],
    app: tuple[Service, Settings],
    browser: Browser,
    stubs: Stubs,
    tmp_path: Path,
) -> None:
    service, settings = app
    url, ws_a = seeded["url"], seeded["a"]

    # Sign-in: a wrong password is refused, the right one opens the dashboard.
    page = browser.new_context(base_url=service.base_url).new_page()
    page.goto("/campaigns")
    page.get_by_label("Email").fill("ada@agency.test")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    shot(page, "sign-in")
    page.context.close()

    # A webhook delivery no reader could use: the dashboard warns of it.
    with session_scope(url) as session:
        entry = journal.Entry("emailbison", ws_a, b'{"event": {"type": "LEAD_REPLIED"}}', {})
        journal.add(session, entry, "held", error="data: missing", error_field="data")
    admin = sign_in(browser, service, "ada@agency.test", viewport={"width": 1360, "height": 900})
    expect(admin.get_by_role("heading", level=1)).to_have_text(seeded_name(url, ws_a))
    expect(admin.get_by_role("alert")).to_contain_text("1 webhook delivery is held")
    rows = marts(seeded["env"]["WAREHOUSE_PATH"], ws_a)
    assert rows
    for row in rows:
        tr = admin.locator(f"tr[data-campaign-id='{row['email_campaign_id']}']")
        for column in ("leads", "leads_replied", "positive_leads", "booked_leads", "ai_sends"):
            expect(tr.locator(f"td[data-col={column}]")).to_have_text(f"{int(row[column]):,}")
        for column in ("reply_rate", "booking_rate"):
            value = row[column]
            expected = "—" if value is None else f"{value * 100:.1f} %"
            expect(tr.locator(f"td[data-col={column}]")).to_have_text(expected)
    expect(admin.locator("svg.chart").first).to_be_visible()
    shot(admin, "dashboard")

    # A date range narrows the funnel to the leads whose first reply falls in it.
    with duckdb.connect(seeded["env"]["WAREHOUSE_PATH"], read_only=True) as con:
        first = con.execute(
            "select min(first_reply_date) from marts.lead_funnel"
            " where cast(workspace_id as varchar) = ?",
            (str(ws_a),),
        ).fetchone()
        assert first is not None and first[0] is not None
        start, end = first[0], first[0] + timedelta(days=30)
        cohort = dict(
            con.execute(
                "select cast(email_campaign_id as varchar), count(*) from marts.lead_funnel"
                " where cast(workspace_id as varchar) = ? and first_reply_date between ? and ?"
                " group by 1",
                (str(ws_a), start, end),
            ).fetchall()
        )
    assert cohort
    admin.get_by_label("First reply from").fill(start.isoformat())
    admin.get_by_label("to", exact=True).fill(end.isoformat())
    admin.get_by_role("button", name="Apply").click()
    expect(admin.get_by_test_id("range-note")).to_contain_text(start.isoformat())
    for row in rows:
        tr = admin.locator(f"tr[data-campaign-id='{row['email_campaign_id']}']")
        expected_leads = cohort.get(str(row["email_campaign_id"]), 0)
        expect(tr.locator("td[data-col=leads]")).to_have_text(f"{expected_leads:,}")
    admin.get_by_role("link", name="All time").click()

    # The ChatGPT dataset: a zip whose files parse.
    admin.get_by_label("Positive leads only").check()
    with admin.expect_download() as download_info:
        admin.get_by_role("button", name="Download dataset for ChatGPT").click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"replyline-{ws_a}")
    target = tmp_path / "dataset.zip"
    download.save_as(target)
    with zipfile.ZipFile(target) as archive:
        assert {"leads.csv", "messages.jsonl", "README.md"} <= set(archive.namelist())
        leads = list(csv.DictReader(io.StringIO(archive.read("leads.csv").decode())))
        assert leads and all(lead["is_positive"] == "true" for lead in leads)
        lines = archive.read("messages.jsonl").decode().splitlines()
        messages = [json.loads(line) for line in lines]
        assert messages and {m["lead_id"] for m in messages} <= {lead["lead_id"] for lead in leads}

    # A setter reads campaigns but cannot change them, in the page or by posting anyway.
    with session_scope(url) as session:
        spring = session.execute(
            select(EmailCampaign).where(
                EmailCampaign.workspace_id == ws_a, EmailCampaign.external_id == "77"
            )
        ).scalar_one()
        spring_id = spring.id
    sam = sign_in(browser, service, "sam@agency.test")
    sam.goto(f"/campaigns?workspace={ws_a}")
    settings_row = sam.locator(f"tr[data-campaign-id='{spring_id}']")
    expect(settings_row.get_by_label("Mode")).to_be_disabled()
    expect(settings_row.get_by_role("button", name="Save")).to_have_count(0)
    shot(sam, "campaigns-setter")
    refused = sam.request.post(
        f"/campaigns/{spring_id}",
        form={
            "csrf_token": csrf_token(sam),
            "mode": "AI_AUTO_SEND",
            "threshold": "0.9",
            "delay_min": "0",
            "delay_max": "0",
            "sending_hours": "always",
        },
    )
    assert refused.status == 403

    # The admin switches Spring push to AI_AUTO_SEND; the history names them.
    admin.goto(f"/campaigns?workspace={ws_a}")
    settings_row = admin.locator(f"tr[data-campaign-id='{spring_id}']")
    settings_row.get_by_label("Mode").select_option("AI_AUTO_SEND")
    settings_row.get_by_role("button", name="Save").click()
    expect(admin.get_by_role("status")).to_contain_text("Saved Spring push: AI_AUTO_SEND")
    expect(admin.locator(f"tr[data-campaign-id='{spring_id}'] [data-testid=mode]")).to_have_text(
        "AI_AUTO_SEND"
    )
    expect(admin.locator("#history tbody tr").first).to_contain_text("ada@agency.test")
    shot(admin, "campaigns")
    with session_scope(url) as session:
        change = session.execute(
            select(CampaignModeChange, User.email)
            .join(User, User.id == CampaignModeChange.changed_by)
            .where(CampaignModeChange.email_campaign_id == spring_id)
        ).one()
        assert (change[0].to_mode, change[1]) == ("AI_AUTO_SEND", "ada@agency.test")

    # A low-confidence reply: the real worker puts its draft in the review queue.
    stubs.llm["auto_send_evaluation"] = {
        "confidence": 0.62,
        "safe_to_send": True,
        "reason": "asks about a Tuesday slot the offer does not cover",
    }
    with session_scope(url) as session:
        secret = rotate_webhook_secret(session.get_one(Workspace, ws_a))
    payload = eb.lead_replied(9001)
    arrived = datetime.now(UTC) - timedelta(minutes=42)  # so the queue shows a real wait
    payload["data"]["reply"]["date_received"] = arrived.isoformat()
    status, body = service.post_json(
        f"/webhooks/emailbison/{ws_a}", payload, {"X-Replyline-Secret": secret}
    )
    assert status in (200, 202), body
    # And an older reply in a SETTER_MANAGED campaign: its draft waits for a setter as well.
    earlier = eb.event(
        "LEAD_REPLIED",
        lead=eb.lead(502, "omar@northwind.io")
        | {
            "first_name": "Omar",
            "last_name": "Haddad",
            "company": "Northwind Labs",
            "title": "Head of Growth",
        },
        campaign={"id": 88, "name": "Summer webinar follow-up"},
        reply=eb.reply(
            9002,
            from_email_address="omar@northwind.io",
            from_name="Omar Haddad",
            text_body="Yes, send me the recording and a few times for next week.",
            date_received=(arrived - timedelta(hours=2)).isoformat(),
        ),
        sender_email=eb.SENDER,
    )
    status, body = service.post_json(
        f"/webhooks/emailbison/{ws_a}", earlier, {"X-Replyline-Secret": secret}
    )
    assert status in (200, 202), body
    Worker(url, services=Services(url, settings)).run(drain=True)
    assert stubs.platform_sends() == []

    sam.goto(f"/review?workspace={ws_a}")
    queue = sam.locator("article.queue-item")
    expect(queue).to_have_count(2)
    expect(queue.first).to_contain_text("Omar Haddad")  # oldest reply first
    expect(queue.first).to_contain_text("Setter")
    expect(queue.first.locator(".badge.warn", has_text="edited")).to_be_hidden()
    item = sam.locator("article.queue-item", has_text="Dana")
    expect(item).to_contain_text("asks about a Tuesday slot")
    expect(item.locator("[data-testid=confidence]")).to_have_text("0.62")
    expect(item.locator("[data-testid=waited]")).to_have_text("42 min")

    # Both waiting leads went to a setter (maybe a seeded one). Sam hands Omar to one of the two
    # of us who does not hold him; that setter's "Assigned to me" lists exactly their leads,
    # Omar among them, and the previous holder's no longer lists him.
    def owners() -> dict[str, str]:
        with session_scope(url) as session:
            rows = session.execute(
                select(Lead.email, User.email)
                .join(User, User.id == Lead.assigned_user_id)
                .where(Lead.workspace_id == ws_a, Lead.email.in_(WAITING))
            ).all()
        return {str(lead): setter for lead, setter in rows}

    before = owners()
    assert set(before) == set(WAITING)
    old = before["omar@northwind.io"]
    new = "sid@agency.test" if old != "sid@agency.test" else "sam@agency.test"
    omar = sam.locator("article.queue-item", has_text="Omar Haddad")
    expect(omar.get_by_test_id("assignee")).to_have_text(old)
    omar.get_by_label("Reassign to").select_option(label=new)
    omar.get_by_role("button", name="Reassign").click()
    expect(sam.get_by_role("status")).to_contain_text("Reassigned")
    expect(omar.get_by_test_id("assignee")).to_have_text(new)
    after = owners()
    assert after == {**before, "omar@northwind.io": new}
    for email in SETTERS:
        setter = sign_in(browser, service, email)
        setter.goto(f"/review?workspace={ws_a}")
        expect(setter.locator("article.queue-item")).to_have_count(2)
        setter.get_by_test_id("assigned-to-me").click()
        expect(setter.get_by_test_id("assigned-to-me")).to_have_attribute("aria-current", "page")
        listed = setter.locator("article.queue-item")
        expect(listed).to_have_count(sum(who == email for who in after.values()))
        for assigned in listed.all():
            expect(assigned.get_by_test_id("assignee")).to_have_text(email)
        has_omar = setter.locator("article.queue-item", has_text="Omar Haddad")
        expect(has_omar).to_have_count(1 if email == new else 0)
        setter.context.close()

    sid = sign_in(browser, service, "sid@agency.test")
    sid.goto(f"/review?workspace={ws_a}")  # a second setter opens the same draft

    edited = "Hi Dana, Tuesday 10:00 works. Here is the invite link: https://calendly.com/x"
    item.get_by_label("Reply to send").fill(edited)
    expect(item.locator(".badge.warn", has_text="edited")).to_be_visible()
    shot(sam, "review")
    item.get_by_role("button", name="Send").click()
    expect(sam.get_by_role("status")).to_contain_text("Sent with your edits")
    sid.locator("article.queue-item", has_text="Dana").get_by_role("button", name="Send").click()
    expect(sid.get_by_role("status")).to_contain_text("already handled")
    assert len(stubs.platform_sends()) == 1

    # The lead page shows the send as the setter's.
    with session_scope(url) as session:
        lead_id = session.execute(
            select(Lead.id).where(Lead.workspace_id == ws_a, Lead.email == "dana@prospect.io")
        ).scalar_one()
        sent = session.execute(
            select(Message).where(Message.lead_id == lead_id, Message.direction == "outbound")
        ).scalar_one()
        assert (sent.sent_by, sent.body.strip()) == ("setter", edited)
    sam.goto(f"/leads/{lead_id}")
    outbound = sam.locator(f"[data-message-id='{sent.id}']")
    expect(outbound.locator("[data-testid=sent-by]")).to_have_text("setter")
    expect(outbound).to_contain_text("sam@agency.test")
    expect(sam.locator(".log")).to_contain_text("needs_review")
    shot(sam, "lead")

    # Phone width: the lead page and the queue still read top to bottom.
    phone = sign_in(browser, service, "sam@agency.test", viewport={"width": 390, "height": 844})
    phone.goto(f"/leads/{lead_id}")
    shot(phone, "lead-phone")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390

    # Another workspace's lead is 404 (sam is no member of B), and so is its dashboard.
    with session_scope(url) as session:
        other = session.execute(
            select(Lead.id).where(Lead.workspace_id == seeded["b"]).limit(1)
        ).scalar_one()
    response = sam.goto(f"/leads/{other}")
    assert response is not None and response.status == 404
    expect(sam.get_by_role("heading", level=1)).to_have_text("Not found")
    shot(sam, "not-found")
    response = sam.goto(f"/?workspace={seeded['b']}")
    assert response is not None and response.status == 404

    # Posts without the CSRF token are refused, for forms and for the API alike.
    refused = sam.request.post(f"/leads/{lead_id}/pause-ai", form={})
    assert refused.status == 400
    refused = sam.request.post(f"/api/leads/{lead_id}/pause-ai")
    assert refused.status == 400
    sam.goto(f"/leads/{lead_id}")
    allowed = sam.request.post(
        f"/api/leads/{lead_id}/pause-ai", headers={"X-CSRFToken": csrf_token(sam)}
    )
    assert allowed.status == 200 and allowed.json()["ai_paused"] is True


def seeded_name(url: str, workspace_id: uuid.UUID) -> str:
    with session_scope(url) as session:
        return session.get_one(Workspace, workspace_id).name


def publish_screenshots() -> None:
    """`python -m tests.test_pages_browser`: copy the last run's screenshots to docs/."""
    target = project_root() / "docs" / "screenshots"
    target.mkdir(parents=True, exist_ok=True)
    for png in SCREENSHOTS.glob("*.png"):
        shutil.copy(png, target / png.name)


if __name__ == "__main__":
    publish_screenshots()
