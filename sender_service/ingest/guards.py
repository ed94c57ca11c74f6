"""What every provider reader checks before trusting a body: that it is JSON Python and
Postgres can hold, that its times are plausible and that its ids are ids.

A security review stored poison with 202s: a year-10000 date that later broke every read of
the workspace, a NUL byte Postgres refuses on every redelivery, a 3 kB id over the index row
limit, nesting deep enough to exhaust the stack. Each is caught or repaired here, at the door,
with an error naming the field: not JSON and over-deep JSON are `NotJSON` (400); a time, id or
address a reader uses that is not plausible is a `PayloadError`, which the delivery journal
answers 202 `held` (see `ingest/deliveries.py`). Only the fields a reader uses are checked:
the lenient types of `ingest/lenient.py` still coerce or drop everything else.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Final

from pydantic import AfterValidator, BeforeValidator

from sender_service.ingest.events import NotJSON, PayloadError
from sender_service.ingest.lenient import as_text
from sender_service.providers.http import parse_time

MAX_DEPTH: Final = 64
# Well under Postgres's btree row limit (~2.7 kB), well over any provider's ids and URIs.
MAX_ID_CHARS: Final = 512
# RFC 5321 limits an address to 254 characters; anything much longer is not one.
MAX_EMAIL_CHARS: Final = 320
EARLIEST: Final = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_AHEAD: Final = timedelta(days=366)

# Only a body with an escaped NUL or surrogate can decode to text Postgres refuses (raw
# control characters are not JSON), so the common body skips the walk.
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_SURROGATE = re.compile("[\ud800-\udfff]")


def load_json(body: bytes) -> Any:
    """The decoded body, its text made storable (NUL removed, lone surrogates replaced)."""
    try:
        value = json.loads(body)
    except RecursionError:
        raise NotJSON(f"body is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # bad UTF-8 or syntax; an integer over 4300 digits
        too_long = "digits" in str(exc)
        raise NotJSON(
            "body has an integer over 4300 digits" if too_long else "body is not valid JSON"
        ) from None
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        raise NotJSON(f"body is nested deeper than {MAX_DEPTH} levels")
    if _SUSPECT_ESCAPE.search(body):
        value = _cleaned(value)
    return value


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                break
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def clean_text(text: str) -> str:
    """`text` without NUL characters and with lone surrogates as U+FFFD: valid UTF-8."""
    return _SURROGATE.sub("\ufffd", text.replace("\x00", ""))


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_cleaned(item) for item in value]
    if isinstance(value, dict):
        return {clean_text(key): _cleaned(item) for key, item in value.items()}
    return value


def check_time(value: datetime, field: str) -> datetime:
    """`value` if it falls between 2000-01-01 and a year from now, else PayloadError."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if not EARLIEST <= aware <= datetime.now(UTC) + LATEST_AHEAD:
        raise PayloadError(f"{field}: {value.isoformat()} is outside 2000 to a year ahead", field)
    return value


def read_time(value: Any, field: str) -> datetime | None:
    """A provider's ISO time (None when absent or unreadable), checked by `check_time`."""
    parsed = parse_time(value)
    return None if parsed is None else check_time(parsed, field)


def plausible_time(value: Any) -> datetime | None:
    """A time from a provider's API answer (reconciliation); None when absent, unreadable or
    outside the window: what a webhook would refuse is neither stored nor a failing job."""
    parsed = parse_time(value)
    if parsed is None:
        return None
    try:
        return check_time(parsed, "time")
    except PayloadError:
        return None


def _window(value: datetime) -> datetime:
    try:
        return check_time(value, "time")
    except PayloadError:
        raise ValueError("outside 2000 to a year ahead") from None


def _id(value: Any) -> Any:
    # Providers' ids may be integers; stored as text like every provider id.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise ValueError("blank, not an id")
        if len(value) > MAX_ID_CHARS:
            raise ValueError(f"longer than {MAX_ID_CHARS} characters, not an id")
    return value


def _optional_id(value: Any) -> Any:
    """A blank id is no id: the reader treats it as absent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _id(value)


def _lenient_id(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return _optional_id(value)


def optional_id(value: Any, field: str) -> str | None:
    """`OptionalProviderId` outside a model (a GHL workflow's custom data); a PayloadError
    naming `field` when the value is not an id."""
    try:
        checked = _optional_id(value)
    except ValueError as exc:
        raise PayloadError(f"{field}: {exc}", field) from None
    if checked is not None and not isinstance(checked, str):
        raise PayloadError(f"{field}: not an id", field)
    return checked


def check_email(value: str, field: str) -> str:
    """`value` if it can be an address (a lead is matched by it), else PayloadError."""
    if len(value) > MAX_EMAIL_CHARS:
        raise PayloadError(f"{field}: longer than {MAX_EMAIL_CHARS} characters", field)
    return value


def _email(value: Any) -> str | None:
    # Lenient like any optional text (a number is its text, anything else absent); but a lead
    # is matched by it, so an address no mailbox can have is refused.
    text = as_text(value)
    if text is not None and len(text) > MAX_EMAIL_CHARS:
        raise ValueError(f"longer than {MAX_EMAIL_CHARS} characters, not an address")
    return text


# Field types for the readers' pydantic models; a violation names the field like any other.
SaneTime = Annotated[datetime, AfterValidator(_window)]
ProviderId = Annotated[str, BeforeValidator(_id)]
OptionalProviderId = Annotated[str | None, BeforeValidator(_optional_id)]
# An optional id read like any optional field (anything but text or an integer is absent), yet
# still an id when present: blank is absent, oversized is refused.
LenientId = Annotated[str | None, BeforeValidator(_lenient_id)]
Email = Annotated[str | None, BeforeValidator(_email)]
