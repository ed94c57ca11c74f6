"""Locked business definitions (docs/definitions.md): the one Python source of truth.

dbt carries the same definitions as macros and seeds; a test proves the two agree.
"""

from __future__ import annotations

import re
from typing import Final

SENTIMENTS: Final[tuple[str, ...]] = (
    "Interested",
    "Information Requested",
    "Meeting Requested",
    "Call Requested",
    "Not Interested",
    "Objection",
    "Out of Office",
    "Automated Reply",
    "Follow Up",
    "Blacklist",
    "Neutral",
)
POSITIVE_SENTIMENTS: Final[frozenset[str]] = frozenset(
    {"Interested", "Information Requested", "Meeting Requested", "Call Requested"}
)
# Replies the AI writes a draft for. Only positive ones may be auto-sent; a Follow Up draft
# ("reach out next quarter") waits for a person.
DRAFTED_SENTIMENTS: Final[frozenset[str]] = POSITIVE_SENTIMENTS | {"Follow Up"}
MEETING_REQUESTED_SENTIMENTS: Final[frozenset[str]] = frozenset(
    {"Meeting Requested", "Call Requested"}
)
# A lead saying no: after the AI answered them, the workspace may want to know at once.
NEGATIVE_SENTIMENTS: Final[frozenset[str]] = frozenset({"Not Interested", "Blacklist"})

APPOINTMENT_STATUSES: Final[tuple[str, ...]] = ("confirmed", "canceled", "showed", "noshow")

HEADCOUNT_BUCKETS: Final[tuple[str, ...]] = (
    "1-10",
    "11-50",
    "51-200",
    "201-500",
    "501-1000",
    "1001-5000",
    "5001-10000",
    "10001+",
    "unknown",
)
# Lower bounds of the numeric buckets, in order; the last bucket is open-ended.
_BUCKET_FLOORS: Final[tuple[tuple[int, str], ...]] = (
    (10001, "10001+"),
    (5001, "5001-10000"),
    (1001, "1001-5000"),
    (501, "501-1000"),
    (201, "201-500"),
    (51, "51-200"),
    (11, "11-50"),
    (1, "1-10"),
)


def _sentiment_key(raw: str) -> str:
    return re.sub(r"[\s_\-]+", " ", raw.strip().lower())


# Spellings seen from platforms (EmailBison interest tags, older app labels) → canonical.
_SENTIMENT_ALIASES: Final[dict[str, str]] = {
    **{_sentiment_key(label): label for label in SENTIMENTS},
    "positive": "Interested",
    "lead interested": "Interested",
    "info requested": "Information Requested",
    "information request": "Information Requested",
    "more info": "Information Requested",
    "meeting request": "Meeting Requested",
    "meeting booked": "Meeting Requested",
    "call request": "Call Requested",
    "not interested": "Not Interested",
    "negative": "Not Interested",
    "ooo": "Out of Office",
    "out of office": "Out of Office",
    "auto reply": "Automated Reply",
    "autoreply": "Automated Reply",
    "automatic reply": "Automated Reply",
    "followup": "Follow Up",
    "follow up later": "Follow Up",
    "unsubscribe": "Blacklist",
    "unsubscribed": "Blacklist",
    "do not contact": "Blacklist",
    "dnc": "Blacklist",
}


def normalize_sentiment(raw: str) -> str:
    """Map a platform's or model's spelling of a sentiment to its canonical label.

    Case, surrounding whitespace, underscores and dashes are ignored; unknown text raises
    ``ValueError`` rather than guessing, so a new platform label is noticed, not misfiled.
    """
    label = _SENTIMENT_ALIASES.get(_sentiment_key(raw))
    if label is None:
        raise ValueError(f"unknown sentiment: {raw!r}")
    return label


_APPOINTMENT_ALIASES: Final[dict[str, str]] = {
    # GoHighLevel appointment statuses.
    "new": "confirmed",
    "booked": "confirmed",
    "confirmed": "confirmed",
    "active": "confirmed",
    "completed": "showed",
    "cancelled": "canceled",
    "canceled": "canceled",
    "invalid": "canceled",
    "showed": "showed",
    "noshow": "noshow",
    "no show": "noshow",
    # Calendly webhook events.
    "invitee.created": "confirmed",
    "invitee.canceled": "canceled",
}


def normalize_appointment_status(raw: str) -> str:
    """Map a GHL status or a Calendly event name onto a canonical appointment status."""
    key = re.sub(r"[\s_\-]+", " ", raw.strip().lower())
    status = _APPOINTMENT_ALIASES.get(key)
    if status is None:
        raise ValueError(f"unknown appointment status: {raw!r}")
    return status


_NUMBER = r"(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(k|m)?"
_EXACT_RE: Final = re.compile(rf"^{_NUMBER}$")
_OPEN_RE: Final = re.compile(rf"^{_NUMBER}\s*(?:\+|plus|or more|and above|and up)$")
_RANGE_RE: Final = re.compile(rf"^{_NUMBER}\s*(?:-|–|—|to)\s*{_NUMBER}$")
_NOISE_RE: Final = re.compile(r"\b(?:employees?|people|staff|headcount)\b")
_SOLO: Final[frozenset[str]] = frozenset({"self-employed", "self employed", "myself only"})

# What platforms put in a field they have no value for: the value is unknown, not a segment.
PLACEHOLDERS: Final[frozenset[str]] = frozenset({"-", "n/a", "none", "unknown"})


def is_placeholder(raw: str | None) -> bool:
    """Blank, or a placeholder (case and surrounding blanks ignored)."""
    text = (raw or "").strip().lower()
    return not text or text in PLACEHOLDERS


def _to_int(digits: str, suffix: str | None) -> int | None:
    value = float(digits.replace(",", ""))
    if suffix == "k":
        value *= 1_000
    elif suffix == "m":
        value *= 1_000_000
    return int(value) if value.is_integer() else None


def _bucket_for(n: int | None) -> str:
    if n is None or n <= 0:
        return "unknown"
    return next(bucket for floor, bucket in _BUCKET_FLOORS if n >= floor)


def headcount_bucket(raw: str | int | None) -> str:
    """Bucket a headcount as the source gives it (docs/definitions.md).

    An exact number lands in the bucket containing it, a range by its lower bound, an open
    range ``N+`` where N+1 lands; ``k`` means thousand; self-employed and "Myself Only" are
    ``1-10``; blank, zero, negative, a placeholder or unparseable is ``unknown``.
    """
    if raw is None or isinstance(raw, bool):
        return "unknown"
    if isinstance(raw, int):
        return _bucket_for(raw)
    if is_placeholder(raw):
        return "unknown"
    text = _NOISE_RE.sub(" ", raw.strip().lower()).strip()
    text = re.sub(r"\s+", " ", text)
    if text in _SOLO:
        return "1-10"
    if match := _EXACT_RE.match(text):
        return _bucket_for(_to_int(match[1], match[2]))
    if match := _OPEN_RE.match(text):
        n = _to_int(match[1], match[2])
        return _bucket_for(None if n is None else n + 1)
    if match := _RANGE_RE.match(text):
        low, high = _to_int(match[1], match[2]), _to_int(match[3], match[4])
        if low is None or high is None or high < low:
            return "unknown"
        return _bucket_for(low)
    return "unknown"
