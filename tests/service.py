"""The real service over HTTP for the tests: Werkzeug's threaded server on a free port."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import make_server

from sender_service.app import create_app
from sender_service.settings import Settings


class CountingInput:
    """Wraps `wsgi.input` to record how many body bytes the app read."""

    def __init__(self, stream: Any, counter: list[int]) -> None:
        self._stream, self._counter = stream, counter

    def read(self, *args: Any) -> bytes:
        data: bytes = self._stream.read(*args)
        self._counter[0] += len(data)
        return data

    def readline(self, *args: Any) -> bytes:
        data: bytes = self._stream.readline(*args)
        self._counter[0] += len(data)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@dataclass
class Service:
    base_url: str
    host: str
    port: int
    bytes_read: list[int] = field(default_factory=lambda: [0])

    def request(
        self,
        method: str,
        path: str,
        body: bytes | Iterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            raw = response.read()
            return response.status, json.loads(raw) if raw else {}
        finally:
            conn.close()

    def post_json(
        self, path: str, payload: Any, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        return self.request(
            "POST",
            path,
            json.dumps(payload).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )


@contextmanager
def run_service(db_url: str, settings: Settings | None = None) -> Iterator[Service]:
    app = create_app({"DATABASE_URL": db_url, "SETTINGS": settings})
    counter = [0]
    flask_wsgi = app.wsgi_app

    def counting(environ: dict[str, Any], start_response: Any) -> Any:
        environ["wsgi.input"] = CountingInput(environ["wsgi.input"], counter)
        return flask_wsgi(environ, start_response)

    app.wsgi_app = counting  # type: ignore[method-assign]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield Service(url, "127.0.0.1", server.server_port, counter)
    finally:
        server.shutdown()
        thread.join()
