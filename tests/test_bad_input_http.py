"""Bad input over real HTTP gets a 4xx naming the problem, never a 500: a NUL in the sign-in
email, a campaign delay Postgres cannot hold or typed as a superscript digit, and a wrong
method (405 keeps its `Allow` header). No outside service is involved, so no stubs."""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from sender_service.api_tokens import issue_token
from sender_service.db.engine import session_scope
from sender_service.db.models import EmailCampaign
from sender_service.passwords import set_password
from sender_service.users import add_member
from tests import factories
from tests.service import Service
from tests.test_sign_in import PASSWORD

TOO_BIG = 2**31  # one above Postgres `integer`


@pytest.fixture
def world(db_url: str) -> dict[str, Any]:
    with session_scope(db_url) as session:
        ws = factories.workspace(session, name="Acme")
        user, _, _ = add_member(session, "admin@agency.test", ws.id, "admin")
        set_password(session, user, PASSWORD)
        _, token = issue_token(session, user)
        campaign = factories.campaign(session, ws, "AI_AUTO_SEND")
        return {"workspace": ws.id, "campaign": campaign.id, "token": token}


def _raw(
    service: Service, method: str, path: str, body: bytes | None = None, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(service.host, service.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


class Browser:
    """A cookie-keeping client that follows redirects, as a browser posting a form does."""

    def __init__(self, service: Service) -> None:
        self.base = service.base_url
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}),  # loopback, whatever the environment says
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
        )

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, form: dict[str, str]) -> tuple[int, str]:
        data = urllib.parse.urlencode(form).encode()
        return self._open(urllib.request.Request(self.base + path, data=data, method="POST"))

    def token(self, path: str) -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', self.get(path)[1])
        assert found
        return found.group(1)

    def _open(self, request: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


def test_a_nul_in_the_sign_in_email_is_400_naming_the_field(
    service: Service, world: dict[str, Any]
) -> None:
    browser = Browser(service)
    form = {"email": "admin@agency.test\x00", "password": PASSWORD}
    status, page = browser.post("/sign-in", {**form, "csrf_token": browser.token("/sign-in")})
    assert status == 400
    assert "Email: an address cannot contain a NUL character." in page
    # Not signed in: the dashboard still sends to the sign-in page.
    assert "<h1>Sign in</h1>" in browser.get("/")[1]
    # The same address without the NUL signs in.
    form["email"] = "admin@agency.test"
    status, page = browser.post("/sign-in", {**form, "csrf_token": browser.token("/sign-in")})
    assert status == 200 and "<h1>Sign in</h1>" not in page


@pytest.mark.parametrize(
    "payload",
    [
        {"send_delay_max_seconds": TOO_BIG},
        {"send_delay_min_seconds": TOO_BIG, "send_delay_max_seconds": TOO_BIG},
    ],
)
def test_a_delay_postgres_cannot_hold_is_400_naming_the_field(
    db_url: str, service: Service, world: dict[str, Any], payload: dict[str, int]
) -> None:
    status, body = service.request(
        "PATCH",
        f"/api/campaigns/{world['campaign']}",
        json.dumps(payload).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {world['token']}"},
    )
    assert status == 400
    assert body["field"] in payload and "2147483647" in body["error"], body
    with session_scope(db_url) as session:
        row = session.get_one(EmailCampaign, world["campaign"])
        assert (row.send_delay_min_seconds, row.send_delay_max_seconds) == (0, 0)
    # The largest value that fits is taken.
    fits = {"send_delay_max_seconds": TOO_BIG - 1}
    status, body = service.request(
        "PATCH",
        f"/api/campaigns/{world['campaign']}",
        json.dumps(fits).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {world['token']}"},
    )
    assert (status, body["send_delay_max_seconds"]) == (200, TOO_BIG - 1)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("delay_min", "²", "the minimum delay must be a whole number of seconds"),
        ("delay_max", "1²", "the maximum delay must be a whole number of seconds"),
        ("delay_max", str(TOO_BIG), "the maximum delay must be at most 2147483647 seconds"),
    ],
)
def test_a_delay_typed_on_the_campaigns_page_is_refused_naming_the_field(
    db_url: str, service: Service, world: dict[str, Any], field: str, value: str, message: str
) -> None:
    browser = Browser(service)
    sign_in = {"email": "admin@agency.test", "password": PASSWORD}
    browser.post("/sign-in", {**sign_in, "csrf_token": browser.token("/sign-in")})
    form = {
        "mode": "AI_AUTO_SEND",
        "threshold": "0.8",
        "delay_min": "0",
        "delay_max": "60",
        "sending_hours": "always",
        field: value,
        "csrf_token": browser.token("/campaigns"),
    }
    status, page = browser.post(f"/campaigns/{world['campaign']}", form)
    # The page's way with every bad field: back to the form with the error shown.
    assert status == 200 and message in page
    with session_scope(db_url) as session:
        row = session.get_one(EmailCampaign, world["campaign"])
        assert (row.send_delay_min_seconds, row.send_delay_max_seconds) == (0, 0)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/webhooks/emailbison/x", {"POST"}),
        ("DELETE", "/api/campaigns/x", {"PATCH"}),
        ("PUT", "/sign-in", {"GET", "POST"}),
    ],
)
def test_405_keeps_the_allow_header(
    service: Service, method: str, path: str, allowed: set[str]
) -> None:
    status, headers, body = _raw(service, method, path)
    assert status == 405
    assert allowed <= {m.strip() for m in headers["Allow"].split(",")}
    assert method not in headers["Allow"]
    assert "error" in json.loads(body)
