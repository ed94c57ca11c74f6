"""The auto-send rules, one per row."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from sender_service.pipeline.gate import (
    Decision,
    GateFacts,
    SkipFacts,
    decide,
    stored_confidence,
)

CLEAR = SkipFacts(
    auto_send_enabled=True,
    opted_out=False,
    blacklisted=False,
    automated_reply=False,
    superseded=False,
    setter_answered=False,
    ai_paused=False,
)
GOOD = GateFacts(
    skip=CLEAR,
    confidence=0.95,
    safe_to_send=True,
    evaluation_reason="fine",
    threshold=Decimal("0.90"),
    unresolved_placeholders=(),
    service_failure=None,
    recent_auto_send=False,
    send_at=None,
)


def test_a_good_draft_is_sent_now() -> None:
    assert decide(GOOD).action == "send_now"


def test_exactly_at_threshold_is_sent() -> None:
    assert decide(replace(GOOD, confidence=0.90)).action == "send_now"


def test_confidence_is_compared_as_returned_and_shown_with_its_digits() -> None:
    decision = decide(replace(GOOD, confidence=0.8996))
    assert decision == Decision("needs_review", "confidence 0.8996 below threshold 0.90: fine")
    assert decide(replace(GOOD, confidence=0.9)).reason == "confidence 0.90 ≥ 0.90 and safe"


@pytest.mark.parametrize("returned", [0.8996, 0.9, 0.9004, 0.94999, 0.95, 0.951, 1.0, 0.0])
@pytest.mark.parametrize("threshold", ["0.90", "0.95", "0.905", "1.000", "0"])
def test_the_stored_confidence_gives_the_same_answer_as_the_returned_one(
    returned: float, threshold: str
) -> None:
    """The send-time re-check reads the stored (3-decimal) confidence: same verdict."""
    limit = Decimal(threshold)
    assert (stored_confidence(returned) >= limit) == (Decimal(str(returned)) >= limit)


def test_a_hold_for_a_person_comes_after_skips_and_before_scores() -> None:
    held = replace(GOOD, held_for_person="the campaign is archived")
    assert decide(held) == Decision("needs_review", "the campaign is archived")
    assert decide(replace(held, skip=replace(CLEAR, opted_out=True))).action == "skip"


def test_a_send_window_makes_it_later() -> None:
    later = datetime(2026, 11, 30, 9, tzinfo=UTC)
    decision = decide(replace(GOOD, send_at=later))
    assert decision.action == "send_later" and "2026-11-30 09:00" in decision.reason


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ("auto_send_enabled", "switched off"),
        ("opted_out", "opted out"),
        ("blacklisted", "not to be contacted"),
        ("automated_reply", "automated"),
        ("superseded", "superseded"),
        ("setter_answered", "setter already answered"),
        ("ai_paused", "took the lead over"),
    ],
)
def test_skip_rules(field: str, reason: str) -> None:
    flipped = replace(CLEAR, **{field: not getattr(CLEAR, field)})
    decision = decide(replace(GOOD, skip=flipped))
    assert decision.action == "skip"
    assert reason in decision.reason


def test_skip_wins_over_review() -> None:
    facts = replace(GOOD, skip=replace(CLEAR, opted_out=True), confidence=0.1)
    assert decide(facts).action == "skip"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"confidence": 0.89}, "below threshold 0.90"),
        ({"confidence": None}, "confidence none"),
        (
            {"safe_to_send": False, "evaluation_reason": "promises a discount"},
            "promises a discount",
        ),
        ({"safe_to_send": None}, "unsafe"),
        ({"unresolved_placeholders": ("calendarLink",)}, "{calendarLink}"),
        ({"service_failure": "LLM timed out"}, "LLM timed out"),
        ({"recent_auto_send": True}, "within 24 h"),
        ({"threshold": Decimal("0.99")}, "below threshold 0.99"),
    ],
)
def test_review_rules(change: dict[str, object], reason: str) -> None:
    decision = decide(replace(GOOD, **change))  # type: ignore[arg-type]
    assert decision.action == "needs_review"
    assert reason in decision.reason
