"""A loopback stand-in for the email platforms (EmailBison, Smartlead, Instantly) and Slack
that answers like them and records each call.

The demo points the workspace's platform URL and SLACK_API_URL here, so the real clients run
and nothing leaves the machine.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Final

from werkzeug import Request, Response
from werkzeug.routing import Map, Rule
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    """The demo prints its own summary of these calls; no access log on the console."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass(frozen=True)
class Call:
    service: str
    method: str
    body: dict[str, Any]


@dataclass
class Recorder:
    calls: list[Call] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(880_001))
    _server: BaseWSGIServer | None = None
    _thread: threading.Thread | None = None
    _routes: Map = field(
        default_factory=lambda: Map(
            [
                Rule("/eb/api/replies/<int:reply_id>/reply", endpoint="eb_reply", methods=["POST"]),
                Rule(
                    "/eb/api/campaigns/<campaign_id>/leads/stop-future-emails",
                    endpoint="eb_stop",
                    methods=["POST"],
                ),
                Rule(
                    "/sl/api/v1/campaigns/<campaign_id>/reply-email-thread",
                    endpoint="sl_reply",
                    methods=["POST"],
                ),
                Rule(
                    "/sl/api/v1/campaigns/<campaign_id>/leads/<lead_id>/pause",
                    endpoint="sl_stop",
                    methods=["POST"],
                ),
                Rule("/inst/api/v2/emails/reply", endpoint="inst_reply", methods=["POST"]),
                Rule("/eb/api/campaigns", endpoint="eb_campaigns", methods=["GET"]),
                Rule("/sl/api/v1/campaigns", endpoint="sl_campaigns", methods=["GET"]),
                Rule("/inst/api/v2/campaigns", endpoint="inst_campaigns", methods=["GET"]),
                Rule("/slack/api/<method>", endpoint="slack", methods=["POST", "GET"]),
            ]
        )
    )

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> Recorder:
        self._server = make_server(
            "127.0.0.1", 0, self._app, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join(5)

    def of(self, service: str, method: str | None = None) -> list[Call]:
        return [c for c in self.calls if c.service == service and method in (None, c.method)]

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            endpoint, args = self._routes.bind_to_environ(environ).match()
        except Exception:
            response = Response('{"error": "not recorded"}', 404, content_type="application/json")
            return response(environ, start_response)
        body = request.get_json(silent=True) or request.form.to_dict()
        if endpoint == "eb_reply":
            self.calls.append(Call("emailbison", f"reply:{args['reply_id']}", body))
            answer: Any = {"data": {"success": True, "reply": {"id": next(self._ids)}}}
        elif endpoint == "eb_stop":
            self.calls.append(Call("emailbison", f"stop:{args['campaign_id']}", body))
            answer = {"data": {"success": True}}
        elif endpoint == "sl_reply":
            self.calls.append(Call("smartlead", f"reply:{body.get('email_stats_id')}", body))
            answer = {"success": True, "message": "Reply sent successfully"}
        elif endpoint == "sl_stop":
            self.calls.append(Call("smartlead", f"stop:{args['campaign_id']}", body))
            answer = {"ok": True, "data": "success"}
        elif endpoint == "inst_reply":
            self.calls.append(Call("instantly", f"reply:{body.get('reply_to_uuid')}", body))
            answer = {"id": f"demo-sent-{next(self._ids)}", "subject": body.get("subject")}
        elif endpoint == "eb_campaigns":  # read-only: `replyline doctor` asks it
            answer = {"data": [], "meta": {"current_page": 1, "last_page": 1}}
        elif endpoint == "sl_campaigns":
            answer = []
        elif endpoint == "inst_campaigns":
            answer = {"items": [], "next_starting_after": None}
        else:
            self.calls.append(Call("slack", args["method"], body))
            answer = _SLACK.get(args["method"], {"ok": True})
        response = Response(json.dumps(answer), content_type="application/json")
        # Slack names the token's scopes on every answer; these are the ones Replyline uses.
        response.headers["x-oauth-scopes"] = _SLACK_SCOPES
        return response(environ, start_response)


_SLACK_SCOPES: Final = "chat:write,files:write,im:history,im:write,users:read,users:read.email"
_SLACK: dict[str, dict[str, Any]] = {
    "auth.test": {
        "ok": True,
        "team": "Demo Agency",
        "user": "replyline",
        "team_id": "T0DEMO",
        "user_id": "U0BOT",
    },
    "users.lookupByEmail": {"ok": True, "user": {"id": "U0REVIEWER"}},
    "conversations.open": {"ok": True, "channel": {"id": "D0REVIEW"}},
    "conversations.history": {"ok": True, "messages": []},
    "chat.postMessage": {"ok": True, "channel": "D0REVIEW", "ts": "1764000000.000100"},
}
