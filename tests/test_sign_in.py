"""Sign-in, sessions and CSRF through Flask's test client: passwords from the CLI, the failed
sign-in limit, cookie flags, and `/api/*` taking the signed-in session (with its CSRF token)
beside Bearer tokens."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from cryptography.fernet import Fernet
from flask.testing import FlaskClient
from sqlalchemy import select

from sender_service.api_tokens import issue_token
from sender_service.app import create_app
from sender_service.cli import cli
from sender_service.db.engine import session_scope
from sender_service.db.models import Lead, User
from sender_service.passwords import SignInLimiter
from sender_service.settings import load_settings
from sender_service.users import add_member
from tests import factories

PASSWORD = "a long enough passphrase"


def _client(db_url: str, base_url: str = "https://app.replyline.test") -> FlaskClient:
    settings = load_settings(
        {"REPLYLINE_SECRET_KEY": Fernet.generate_key().decode(), "PUBLIC_BASE_URL": base_url}
    )
    return create_app({"DATABASE_URL": db_url, "SETTINGS": settings}).test_client()


def _token(client: FlaskClient, path: str = "/sign-in") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def _sign_in(client: FlaskClient, email: str, password: str = PASSWORD, **extra: Any) -> Any:
    form = {"email": email, "password": password, "csrf_token": _token(client)}
    return client.post("/sign-in", data=form, **extra)


@pytest.fixture
def people(db_url: str, cli_runner: Any) -> dict[str, Any]:
    """Workspaces A and B, a setter of A with a password, and a lead in each."""
    with session_scope(db_url) as session:
        a = factories.workspace(session, name="A")
        b = factories.workspace(session, name="B")
        lead_a = factories.lead(session, a, factories.campaign(session, a)).id
        lead_b = factories.lead(session, b, factories.campaign(session, b)).id
        email = f"setter-{uuid.uuid4().hex[:6]}@agency.test"
        add_member(session, email, a.id, "setter")
    result = cli_runner.invoke(
        cli,
        ["user", "set-password", "--email", email],
        input=PASSWORD + "\n",
        env={"DATABASE_URL": db_url},
    )
    assert result.exit_code == 0, result.output
    return {"email": email, "lead_a": lead_a, "lead_b": lead_b}


def test_set_password_stores_an_argon2_hash_and_refuses_bad_input(
    db_url: str, cli_runner: Any, people: dict[str, Any]
) -> None:
    with session_scope(db_url) as session:
        stored = session.execute(
            select(User.password_hash).where(User.email == people["email"])
        ).scalar_one()
    assert stored and stored.startswith("$argon2id$") and PASSWORD not in stored
    env = {"DATABASE_URL": db_url}
    short = cli_runner.invoke(
        cli, ["user", "set-password", "--email", people["email"]], input="short\n", env=env
    )
    assert short.exit_code == 2 and "at least 12 characters" in short.output
    unknown = cli_runner.invoke(
        cli, ["user", "set-password", "--email", "nobody@agency.test"], input=PASSWORD, env=env
    )
    assert unknown.exit_code == 2 and "no user nobody@agency.test" in unknown.output


def test_sign_in_sets_hardened_cookies_and_sign_out_ends_the_session(
    db_url: str, people: dict[str, Any]
) -> None:
    client = _client(db_url)
    response = _sign_in(client, people["email"])
    assert response.status_code == 302 and response.headers["Location"] == "/"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "replyline_session" in c)
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= {p.strip() for p in cookie.split(";")}
    page = client.get("/review")
    assert page.status_code == 200 and "Content-Security-Policy" in page.headers
    client.post("/sign-out", data={"csrf_token": _token(client, "/review")})
    assert client.get("/review").status_code == 302


def test_cookies_are_not_secure_on_plain_http(db_url: str, people: dict[str, Any]) -> None:
    response = _sign_in(_client(db_url, "http://localhost:8000"), people["email"])
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if "replyline_session" in c)
    assert "Secure" not in cookie


def test_sign_in_never_redirects_off_site(db_url: str, people: dict[str, Any]) -> None:
    client = _client(db_url)
    form = {"email": people["email"], "password": PASSWORD, "csrf_token": _token(client)}
    for target in ("https://evil.test/x", "//evil.test/x"):
        response = client.post(f"/sign-in?next={target}", data=form)
        assert response.headers["Location"] == "/"


def test_failed_sign_ins_are_limited_per_email_and_address(
    db_url: str, people: dict[str, Any]
) -> None:
    client = _client(db_url)
    here = {"REMOTE_ADDR": "203.0.113.7"}
    for _ in range(5):
        failed = _sign_in(client, people["email"], "wrong password!", environ_base=here)
        assert failed.status_code == 401
    locked = _sign_in(client, people["email"], environ_base=here)
    assert locked.status_code == 429 and "Too many failed attempts" in locked.get_data(True)
    elsewhere = _sign_in(client, people["email"], environ_base={"REMOTE_ADDR": "198.51.100.9"})
    assert elsewhere.status_code == 302


def test_a_new_password_signs_other_browsers_out(
    db_url: str, cli_runner: Any, people: dict[str, Any]
) -> None:
    client = _client(db_url)
    _sign_in(client, people["email"])
    assert client.get("/review").status_code == 200
    result = cli_runner.invoke(
        cli,
        ["user", "set-password", "--email", people["email"]],
        input="another long passphrase\n",
        env={"DATABASE_URL": db_url},
    )
    assert result.exit_code == 0
    assert client.get("/review").status_code == 302


def test_api_takes_the_session_with_its_csrf_token(db_url: str, people: dict[str, Any]) -> None:
    client = _client(db_url)
    lead_a, lead_b = people["lead_a"], people["lead_b"]
    assert client.post(f"/api/leads/{lead_a}/pause-ai").status_code == 401
    _sign_in(client, people["email"])
    refused = client.post(f"/api/leads/{lead_a}/pause-ai")
    assert refused.status_code == 400 and "CSRF" in refused.get_json()["error"]
    forged = client.post(f"/api/leads/{lead_a}/pause-ai", headers={"X-CSRFToken": "forged"})
    assert forged.status_code == 400
    token = {"X-CSRFToken": _token(client, "/review")}
    assert client.post(f"/api/leads/{lead_a}/pause-ai", headers=token).status_code == 200
    assert client.post(f"/api/leads/{lead_b}/pause-ai", headers=token).status_code == 404
    with session_scope(db_url) as session:
        assert session.get_one(Lead, lead_a).ai_paused is True
    # A page form without its token is refused too, and changes nothing.
    assert client.post(f"/leads/{lead_a}/resume-ai").status_code == 400
    with session_scope(db_url) as session:
        assert session.get_one(Lead, lead_a).ai_paused is True


def test_bearer_tokens_work_as_before_even_beside_a_session(
    db_url: str, people: dict[str, Any]
) -> None:
    client = _client(db_url)
    with session_scope(db_url) as session:
        user = session.execute(select(User).where(User.email == people["email"])).scalar_one()
        _, secret = issue_token(session, user)
    bearer = {"Authorization": f"Bearer {secret}"}
    # No CSRF token needed: a browser never attaches this header by itself.
    assert client.post(f"/api/leads/{people['lead_a']}/pause-ai", headers=bearer).status_code == 200
    _sign_in(client, people["email"])
    wrong = {"Authorization": "Bearer rl_nope_nope"}
    assert client.post(f"/api/leads/{people['lead_a']}/pause-ai", headers=wrong).status_code == 401


def test_pages_of_another_workspace_are_404(db_url: str, people: dict[str, Any]) -> None:
    client = _client(db_url)
    _sign_in(client, people["email"])
    assert client.get(f"/leads/{people['lead_b']}").status_code == 404
    assert client.get(f"/leads/{people['lead_a']}").status_code == 200
    assert client.get("/leads/not-a-uuid").status_code == 404


def test_the_limiter_forgets_failures_outside_its_window(monkeypatch: Any) -> None:
    clock = [1000.0]
    monkeypatch.setattr("sender_service.passwords.time.monotonic", lambda: clock[0])
    limiter = SignInLimiter(limit=2, window=60)
    limiter.failed("A@x.test", "1.2.3.4")
    limiter.failed("a@x.test ", "1.2.3.4")
    assert limiter.retry_after("a@x.test", "1.2.3.4") == 60
    assert limiter.retry_after("a@x.test", "5.6.7.8") == 0
    clock[0] += 61
    assert limiter.retry_after("a@x.test", "1.2.3.4") == 0
    assert limiter._failures == {}
