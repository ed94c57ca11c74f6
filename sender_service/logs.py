"""One logging setup for `replyline serve`, `replyline worker` and gunicorn: JSON lines.

Each line carries the request id (HTTP) or the job id (worker) of the work it belongs to, read
from context variables the app and the worker set. Secrets never reach a line: the redacting
record factory (`web.redact`) rewrites every record before any handler sees it.
"""

from __future__ import annotations

import json
import logging
import logging.config
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from sender_service.web import redact

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
job_id: ContextVar[str | None] = ContextVar("job_id", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, var in (("request_id", request_id), ("job_id", job_id)):
            value = var.get()
            if value:
                line[name] = value
        if record.exc_info:
            line["exc"] = redact.redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a record is emitted, not when configured:
    a test runner (or a daemon) may swap the stream and close the old one."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def dict_config(level: str = "INFO") -> dict[str, Any]:
    """The `logging.config` dict; gunicorn takes it as `logconfig_dict` (see gunicorn.conf.py)."""
    json_handler = {"()": StderrHandler, "formatter": "json"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"json": json_handler},
        "root": {"level": level, "handlers": ["json"]},
        "loggers": {
            # gunicorn's own loggers do not propagate; give them the same handler.
            "gunicorn.error": {"level": level, "handlers": ["json"], "propagate": False},
            "gunicorn.access": {"level": level, "handlers": ["json"], "propagate": False},
        },
    }


def configure(level: str = "INFO") -> None:
    redact.install()
    logging.config.dictConfig(dict_config(level))
