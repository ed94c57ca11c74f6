"""No webhook secret in any log line: Werkzeug's access log, gunicorn's, the app's."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from typing import IO

from tests import emailbison_payloads as eb
from tests.test_webhook_emailbison import raw_exchange, ten_mb_head


def test_werkzeug_access_log_redacts_the_query_secret(caplog, service, workspace):
    ws_id, secret = workspace
    caplog.set_level(logging.DEBUG)
    for path in (f"?secret={secret}", f"?x=1&secret={secret}", "?secret=wrong-guess"):
        service.post_json(f"/webhooks/emailbison/{ws_id}{path}", eb.lead_replied())
    lines = [r.getMessage() for r in caplog.records]
    access = [line for line in lines if "/webhooks/emailbison/" in line]
    assert len(access) == 3
    assert all("secret=[REDACTED]" in line for line in access)
    assert not any(secret in line or "wrong-guess" in line for line in lines)


def test_app_log_lines_are_redacted_too(caplog):
    from sender_service.web import redact

    redact.install()
    caplog.set_level(logging.INFO)
    logging.getLogger("anything").info("calling %s", "/x?secret=s3cr3t&y=1")
    logging.getLogger("anything").info("header Authorization: Bearer tok3n")
    text = caplog.text
    assert "s3cr3t" not in text and "tok3n" not in text
    assert "secret=[REDACTED]&y=1" in text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_gunicorn(port: int, db_url: str, log_out: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--access-logfile",
            "-",
            "--error-logfile",
            "-",
            "sender_service.app:create_app()",
        ],
        env={**os.environ, "DATABASE_URL": db_url},
        stdout=log_out,
        stderr=subprocess.STDOUT,
    )


def test_under_gunicorn_secrets_are_redacted_and_bad_callers_unread(db_url, workspace, tmp_path):
    """The production server: its access log, and a 401 that does not wait for a 10 MB body."""
    ws_id, secret = workspace
    port = _free_port()
    log_file = tmp_path / "gunicorn.log"
    with log_file.open("wb") as log_out:
        proc = _start_gunicorn(port, db_url, log_out)
    try:
        url = f"http://127.0.0.1:{port}/webhooks/emailbison/{ws_id}?secret={secret}"
        deadline = time.monotonic() + 20
        while True:
            try:
                request = urllib.request.Request(
                    url, data=b'{"event": {"type": "EMAIL_OPENED"}}', method="POST"
                )
                with urllib.request.urlopen(request, timeout=5) as response:
                    assert response.status == 200
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        head = ten_mb_head(ws_id, "127.0.0.1")
        response, elapsed = raw_exchange("127.0.0.1", port, head, b"{" + b" " * 4096)
        assert response.startswith(b"HTTP/1.1 401"), response[:200]
        assert elapsed < 2
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    text = log_file.read_text()
    assert f"/webhooks/emailbison/{ws_id}?secret=[REDACTED]" in text
    assert secret not in text
