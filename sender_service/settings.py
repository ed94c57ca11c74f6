"""Typed settings read from the environment (every variable is listed in .env.example).

Every variable the product reads is declared here once; `.env.example` documents them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

LLMProvider = Literal["openai", "offline"]


class SettingsError(ValueError):
    """A variable holds a value Replyline cannot use; the message names it."""


def project_root() -> Path:
    """The checkout holding `pyproject.toml`, or the working directory for a plain install."""
    here = Path(__file__).resolve().parent.parent
    return here if (here / "pyproject.toml").exists() else Path.cwd()


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    test_database_url: str | None
    secret_key: str | None
    openai_base_url: str | None
    openai_api_key: str | None
    llm_model: str
    llm_provider: LLMProvider
    llm_timeout_seconds: float
    slack_bot_token: str | None
    slack_api_url: str
    public_base_url: str
    ghl_base_url: str
    calendly_base_url: str
    calendly_signature_tolerance_seconds: int
    var_dir: Path
    warehouse_path: Path
    exports_dir: Path
    exports_retention_days: int
    webhook_journal_retention_days: int
    # Bearer token for GET /metrics on the service; unset: /metrics answers 404 there.
    metrics_token: str | None = None
    # The longest a download of the ChatGPT export may stream before it is cut off.
    export_max_seconds: float = 900.0

    @property
    def embedded_pgdata(self) -> Path:
        return self.var_dir / "pg"


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _path(env: Mapping[str, str], name: str, default: Path, root: Path) -> Path:
    value = _text(env, name)
    path = Path(value) if value else default
    return path if path.is_absolute() else root / path


def _days(env: Mapping[str, str], name: str, default: int) -> int:
    raw = _text(env, name) or str(default)
    try:
        days = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number of days, not {raw!r}") from None
    if days < 1:
        raise SettingsError(f"{name} must be at least 1")
    return days


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = _text(env, name) or str(default)
    try:
        seconds = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not seconds > 0:
        raise SettingsError(f"{name} must be positive")
    return seconds


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `env` (the process environment by default), validating each value."""
    env = os.environ if env is None else env
    root = project_root()
    var_dir = _path(env, "REPLYLINE_VAR_DIR", root / "var", root)

    provider = (_text(env, "LLM_PROVIDER") or "openai").lower()
    if provider not in ("openai", "offline"):
        raise SettingsError(f"LLM_PROVIDER must be 'openai' or 'offline', not {provider!r}")

    timeout_raw = _text(env, "LLM_TIMEOUT_SECONDS") or "30"
    try:
        llm_timeout = float(timeout_raw)
    except ValueError:
        raise SettingsError(
            f"LLM_TIMEOUT_SECONDS must be a number of seconds, not {timeout_raw!r}"
        ) from None
    if llm_timeout <= 0:
        raise SettingsError("LLM_TIMEOUT_SECONDS must be positive")

    retention_raw = _text(env, "EXPORTS_RETENTION_DAYS") or "30"
    try:
        retention = int(retention_raw)
    except ValueError:
        raise SettingsError(
            f"EXPORTS_RETENTION_DAYS must be a whole number of days, not {retention_raw!r}"
        ) from None
    if retention < 1:
        raise SettingsError("EXPORTS_RETENTION_DAYS must be at least 1")

    tolerance_raw = _text(env, "CALENDLY_SIGNATURE_TOLERANCE_SECONDS") or "180"
    try:
        tolerance = int(tolerance_raw)
    except ValueError:
        raise SettingsError(
            "CALENDLY_SIGNATURE_TOLERANCE_SECONDS must be a whole number of seconds, "
            f"not {tolerance_raw!r}"
        ) from None
    if tolerance < 1:
        raise SettingsError("CALENDLY_SIGNATURE_TOLERANCE_SECONDS must be at least 1")

    return Settings(
        database_url=_text(env, "DATABASE_URL"),
        test_database_url=_text(env, "TEST_DATABASE_URL"),
        secret_key=_text(env, "REPLYLINE_SECRET_KEY"),
        openai_base_url=_text(env, "OPENAI_BASE_URL"),
        openai_api_key=_text(env, "OPENAI_API_KEY"),
        llm_model=_text(env, "LLM_MODEL") or "gpt-4.1-mini",
        llm_provider=provider,  # type: ignore[arg-type]
        llm_timeout_seconds=llm_timeout,
        slack_bot_token=_text(env, "SLACK_BOT_TOKEN"),
        slack_api_url=_text(env, "SLACK_API_URL") or "https://slack.com/api/",
        public_base_url=(_text(env, "PUBLIC_BASE_URL") or "http://localhost:8000").rstrip("/"),
        ghl_base_url=_text(env, "GHL_BASE_URL") or "https://services.leadconnectorhq.com",
        calendly_base_url=_text(env, "CALENDLY_BASE_URL") or "https://api.calendly.com",
        calendly_signature_tolerance_seconds=tolerance,
        var_dir=var_dir,
        warehouse_path=_path(env, "WAREHOUSE_PATH", var_dir / "warehouse.duckdb", root),
        exports_dir=_path(env, "EXPORTS_DIR", root / "exports", root),
        exports_retention_days=retention,
        webhook_journal_retention_days=_days(env, "WEBHOOK_JOURNAL_RETENTION_DAYS", 30),
        metrics_token=_text(env, "METRICS_TOKEN"),
        export_max_seconds=_seconds(env, "EXPORT_MAX_SECONDS", 900.0),
    )
