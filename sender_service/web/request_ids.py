"""A request id per HTTP request: the caller's `X-Request-Id` if sane, else a new one.

It is in every log line the request writes (`logs.request_id`) and echoed in the response.
"""

from __future__ import annotations

import re
import uuid
from typing import Final

from flask import Flask, Response, g, request

from sender_service import logs

HEADER: Final = "X-Request-Id"
_SANE: Final = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def init_app(app: Flask) -> None:
    @app.before_request
    def assign() -> None:
        given = request.headers.get(HEADER, "")
        g.request_id = given if _SANE.match(given) else uuid.uuid4().hex
        g.request_id_token = logs.request_id.set(g.request_id)

    @app.after_request
    def echo(response: Response) -> Response:
        if "request_id" in g:
            response.headers[HEADER] = g.request_id
        return response

    @app.teardown_request
    def forget(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            logs.request_id.reset(token)
