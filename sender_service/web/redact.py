"""Keep webhook secrets and row values out of every log line, access logs included.

Installed as the log-record factory, so it sees every record from every logger (werkzeug's and
gunicorn's access logs, Flask, ours) before any handler or filter, whoever configured them.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

REDACTED: Final = "[REDACTED]"
# `secret=` in a query string, also URL-encoded (`secret%3D`), and bearer tokens. Postgres's
# DETAIL line of a constraint error quotes the row or key values (emails, message bodies):
# the error's first line and the constraint's name say enough.
_PATTERNS: Final = (
    re.compile(r"(?i)(secret(?:=|%3D))[^&\s\"']+"),
    re.compile(r"(?i)(bearer\s+)[^\s\"']+"),
    re.compile(r"(DETAIL:\s*)[^\n]*"),
)


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(rf"\g<1>{REDACTED}", text)
    return text


def install() -> None:
    """Wrap the current record factory once; later calls are no-ops."""
    current = logging.getLogRecordFactory()
    if getattr(current, "_replyline_redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's problem to report, not ours
            return record
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return record

    factory._replyline_redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
