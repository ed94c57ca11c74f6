"""The locked definitions (docs/definitions.md), by table and by property."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sender_service.definitions import (
    APPOINTMENT_STATUSES,
    HEADCOUNT_BUCKETS,
    MEETING_REQUESTED_SENTIMENTS,
    POSITIVE_SENTIMENTS,
    SENTIMENTS,
    headcount_bucket,
    normalize_appointment_status,
    normalize_sentiment,
)


def test_label_sets_are_the_locked_ones() -> None:
    assert len(SENTIMENTS) == 11
    assert POSITIVE_SENTIMENTS == {
        "Interested",
        "Information Requested",
        "Meeting Requested",
        "Call Requested",
    }
    assert MEETING_REQUESTED_SENTIMENTS == {"Meeting Requested", "Call Requested"}
    assert MEETING_REQUESTED_SENTIMENTS < POSITIVE_SENTIMENTS <= set(SENTIMENTS)
    assert APPOINTMENT_STATUSES == ("confirmed", "canceled", "showed", "noshow")


@pytest.mark.parametrize("label", SENTIMENTS)
def test_every_canonical_label_normalizes_to_itself(label: str) -> None:
    assert normalize_sentiment(label) == label
    assert normalize_sentiment(f"  {label.upper()}  ") == label
    assert normalize_sentiment(label.lower().replace(" ", "_")) == label


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("interested", "Interested"),
        ("INFORMATION_REQUESTED", "Information Requested"),
        ("meeting-requested", "Meeting Requested"),
        ("Call requested", "Call Requested"),
        ("not_interested", "Not Interested"),
        ("OOO", "Out of Office"),
        ("auto-reply", "Automated Reply"),
        ("follow-up", "Follow Up"),
        ("Unsubscribe", "Blacklist"),
        ("do not contact", "Blacklist"),
        ("\tneutral\n", "Neutral"),
    ],
)
def test_platform_spellings(raw: str, expected: str) -> None:
    assert normalize_sentiment(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "very interested!!", "maybe", "Interested?"])
def test_unknown_sentiment_raises(raw: str) -> None:
    with pytest.raises(ValueError, match="unknown sentiment"):
        normalize_sentiment(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("new", "confirmed"),
        ("booked", "confirmed"),
        ("Confirmed", "confirmed"),
        ("cancelled", "canceled"),
        ("canceled", "canceled"),
        ("invalid", "canceled"),
        ("showed", "showed"),
        ("noshow", "noshow"),
        ("no_show", "noshow"),
        ("invitee.created", "confirmed"),
        ("invitee.canceled", "canceled"),
        (" NOSHOW ", "noshow"),
    ],
)
def test_appointment_statuses(raw: str, expected: str) -> None:
    assert normalize_appointment_status(raw) == expected


@pytest.mark.parametrize("raw", ["", "pending", "rescheduled", "invitee.no_show"])
def test_unknown_appointment_status_raises(raw: str) -> None:
    with pytest.raises(ValueError, match="unknown appointment status"):
        normalize_appointment_status(raw)


HEADCOUNT_TABLE: list[tuple[str | int | None, str]] = [
    # exact numbers
    ("1", "1-10"),
    ("10", "1-10"),
    ("11", "11-50"),
    (50, "11-50"),
    ("51", "51-200"),
    ("200", "51-200"),
    ("201", "201-500"),
    ("500", "201-500"),
    ("501", "501-1000"),
    ("1000", "501-1000"),
    ("1,000", "501-1000"),
    ("1001", "1001-5000"),
    ("5000", "1001-5000"),
    ("5001", "5001-10000"),
    ("10000", "5001-10000"),
    ("10001", "10001+"),
    (250000, "10001+"),
    # ranges, by their lower bound
    ("51-200", "51-200"),
    ("51 - 200 employees", "51-200"),
    ("2-10", "1-10"),
    ("11–50", "11-50"),
    ("201 to 500", "201-500"),
    ("1,001-5,000", "1001-5000"),
    ("5k-10k", "1001-5000"),
    # open ranges, where N+1 lands
    ("1,000+", "1001-5000"),
    ("10000+", "10001+"),
    ("500+", "501-1000"),
    ("10k+", "10001+"),
    ("50 +", "51-200"),
    # thousands
    ("1k", "501-1000"),
    ("1.5K", "1001-5000"),
    ("2k employees", "1001-5000"),
    # solo
    ("self-employed", "1-10"),
    ("Self Employed", "1-10"),
    ("Myself Only", "1-10"),
    ("myself only ", "1-10"),
    # unknown
    (None, "unknown"),
    ("", "unknown"),
    ("   ", "unknown"),
    ("0", "unknown"),
    (0, "unknown"),
    (-5, "unknown"),
    ("-5", "unknown"),
    ("lots", "unknown"),
    ("1.5", "unknown"),
    ("200-51", "unknown"),
    ("n/a", "unknown"),
    # placeholders
    ("-", "unknown"),
    (" N/A ", "unknown"),
    ("None", "unknown"),
    ("Unknown", "unknown"),
]


@pytest.mark.parametrize(("raw", "expected"), HEADCOUNT_TABLE)
def test_headcount_table(raw: str | int | None, expected: str) -> None:
    assert headcount_bucket(raw) == expected


def _bounds(bucket: str) -> tuple[int, float]:
    if bucket.endswith("+"):
        return int(bucket[:-1]), float("inf")
    low, high = bucket.split("-")
    return int(low), int(high)


@given(st.integers(min_value=1, max_value=10**9))
def test_every_positive_integer_lands_in_exactly_one_containing_bucket(n: int) -> None:
    bucket = headcount_bucket(n)
    containing = [
        b for b in HEADCOUNT_BUCKETS if b != "unknown" and _bounds(b)[0] <= n <= _bounds(b)[1]
    ]
    assert containing == [bucket]


@given(st.integers(min_value=1, max_value=10**7))
def test_formatting_variants_of_one_number_agree(n: int) -> None:
    expected = headcount_bucket(n)
    variants = [str(n), f"{n:,}", f" {n} ", f"{n} employees", f"{n}-{n}"]
    if n % 1000 == 0:
        variants += [f"{n // 1000}k", f"{n // 1000}K"]
    assert {headcount_bucket(v) for v in variants} == {expected}


@given(st.integers(min_value=0, max_value=10**7))
def test_open_range_lands_where_n_plus_one_does(n: int) -> None:
    assert headcount_bucket(f"{n}+") == headcount_bucket(n + 1)
    assert headcount_bucket(f"{n:,}+") == headcount_bucket(n + 1)


@given(st.integers(max_value=0))
def test_zero_and_negative_are_unknown(n: int) -> None:
    assert headcount_bucket(n) == "unknown"
