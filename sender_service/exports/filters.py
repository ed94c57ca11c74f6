"""The ChatGPT export's filters from text, as the CLI, the API and the pages receive them."""

from __future__ import annotations

from datetime import UTC, datetime

from sender_service.exports.chatgpt import ExportFilters


def parse_moment(value: str | None, name: str) -> datetime | None:
    """An ISO 8601 date or time; without a zone it is taken as UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must be an ISO 8601 date or time, not {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _names(value: str | None, default: tuple[str, ...]) -> frozenset[str]:
    if value is None:
        return frozenset(default)
    return frozenset(v.strip().lower() for v in value.split(",") if v.strip())


def parse_filters(
    positive_only: bool,
    occurred_from: str | None,
    occurred_to: str | None,
    channels: str | None,
    directions: str | None,
    *,
    names: tuple[str, str] = ("from", "to"),
) -> ExportFilters:
    """Comma lists for channels and directions (None: all). ValueError names what is wrong."""
    return ExportFilters(
        positive_only=positive_only,
        occurred_from=parse_moment(occurred_from, names[0]),
        occurred_to=parse_moment(occurred_to, names[1]),
        channels=_names(channels, ("email", "sms")),
        directions=_names(directions, ("inbound", "outbound")),
    )
