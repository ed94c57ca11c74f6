"""`replyline doctor`: is this deployment able to do its job, and if not, what to fix.

Each check is one `Finding` (OK, WARN or FAIL, what was seen, and the fix). Checks that need
something an earlier check found broken (no database, no key) are not run: the earlier
finding already names the fix. Calls to outside services are read-only or post nothing
(the email platform's first page of campaigns, Slack's `auth.test` and DM lookup, one tiny
classification by the LLM).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from sender_service import booking
from sender_service.db.engine import session_scope
from sender_service.db.models import Job, WebhookDelivery, Workspace, WorkspaceSecret
from sender_service.freshness import REFRESH_EVERY, STALE_AFTER
from sender_service.settings import Settings

Status = Literal["OK", "WARN", "FAIL"]
EXIT_CODES: Final[dict[Status, int]] = {"OK": 0, "WARN": 1, "FAIL": 2}
# A queued job this far past its time means no worker is taking jobs.
JOB_LATE_AFTER: Final = timedelta(minutes=10)


@dataclass(frozen=True)
class Finding:
    status: Status
    check: str
    detail: str
    fix: str = ""
    workspace_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def exit_code(findings: list[Finding]) -> int:
    return max((EXIT_CODES[f.status] for f in findings), default=0)


def run(settings: Settings, url: str, workspace_id: uuid.UUID | None = None) -> Iterator[Finding]:
    """Every check in order; per-workspace ones for `workspace_id` only when given."""
    try:
        with session_scope(url) as session:
            version: str = session.execute(text("show server_version")).scalar_one()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        yield Finding(
            "FAIL",
            "database",
            f"cannot connect: {reason}",
            "start PostgreSQL or correct DATABASE_URL (replyline db url shows the one in use)",
        )
        return
    yield Finding("OK", "database", f"PostgreSQL {version} answers")
    migrations = _migrations(url)
    yield migrations
    if migrations.status == "FAIL":
        return
    yield _public_base_url(settings)
    with session_scope(url) as session:
        key = _secret_key(session, settings)
        yield key
        yield _llm(settings)
        yield from _warehouse(settings)
        yield from _jobs(session)
        yield from _held(session, workspace_id)
        query = select(Workspace).order_by(Workspace.created_at)
        if workspace_id:
            query = query.where(Workspace.id == workspace_id)
        workspaces = list(session.execute(query).scalars())
        if workspace_id and not workspaces:
            yield Finding(
                "FAIL", "workspace", f"no workspace {workspace_id}", "replyline workspace list"
            )
        if settings.slack_bot_token is None:
            yield Finding(
                "WARN",
                "slack",
                "SLACK_BOT_TOKEN is not set: no review DMs, no report posts",
                "install the Slack app (README: The Slack app) and set SLACK_BOT_TOKEN",
            )
        for ws in workspaces:
            yield from _workspace(session, settings, ws, can_decrypt=key.status == "OK")


def _migrations(url: str) -> Finding:
    from sender_service.db import migrate

    head, current = migrate.head_revision(), migrate.current_revision(url)
    if current == head:
        return Finding("OK", "migrations", f"at head ({head})")
    if current in migrate.known_revisions() or current is None:
        return Finding(
            "FAIL",
            "migrations",
            f"at {current or 'no schema'}, head is {head}",
            "replyline db upgrade",
        )
    return Finding(
        "FAIL",
        "migrations",
        f"at {current}, which this version does not know (a newer release migrated it?)",
        "run the release that migrated it, or restore the database from its backup",
    )


def _public_base_url(settings: Settings) -> Finding:
    host = urlsplit(settings.public_base_url).hostname or ""
    if host in ("localhost", "127.0.0.1", "::1", ""):
        return Finding(
            "WARN",
            "public_base_url",
            f"links in review DMs and reports point at {settings.public_base_url}",
            "set PUBLIC_BASE_URL to the address setters open (https://replyline.example.com)",
        )
    return Finding("OK", "public_base_url", f"links point at {settings.public_base_url}")


def _secret_key(session: Session, settings: Settings) -> Finding:
    from cryptography.fernet import InvalidToken

    from sender_service.credentials import CredentialError, cipher

    stored = session.execute(
        select(WorkspaceSecret.workspace_id, WorkspaceSecret.name, WorkspaceSecret.ciphertext)
    ).all()
    try:
        fernet = cipher(settings)
    except CredentialError as exc:
        status: Status = "FAIL" if stored or settings.secret_key else "WARN"
        return Finding(status, "secret_key", str(exc).split(";")[0], _KEY_FIX)
    broken = []
    for row in stored:
        try:
            fernet.decrypt(row.ciphertext)
        except InvalidToken:
            broken.append(f"{row.name} of {row.workspace_id}")
    if broken:
        return Finding(
            "FAIL",
            "secret_key",
            f"REPLYLINE_SECRET_KEY cannot decrypt {len(broken)} stored credential(s): "
            + ", ".join(broken[:5]),
            "set the key they were stored with, or store them again: replyline workspace "
            "set-secret --workspace ID --name NAME < file",
        )
    return Finding("OK", "secret_key", f"decrypts all {len(stored)} stored credential(s)")


_KEY_FIX: Final = (
    'set REPLYLINE_SECRET_KEY to a Fernet key: python -c "from cryptography.fernet import '
    'Fernet; print(Fernet.generate_key().decode())"'
)


def _llm(settings: Settings) -> Finding:
    from sender_service.ai.context import ReplyContext
    from sender_service.ai.llm import LLMError, make_llm

    if settings.llm_provider == "offline":
        return Finding(
            "WARN",
            "llm",
            "LLM_PROVIDER=offline: the demo's rule-based stand-in classifies and drafts",
            "outside the demo set LLM_PROVIDER=openai and OPENAI_API_KEY",
        )
    try:
        llm = make_llm(settings)
        started = time.monotonic()
        answer = llm.classify(ReplyContext(reply_text="Sounds good, send me a few times."))
    except LLMError as exc:
        return Finding(
            "FAIL",
            "llm",
            str(exc),
            "check OPENAI_API_KEY, OPENAI_BASE_URL and LLM_MODEL (the model must support "
            "structured outputs)",
        )
    seconds = time.monotonic() - started
    return Finding(
        "OK",
        "llm",
        f"{settings.llm_model} classified a test reply as {answer.sentiment} in {seconds:.1f} s",
    )


def _warehouse(settings: Settings) -> Iterator[Finding]:
    path = settings.warehouse_path
    fix = (
        "check dagster-daemon is running and the warehouse job's last run in the Dagster UI; "
        "replyline warehouse refresh runs one now"
    )
    if not path.is_file():
        yield Finding("WARN", "warehouse", f"no published warehouse at {path} yet", fix)
        return
    built = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    age = datetime.now(UTC) - built
    minutes = int(age.total_seconds() // 60)
    schedule = f"refreshed every {int(REFRESH_EVERY.total_seconds() // 60)} min"
    if age > STALE_AFTER:
        yield Finding("FAIL", "warehouse", f"built {minutes} min ago ({schedule})", fix)
    else:
        yield Finding("OK", "warehouse", f"built {minutes} min ago ({schedule})")


def _jobs(session: Session) -> Iterator[Finding]:
    dead = session.execute(
        select(Job.kind, func.count()).where(Job.status == "dead").group_by(Job.kind)
    ).all()
    if dead:
        listed = ", ".join(f"{n} {kind}" for kind, n in dead)
        yield Finding(
            "FAIL",
            "jobs_dead",
            f"dead jobs (out of attempts): {listed}",
            "replyline jobs list --dead shows their errors; fix the cause, then "
            "replyline jobs retry JOB_ID",
        )
    else:
        yield Finding("OK", "jobs_dead", "no dead jobs")
    late = session.execute(
        select(func.count(), func.min(Job.run_at)).where(
            Job.status == "queued", Job.run_at < func.now() - JOB_LATE_AFTER
        )
    ).one()
    if late[0]:
        age = int((datetime.now(UTC) - late[1]).total_seconds() // 60)
        yield Finding(
            "FAIL",
            "jobs_late",
            f"{late[0]} queued job(s) more than 10 min past due (oldest {age} min)",
            "start a worker (replyline worker, or the replyline-worker unit); GET /healthz "
            "says whether one polls",
        )
    else:
        yield Finding("OK", "jobs_late", "no queued job more than 10 min past due")


def _held(session: Session, workspace_id: uuid.UUID | None) -> Iterator[Finding]:
    query = select(func.count(), func.min(WebhookDelivery.received_at)).where(
        WebhookDelivery.outcome == "held"
    )
    if workspace_id:
        query = query.where(WebhookDelivery.workspace_id == workspace_id)
    count, oldest = session.execute(query).one()
    if count:
        yield Finding(
            "WARN",
            "webhooks_held",
            f"{count} held webhook deliveries (oldest {oldest:%Y-%m-%d %H:%M} UTC)",
            "replyline webhooks held shows why; replay them once a reader can use them "
            "(replyline webhooks replay --held) or discard them",
        )
    else:
        yield Finding("OK", "webhooks_held", "no held webhook deliveries")


def _workspace(
    session: Session, settings: Settings, ws: Workspace, *, can_decrypt: bool
) -> Iterator[Finding]:
    wid = str(ws.id)
    names = set(
        session.execute(
            select(WorkspaceSecret.name).where(WorkspaceSecret.workspace_id == ws.id)
        ).scalars()
    )

    def finding(status: Status, check: str, detail: str, fix: str = "") -> Finding:
        return Finding(status, check, f"{ws.name}: {detail}", fix, wid)

    def set_secret(name: str) -> str:
        return f"replyline workspace set-secret --workspace {wid} --name {name} < file"

    # The email platform: where it is, the key, and one read-only call.
    if not ws.email_platform_url:
        yield finding(
            "FAIL",
            "email_platform",
            f"no {ws.email_platform} URL",
            f"replyline workspace update --workspace {wid} --email-platform-url URL",
        )
    elif "email_platform_api_key" not in names:
        yield finding(
            "FAIL",
            "email_platform",
            f"no {ws.email_platform} API key",
            set_secret("email_platform_api_key"),
        )
    elif can_decrypt:
        yield _platform_answers(session, settings, ws, finding)
    else:
        yield finding(
            "WARN",
            "email_platform",
            "not called: its API key cannot be decrypted (see secret_key)",
        )

    # Slack: the same calls `replyline slack check` makes.
    if settings.slack_bot_token:
        from sender_service.notify import slack
        from sender_service.notify.slack_check import check

        result = check(slack.make_client(settings), ws.review_slack_email, ws.report_slack_channel)
        if result.ok:
            yield finding("OK", "slack", f"token, scopes and DM with {ws.review_slack_email}")
        else:
            failed = "; ".join(f"{s.name}: {s.detail}" for s in result.steps if s.status == "fail")
            yield finding(
                "FAIL",
                "slack",
                failed,
                f"replyline slack check --workspace {wid} explains each step",
            )

    # Booking provider credentials: what the provider needs is booking.py's to know.
    label = booking.provider_label(ws)
    gaps = booking.credential_gaps(ws, names)
    if gaps:
        fixes = [
            f"replyline workspace update --workspace {wid} {gap.option}"
            if gap.option
            else set_secret(gap.secret or "")
            for gap in gaps
        ]
        yield finding(
            "FAIL",
            "booking",
            f"{label} {' and '.join(gap.what for gap in gaps)} missing: bookings cannot be "
            "matched or verified",
            "; ".join(fixes),
        )
    else:
        yield finding("OK", "booking", f"{label} credentials stored")


def _platform_answers(
    session: Session, settings: Settings, ws: Workspace, finding: Callable[..., Finding]
) -> Finding:
    from sender_service.credentials import cipher, read_secret
    from sender_service.email_platforms import EmailPlatformError, client_for

    assert ws.email_platform_url is not None
    key = read_secret(session, cipher(settings), ws.id, "email_platform_api_key")
    assert key is not None
    client = client_for(ws.email_platform, ws.email_platform_url, key)
    try:
        detail = client.check()
    except EmailPlatformError as exc:
        return finding(
            "FAIL",
            "email_platform",
            str(exc),
            "check the workspace's platform URL and API key (replyline workspace update / "
            "set-secret)",
        )
    finally:
        close = getattr(client, "close", None)
        if close is not None:
            close()
    return finding("OK", "email_platform", detail)
