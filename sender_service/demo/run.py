"""The demo, start to finish: seed, start the service and a worker, replay a recorded day of
webhooks over HTTP, and say what was sent, what went to review and why; then stop it all.

It works in its own database (`replyline_demo`) on the configured server, so it never touches
real data, and records the outside services on loopback (see `recorder`).
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from cryptography.fernet import Fernet
from psycopg import sql
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sender_service.analytics import campaign_analytics
from sender_service.credentials import store_secret
from sender_service.db import embedded, migrate
from sender_service.db.engine import session_scope
from sender_service.db.models import (
    AIDraft,
    AutoSendDecision,
    EmailCampaign,
    Job,
    Lead,
    Message,
    Workspace,
)
from sender_service.db.urls import libpq_url, with_database
from sender_service.demo import health
from sender_service.demo.recorder import Recorder
from sender_service.demo.replay import Campaigns, deliveries
from sender_service.local_http import free_port, wait_until_healthy
from sender_service.reports.scheduled import write_chatgpt_zip
from sender_service.reports.weekly import last_complete_week, write_weekly_report
from sender_service.seed.load import SeedRequest
from sender_service.seed.load import seed as load_seed
from sender_service.settings import Settings
from sender_service.workspaces import rotate_webhook_secret

Echo = Callable[[str], None]


@dataclass(frozen=True)
class Stage:
    url: str
    workspace_id: Any
    secret: str
    campaigns: Campaigns
    secret_key: str
    platform: str = "emailbison"


def fresh_database(settings: Settings, name: str) -> str:
    server = (
        libpq_url(settings.database_url)
        if settings.database_url
        else embedded.server_url(settings.embedded_pgdata)
    )
    with psycopg.connect(server, autocommit=True) as admin:
        ident = sql.Identifier(name)
        admin.execute(sql.SQL("drop database if exists {} with (force)").format(ident))
        admin.execute(sql.SQL("create database {}").format(ident))
    url = with_database(server, name)
    migrate.upgrade(url)
    return url


# Where the recorder answers as each platform's API.
RECORDED_PATHS = {"emailbison": "/eb", "smartlead": "/sl", "instantly": "/inst"}
PLATFORM_NAMES = {"emailbison": "EmailBison", "smartlead": "Smartlead", "instantly": "Instantly"}


def stage(
    url: str, recorder: Recorder, leads: int, random_seed: int, platform: str = "emailbison"
) -> tuple[Stage, dict[str, int]]:
    """Seed twelve weeks of history, then ready the Calendly workspace for the live day."""
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    counts = load_seed(url, SeedRequest(2, leads, random_seed, end, reset=False))
    key = Fernet.generate_key().decode()
    with session_scope(url) as session:
        workspace = session.execute(
            select(Workspace).where(Workspace.calendly_scheduling_url.is_not(None)).limit(1)
        ).scalar_one()
        secret = rotate_webhook_secret(workspace)
        workspace.email_platform = platform
        workspace.email_platform_url = f"{recorder.url}{RECORDED_PATHS[platform]}"
        workspace.auto_send_enabled = True
        workspace.ai_context = {
            "offer": "we fill B2B sales calendars with qualified meetings, paid per meeting held",
            "signature": "Alex\nAcme Outbound",
            "tone": "warm, brief, no jargon",
            "never_say": ["guarantee", "risk-free"],
        }
        fernet = Fernet(key.encode())
        store_secret(session, fernet, workspace.id, "email_platform_api_key", "demo")
        store_secret(session, fernet, workspace.id, "calendly_signing_key", secrets.token_hex(16))
        chosen = {}
        for mode in ("AI_AUTO_SEND", "SETTER_MANAGED"):
            campaign = session.execute(
                select(EmailCampaign)
                .where(
                    EmailCampaign.workspace_id == workspace.id,
                    EmailCampaign.response_mode == mode,
                    EmailCampaign.archived.is_(False),
                )
                .order_by(EmailCampaign.external_id)
                .limit(1)
            ).scalar_one()
            campaign.send_delay_min_seconds = campaign.send_delay_max_seconds = 0
            campaign.sending_hours = "always"
            chosen[mode] = (campaign.external_id, campaign.name)
        staged = Stage(
            url,
            workspace.id,
            secret,
            Campaigns(auto=chosen["AI_AUTO_SEND"], setter=chosen["SETTER_MANAGED"]),
            key,
            platform,
        )
    return staged, counts


def demo_env(staged: Stage, recorder: Recorder, port: int) -> dict[str, str]:
    """The configuration the demo's service and worker run with (and doctor checks)."""
    return {
        **os.environ,
        "DATABASE_URL": staged.url,
        "LLM_PROVIDER": "offline",
        "SLACK_BOT_TOKEN": "xoxb-demo",
        "SLACK_API_URL": f"{recorder.url}/slack/api/",
        "REPLYLINE_SECRET_KEY": staged.secret_key,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }


@contextmanager
def processes(staged: Stage, recorder: Recorder, log_dir: Path) -> Iterator[int]:
    """The service and a worker as separate processes, as in production; stopped on exit."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    env = {**demo_env(staged, recorder, port), **health.metrics_env(log_dir)}
    started = []
    try:
        for name, args in (
            ("service", ["serve", "--port", str(port)]),
            ("worker", ["worker", "--poll-interval", "0.5"]),
        ):
            log = open(log_dir / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
            proc = subprocess.Popen(
                [sys.executable, "-m", "sender_service", *args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            started.append((proc, log))
        try:
            wait_until_healthy(port)
        except TimeoutError:
            raise RuntimeError("the demo service did not start; see var/demo/service.log") from None
        yield port
    finally:
        for proc, _ in started:
            proc.terminate()
        for proc, log in started:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def replay(staged: Stage, port: int, echo: Echo) -> list[uuid.UUID]:
    """POST each recorded event; the ids of the messages the service accepted."""
    accepted: list[uuid.UUID] = []
    now = datetime.now(UTC)
    for delivery in deliveries(staged.campaigns, now, staged.platform):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request(
            "POST",
            f"/webhooks/{staged.platform}/{staged.workspace_id}",
            json.dumps(delivery.body),
            {"Content-Type": "application/json", "X-Replyline-Secret": staged.secret},
        )
        response = conn.getresponse()
        answer = json.loads(response.read() or b"{}")
        if answer.get("message_id"):
            accepted.append(uuid.UUID(answer["message_id"]))
        echo(
            f"  -{delivery.minutes_ago:>3} min  {delivery.event_type:<25} {delivery.who:<32} "
            f"{response.status} {answer.get('status', '')}"
        )
        conn.close()
    return accepted


def wait_idle(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(url) as session:
            busy = session.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.status.in_(("queued", "running")), Job.run_at <= func.now())
            )
        if not busy:
            return
        time.sleep(0.3)
    raise RuntimeError("the worker did not finish the day's jobs in time; see var/demo/worker.log")


def summary(staged: Stage, accepted: list[uuid.UUID], recorder: Recorder, echo: Echo) -> None:
    with session_scope(staged.url) as session:
        replies = session.execute(
            select(Message, Lead)
            .outerjoin(Lead, Lead.id == Message.lead_id)
            .where(Message.id.in_(accepted), Message.direction == "inbound")
            .order_by(Message.occurred_at)
        ).all()
        echo("\nWhat happened to each reply:")
        for message, lead in replies:
            echo(
                f"  {(lead.email if lead else message.from_address) or '?':<32} "
                f"{message.sentiment or '?':<22} {_outcome(session, message, lead)}"
            )
        sent = session.execute(
            select(Message, Lead)
            .join(Lead, Lead.id == Message.lead_id)
            .join(AIDraft, AIDraft.id == Message.ai_draft_id)
            .where(AIDraft.inbound_message_id.in_(accepted), Message.sent_by == "ai")
        ).all()
    echo(f"\nSent by the AI in the lead's thread ({len(sent)}):")
    for message, lead in sent:
        lines = [line for line in message.body.splitlines() if line.strip()]
        echo(f"  to {lead.email}: {' / '.join(lines)}")
    dms = recorder.of("slack", "chat.postMessage")
    echo(f"\nSlack review DMs to the reviewer ({len(dms)}):")
    for dm in dms:
        echo(f"  {str(dm.body.get('text', ''))[:160]}")
    calls = recorder.of(staged.platform)
    in_thread = [c for c in calls if c.method.startswith("reply:")]
    echo(
        f"\n{PLATFORM_NAMES[staged.platform]} calls recorded: "
        f"{len(in_thread)} replies sent in thread, "
        f"{len(calls) - len(in_thread)} campaigns told to stop emailing a lead who replied"
    )


def _outcome(session: Session, message: Message, lead: Lead | None) -> str:
    decision = session.execute(
        select(AutoSendDecision)
        .where(AutoSendDecision.inbound_message_id == message.id)
        .order_by(AutoSendDecision.decided_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    if decision is not None:
        return f"{decision.action}: {decision.reason}"
    if lead is None:
        return "untracked reply: stored and classified, never auto-answered"
    # A reply can hold several drafts (revisions, regenerations): any one means a draft waits.
    has_draft = session.execute(
        select(AIDraft.id).where(AIDraft.inbound_message_id == message.id).limit(1)
    ).first()
    if has_draft is not None:
        return "setter-managed: a draft waits for a setter (no send, no DM)"
    if message.is_automated_reply:
        return "automated reply: never answered"
    return "not a positive reply: no draft"


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set variables for the in-process warehouse job (it reads them at run time); restore."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _compact_json(document: dict[str, Any]) -> str:
    """Valid JSON with one mart row a line: a page of rows rather than thousands of lines."""
    parts = []
    for key, value in document.items():
        if isinstance(value, list):
            rows = ",\n".join(f"  {json.dumps(row)}" for row in value)
            parts.append(
                f" {json.dumps(key)}: [\n{rows}\n ]" if value else f" {json.dumps(key)}: []"
            )
        else:
            parts.append(f" {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(parts) + "\n}"


def analytics(settings: Settings, staged: Stage, echo: Echo) -> None:
    """Refresh the demo's own warehouse, write the weekly report and the ChatGPT zip, and print
    what `GET /api/analytics/campaigns` answers (the same function the endpoint calls).

    Everything lives under var/demo/, so the real warehouse and exports are never touched.
    """
    # Imported here: Dagster takes a second to import and only this step needs it.
    from dagster_project.refresh import run_refresh

    demo_dir = settings.var_dir / "demo"
    demo = replace(
        settings,
        database_url=staged.url,
        warehouse_path=demo_dir / "warehouse.duckdb",
        exports_dir=demo_dir / "exports",
    )
    started = time.monotonic()
    with _environment(
        DATABASE_URL=staged.url,
        WAREHOUSE_PATH=str(demo.warehouse_path),
        DAGSTER_HOME=str(demo_dir / "dagster"),
    ):
        outcome = run_refresh(demo, full=True, echo=lambda _line: None, trigger="demo")
    if not outcome.success:
        raise RuntimeError("the demo's warehouse refresh failed; run it alone to see why")
    echo(f"\nWarehouse refreshed in {time.monotonic() - started:.1f}s: {demo.warehouse_path}")
    with session_scope(staged.url) as session:
        workspace = session.get_one(Workspace, staged.workspace_id)
        name, timezone = workspace.name, workspace.timezone
    week = last_complete_week(timezone, datetime.now(UTC))
    report = write_weekly_report(demo, staged.workspace_id, week, workspace_name=name)
    dataset = write_chatgpt_zip(staged.url, demo, staged.workspace_id)
    echo(
        f"GET /api/analytics/campaigns?workspace_id={staged.workspace_id}&week={week} "
        "(a viewer's answer):"
    )
    echo(_compact_json(campaign_analytics(demo.warehouse_path, staged.workspace_id, week)))
    echo(f"Weekly report (week of {week}): {report / 'report.html'}")
    echo(f"ChatGPT dataset: {dataset}")


def run(
    settings: Settings,
    echo: Echo,
    *,
    leads: int,
    random_seed: int,
    database: str,
    platform: str = "emailbison",
) -> None:
    started = time.monotonic()
    pg_was_running = bool(settings.database_url) or embedded.is_running(settings.embedded_pgdata)
    url = fresh_database(settings, database)
    echo(f"[1/5] database {database} created and migrated (the demo never touches real data)")
    recorder = Recorder().start()
    try:
        staged, counts = stage(url, recorder, leads, random_seed, platform)
        name = PLATFORM_NAMES[platform]
        auto, setter = staged.campaigns.auto[1], staged.campaigns.setter[1]
        echo(
            f"[2/5] seeded twelve weeks of history: {counts.get('leads', 0):,} leads, "
            f"{counts.get('messages', 0):,} messages; live campaigns: "
            f"{auto} (AI_AUTO_SEND), {setter} (SETTER_MANAGED)"
        )
        log_dir = settings.var_dir / "demo"
        with processes(staged, recorder, log_dir) as port:
            echo(
                f"[3/5] service on http://127.0.0.1:{port} and a worker running "
                f"(LLM_PROVIDER=offline; {name} and Slack recorded on {recorder.url}); "
                f"logs in {log_dir}"
            )
            echo(f"[4/5] replaying a recorded day of {name} webhooks over HTTP:")
            accepted = replay(staged, port, echo)
            wait_idle(url)
            health.print_metrics(port, echo)
        echo("[5/5] the worker finished; service and worker stopped")
        summary(staged, accepted, recorder, echo)
        analytics(settings, staged, echo)
        env = {
            **demo_env(staged, recorder, port),
            "WAREHOUSE_PATH": str(log_dir / "warehouse.duckdb"),
        }
        health.print_doctor(env, url, staged.workspace_id, echo)
    finally:
        recorder.stop()
        if not pg_was_running:
            embedded.stop(settings.embedded_pgdata)
            echo("stopped the embedded PostgreSQL the demo started")
    echo(f"\ndemo finished in {time.monotonic() - started:.1f}s")
