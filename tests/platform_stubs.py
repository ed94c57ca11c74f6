"""Loopback stand-ins for Smartlead (`/sl/api/v1/...`) and Instantly (`/inst/api/v2/...`),
on the same pytest-httpserver as `tests.stubs.Stubs`, answering in the shapes their API pages
document (see `sender_service.email_platforms.smartlead` / `.instantly` for the pages).

Each platform keeps the replies it accepted, and shows them back where the product looks for
them: Smartlead in a lead's message history (per campaign), Instantly in its sent emails.
`fault` (a callable returning a response, or None to answer normally) injects an outage into
the reply endpoints.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

SMARTLEAD_KEY = "sl-key"
INSTANTLY_KEY = "inst-key"


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


@dataclass
class PlatformStubs:
    server: HTTPServer
    fault: Callable[[Request], Response | None] | None = None
    # Accept (and keep) each reply, but answer 502: the sender cannot tell it went out.
    lose_answers: bool = False
    # What each platform lists as the account's campaigns (its own item shapes).
    smartlead_campaigns: list[dict[str, Any]] = field(default_factory=list)
    instantly_campaigns: list[dict[str, Any]] = field(default_factory=list)
    smartlead_accepted: list[dict[str, Any]] = field(default_factory=list)
    instantly_accepted: list[dict[str, Any]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        expect = self.server.expect_request
        sl, inst = "/sl/api/v1", "/inst/api/v2"
        expect(
            re.compile(rf"^{sl}/campaigns/\w+/reply-email-thread$"), method="POST"
        ).respond_with_handler(self._smartlead_reply)
        expect(
            re.compile(rf"^{sl}/campaigns/\w+/leads/\w+/message-history$"), method="GET"
        ).respond_with_handler(self._smartlead_history)
        expect(
            re.compile(rf"^{sl}/campaigns/\w+/leads/\w+/pause$"), method="POST"
        ).respond_with_handler(
            self._smartlead_keyed(lambda _req: _json({"ok": True, "data": "success"}))
        )
        expect(f"{sl}/campaigns", method="GET").respond_with_handler(
            self._smartlead_keyed(lambda _req: _json(self.smartlead_campaigns))
        )
        expect(f"{inst}/emails/reply", method="POST").respond_with_handler(self._instantly_reply)
        expect(f"{inst}/emails", method="GET").respond_with_handler(self._instantly_emails)
        expect(f"{inst}/campaigns", method="GET").respond_with_handler(self._instantly_campaigns)

    @property
    def smartlead_url(self) -> str:
        return self.server.url_for("/sl")

    @property
    def instantly_url(self) -> str:
        return self.server.url_for("/inst")

    def calls(self, fragment: str) -> list[Request]:
        return [req for req, _ in self.server.log if fragment in req.path]

    def _smartlead_keyed(
        self, answer: Callable[[Request], Response]
    ) -> Callable[[Request], Response]:
        def handle(req: Request) -> Response:
            if req.args.get("api_key") != SMARTLEAD_KEY:
                return _json({"error": "Invalid API key"}, 401)
            return answer(req)

        return handle

    def _smartlead_reply(self, req: Request) -> Response:
        if req.args.get("api_key") != SMARTLEAD_KEY:
            return _json({"error": "Invalid API key"}, 401)
        if self.fault and (faulty := self.fault(req)) is not None:
            return faulty
        body = json.loads(req.get_data())
        if not (body.get("email_stats_id") and body.get("email_body")):
            return _json({"error": "email_stats_id and email_body are required"}, 400)
        campaign_id = req.path.split("/")[-2]
        message_id = f"<sl-{next(self._ids)}@replyline.test>"
        self.smartlead_accepted.append(
            {"campaign_id": campaign_id, "message_id": message_id, **body}
        )
        if self.lose_answers:
            return _json({"error": "Bad Gateway"}, 502)
        return _json({"success": True, "message": "Reply sent successfully"})

    def _smartlead_history(self, req: Request) -> Response:
        if req.args.get("api_key") != SMARTLEAD_KEY:
            return _json({"error": "Invalid API key"}, 401)
        campaign_id = req.path.split("/")[-4]
        # The webhook guide's `history` item shape: {stats_id, type, message_id, time, ...}.
        history = [
            {
                "stats_id": reply["email_stats_id"],
                "type": "SENT",
                "message_id": reply["message_id"],
                "time": "2026-11-30T01:00:00.000Z",
                "email_body": reply["email_body"],
                "subject": "Re: quick question",
            }
            for reply in self.smartlead_accepted
            if reply["campaign_id"] == campaign_id
        ]
        return _json({"history": history, "from": "alex@agency-mail.com", "to": "dana@prospect.io"})

    def _instantly_keyed(self, req: Request) -> Response | None:
        if req.headers.get("Authorization") != f"Bearer {INSTANTLY_KEY}":
            return _json({"statusCode": 401, "error": "Unauthorized"}, 401)
        return None

    def _instantly_reply(self, req: Request) -> Response:
        if (refused := self._instantly_keyed(req)) is not None:
            return refused
        if self.fault and (faulty := self.fault(req)) is not None:
            return faulty
        body = json.loads(req.get_data())
        missing = [k for k in ("eaccount", "reply_to_uuid", "subject", "body") if not body.get(k)]
        if missing:
            return _json({"statusCode": 400, "message": f"missing {', '.join(missing)}"}, 400)
        email = {
            "id": str(uuid.uuid4()),
            "reply_to_uuid": body["reply_to_uuid"],
            "subject": body["subject"],
            "eaccount": body["eaccount"],
            "from_address_email": body["eaccount"],
            "body": body["body"],
            "ue_type": 3,
        }
        self.instantly_accepted.append(email)
        if self.lose_answers:
            return _json({"statusCode": 502, "error": "Bad Gateway"}, 502)
        return _json({k: v for k, v in email.items() if k != "reply_to_uuid"})

    def _instantly_emails(self, req: Request) -> Response:
        if (refused := self._instantly_keyed(req)) is not None:
            return refused
        lead = req.args.get("lead", "")
        # Filtered by lead as Instantly does: every reply sent in that lead's threads.
        items = [
            {
                **{k: v for k, v in email.items() if k != "reply_to_uuid"},
                "to_address_email_list": lead,
                "lead": lead,
            }
            for email in self.instantly_accepted
        ]
        return _json({"items": items})

    def _instantly_campaigns(self, req: Request) -> Response:
        if (refused := self._instantly_keyed(req)) is not None:
            return refused
        # Two items a page, to walk Instantly's cursor pagination.
        ids = [c["id"] for c in self.instantly_campaigns]
        after = req.args.get("starting_after")
        start = ids.index(after) + 1 if after in ids else 0
        page = self.instantly_campaigns[start : start + 2]
        more = start + 2 < len(ids)
        return _json({"items": page, **({"next_starting_after": page[-1]["id"]} if more else {})})
