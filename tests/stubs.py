"""Loopback stand-ins for the outside services, served by one pytest-httpserver.

The LLM (`/v1/chat/completions`, answering by the request's `json_schema.name`), Slack
(`/slack/api/<method>`), EmailBison (`/eb/api/...`: replying in a thread, listing a lead's
sent replies — every reply it accepted — and stopping a campaign's emails to a lead),
GoHighLevel (`/ghl/...`: contacts, their appointments, SMS) and Calendly (`/calendly/...`:
scheduled events and invitees). The product reaches them through its real clients; tests set
the answers and read what was asked. `eb_fault` / `slack_fault` (a callable returning a
response, or None to answer normally) and `llm_fault` inject outages.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from sender_service.settings import Settings, load_settings

LLMAnswer = dict[str, Any] | Callable[[dict[str, Any]], Response]


def completion(content: str | None, refusal: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 1,
        "model": "stub",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content, "refusal": refusal},
            }
        ],
    }


# The scope each Slack Web API method the product calls needs (Slack's method reference).
SLACK_METHOD_SCOPES: dict[str, str] = {
    "users.lookupByEmail": "users:read.email",
    "conversations.open": "im:write",
    "conversations.history": "im:history",
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "users.info": "users:read",
}


def _slack_args(req: Request) -> dict[str, Any]:
    """A Web API call's arguments, sent as JSON or as a form."""
    return dict(req.get_json()) if req.is_json else {**req.args, **req.form}


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


@dataclass
class Stubs:
    server: HTTPServer
    secret_key: str = field(default_factory=lambda: Fernet.generate_key().decode())
    llm: dict[str, LLMAnswer] = field(
        default_factory=lambda: {
            "sentiment_classification": {"sentiment": "Interested", "confidence": 0.95},
            "reply_draft": {"body": "Hi {firstName}, great to hear. Grab a time: {calendarLink}"},
            "auto_send_evaluation": {"confidence": 0.96, "safe_to_send": True, "reason": "fine"},
        }
    )
    next_reply_id: int = 70_000
    next_sms_id: int = 0
    # GHL: contacts by email or phone; appointments (GHL's event dicts) by contact id.
    ghl_contacts: dict[str, str] = field(default_factory=dict)
    ghl_appointments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Calendly: (scheduled event dict, [invitee dicts]) pairs, searched by invitee email.
    calendly_events: list[tuple[dict[str, Any], list[dict[str, Any]]]] = field(default_factory=list)
    llm_latency: float = 0.0  # seconds each LLM answer takes, for latency benchmarks
    eb_latency: float = 0.0  # seconds the platform takes to accept a reply
    eb_fault: Callable[[Request], Response | None] | None = None
    slack_fault: Callable[[Request], Response | None] | None = None
    # The scopes the Slack app was granted: all Replyline uses, unless a test takes some away.
    slack_scopes: list[str] = field(
        default_factory=lambda: [
            "chat:write", "files:write", "im:history", "im:write", "users:read", "users:read.email"
        ]
    )  # fmt: skip
    llm_fault: Callable[[Request], Response | None] | None = None
    # When set, conversations.history lists what was posted to the channel, newest first, as
    # Slack does; else it is empty. A retry that looks before posting again then finds a post.
    slack_history_from_posts: bool = False
    accepted: list[dict[str, Any]] = field(default_factory=list)  # replies the platform took
    # Slack user ids by email (users.lookupByEmail); any other email is U-REVIEW.
    slack_users: dict[str, str] = field(default_factory=dict)
    # The email on each Slack account's profile (users.info); others show no email.
    slack_profiles: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.server.expect_request("/v1/chat/completions").respond_with_handler(self._llm)
        slack_answers: dict[str, Callable[[Request], Response]] = {
            "auth.test": lambda _req: _json(
                {
                    "ok": True,
                    "url": "https://acme-agency.slack.com/",
                    "team": "Acme Agency",
                    "user": "replyline",
                    "team_id": "T-ACME",
                    "user_id": "U-BOT",
                    "bot_id": "B-BOT",
                    "is_enterprise_install": False,
                }
            ),
            "users.lookupByEmail": self._slack_lookup,
            "conversations.open": lambda _req: _json({"ok": True, "channel": {"id": "D-REVIEW"}}),
            "conversations.history": self._slack_history,
            "chat.postMessage": self._slack_post,
            "chat.update": lambda req: _json(
                {"ok": True, "channel": _slack_args(req)["channel"], "ts": _slack_args(req)["ts"]}
            ),
            "chat.postEphemeral": lambda _req: _json({"ok": True, "message_ts": "1700000001.0001"}),
            "users.info": self._slack_user_info,
            "views.open": lambda _req: _json({"ok": True, "view": {"id": "V-OPEN"}}),
        }
        for method, answer in slack_answers.items():
            self.server.expect_request(f"/slack/api/{method}").respond_with_handler(
                self._slack_scoped(method, answer)
            )
        self.server.expect_request(re.compile(r"^/eb/api/replies/\d+/reply$")).respond_with_handler(
            self._eb_reply
        )
        self.server.expect_request(
            re.compile(r"^/eb/api/leads/\w+/replies$"), method="GET"
        ).respond_with_handler(self._eb_sent_folder)
        self.server.expect_request(
            re.compile(r"^/eb/api/campaigns/\w+/leads/stop-future-emails$"), method="POST"
        ).respond_with_json({"data": {"success": True}})
        ghl, expect = "/ghl", self.server.expect_request
        expect(f"{ghl}/contacts/search/duplicate").respond_with_handler(self._ghl_find)
        expect(f"{ghl}/contacts/", method="POST").respond_with_handler(self._ghl_create)
        expect(re.compile(rf"^{ghl}/contacts/[^/]+/appointments$")).respond_with_handler(
            self._ghl_appointments
        )
        expect(f"{ghl}/conversations/messages", method="POST").respond_with_handler(self._ghl_sms)
        expect("/calendly/users/me").respond_with_json(
            {"resource": {"current_organization": "https://api.calendly.com/organizations/ORG"}}
        )
        expect("/calendly/scheduled_events").respond_with_handler(self._calendly_events)
        expect(re.compile(r"^/calendly/scheduled_events/[^/]+/invitees$")).respond_with_handler(
            self._calendly_invitees
        )

    def _ghl_find(self, req: Request) -> Response:
        key = req.args.get("email") or req.args.get("number") or ""
        contact = self.ghl_contacts.get(key)
        return _json({"contact": {"id": contact} if contact else None})

    def _ghl_create(self, req: Request) -> Response:
        contact_id = f"ct_new_{len(self.ghl_contacts) + 1}"
        body = req.get_json()
        for key in ("email", "phone"):
            if body.get(key):
                self.ghl_contacts[body[key]] = contact_id
        return _json({"contact": {"id": contact_id}}, 201)

    def _ghl_appointments(self, req: Request) -> Response:
        contact_id = req.path.split("/")[-2]
        return _json({"events": self.ghl_appointments.get(contact_id, [])})

    def _ghl_sms(self, _req: Request) -> Response:
        self.next_sms_id += 1
        return _json({"conversationId": "conv-1", "messageId": f"sms-{self.next_sms_id}"}, 201)

    def _calendly_events(self, req: Request) -> Response:
        email = req.args.get("invitee_email", "").lower()
        events = [
            e for e, invitees in self.calendly_events if any(i["email"] == email for i in invitees)
        ]
        return _json({"collection": events, "pagination": {"next_page_token": None}})

    def _calendly_invitees(self, req: Request) -> Response:
        event_id = req.path.split("/")[-2]
        email = req.args.get("email", "").lower()
        found = [
            i
            for e, invitees in self.calendly_events
            if e["uri"].endswith("/" + event_id)
            for i in invitees
            if i["email"] == email
        ]
        return _json({"collection": found, "pagination": {"next_page_token": None}})

    def _slack_user_info(self, req: Request) -> Response:
        user_id = _slack_args(req).get("user", "")
        profile = {"real_name": "Reviewer"}
        if user_id in self.slack_profiles:
            profile["email"] = self.slack_profiles[user_id]
        return _json({"ok": True, "user": {"id": user_id, "profile": profile}})

    def _slack_lookup(self, req: Request) -> Response:
        email = req.form.get("email") or req.args.get("email") or ""
        return _json({"ok": True, "user": {"id": self.slack_users.get(email, "U-REVIEW")}})

    def _slack_scoped(
        self, method: str, answer: Callable[[Request], Response]
    ) -> Callable[[Request], Response]:
        """As Slack does: `missing_scope` naming the scope the method needs, and the token's
        scopes in the `x-oauth-scopes` header of every answer."""

        def handle(req: Request) -> Response:
            needed = SLACK_METHOD_SCOPES.get(method)
            if needed and needed not in self.slack_scopes:
                response = _json(
                    {
                        "ok": False,
                        "error": "missing_scope",
                        "needed": needed,
                        "provided": ",".join(self.slack_scopes),
                    }
                )
            else:
                response = answer(req)
            response.headers["x-oauth-scopes"] = ",".join(self.slack_scopes)
            return response

        return handle

    def _slack_post(self, req: Request) -> Response:
        if self.slack_fault and (faulty := self.slack_fault(req)) is not None:
            return faulty
        return _json({"ok": True, "channel": "D-REVIEW", "ts": "1700000000.000200"})

    def _slack_history(self, req: Request) -> Response:
        channel = _slack_args(req).get("channel")
        posted = [
            {"type": "message", "ts": f"1700000000.{n:06d}", "text": post.get("text", "")}
            for n, post in enumerate(self.slack_posts())
            if self.slack_history_from_posts and post.get("channel") == channel
        ]
        return _json({"ok": True, "messages": posted[::-1]})

    def _eb_reply(self, req: Request) -> Response:
        if self.eb_fault and (faulty := self.eb_fault(req)) is not None:
            return faulty
        if self.eb_latency:
            time.sleep(self.eb_latency)
        self.next_reply_id += 1
        body = json.loads(req.get_data())
        self.accepted.append({"id": self.next_reply_id, "path": req.path, **body})
        return _json({"data": {"success": True, "reply": {"id": self.next_reply_id}}})

    def _eb_sent_folder(self, _req: Request) -> Response:
        # Every accepted reply, whoever it went to: the client must match the recipient.
        return _json(
            {
                "data": [
                    {
                        "id": reply["id"],
                        "folder": "sent",
                        # The platform keeps what it was given: HTML as html_body.
                        (
                            "html_body" if reply.get("content_type") == "html" else "text_body"
                        ): reply["message"],
                        "to": [
                            {"address": to["email_address"], "name": None}
                            for to in reply["to_emails"]
                        ],
                    }
                    for reply in self.accepted
                ]
            }
        )

    def _llm(self, req: Request) -> Response:
        if self.llm_fault and (faulty := self.llm_fault(req)) is not None:
            return faulty
        if self.llm_latency:
            time.sleep(self.llm_latency)
        body = json.loads(req.get_data())
        answer = self.llm[body["response_format"]["json_schema"]["name"]]
        if callable(answer):
            return answer(body)
        return _json(completion(json.dumps(answer)))

    def env(self, **extra: str) -> dict[str, str]:
        """The environment pointing a worker process at the stubs."""
        return {
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_BASE_URL": self.server.url_for("/v1"),
            "LLM_TIMEOUT_SECONDS": "2",
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_API_URL": self.server.url_for("/slack/api/"),
            "REPLYLINE_SECRET_KEY": self.secret_key,
            "PUBLIC_BASE_URL": "https://app.replyline.test",
            "GHL_BASE_URL": self.server.url_for("/ghl"),
            "CALENDLY_BASE_URL": self.server.url_for("/calendly"),
            **extra,
        }

    def settings(self, **extra: str) -> Settings:
        return load_settings(self.env(**extra))

    @property
    def platform_url(self) -> str:
        return self.server.url_for("/eb")

    def platform_sends(self) -> list[Request]:
        """Every attempt to send a reply to a lead through the platform."""
        return [req for req in self.calls("/eb/api/replies/") if req.path.endswith("/reply")]

    def calls(self, fragment: str) -> list[Request]:
        return [req for req, _ in self.server.log if fragment in req.path]

    def slack_calls(self, method: str) -> list[dict[str, Any]]:
        """The arguments of every call to a Slack Web API method."""
        return [_slack_args(req) for req in self.calls(f"/slack/api/{method}")]

    def slack_posts(self) -> list[dict[str, Any]]:
        posts = []
        for req in self.calls("chat.postMessage"):
            posts.append(dict(req.get_json()) if req.is_json else dict(req.form))
        return posts
