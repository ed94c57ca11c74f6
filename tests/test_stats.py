"""The closed forms against published values, and the experiment's verdict from them."""

from __future__ import annotations

import pytest

from sender_service.experiment_verdict import verdict
from sender_service.stats import difference_interval, sample_size_per_arm, wilson_interval


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),  # Newcombe (1998), Statistics in Medicine 17, table I
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_published_values(k: int, n: int, low: float, high: float) -> None:
    assert wilson_interval(k, n) == pytest.approx((low, high), abs=5e-5)


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2", "low", "high"),
    [
        (56, 70, 48, 80, 0.0524, 0.3339),  # Newcombe (1998), Statistics in Medicine 17, table II
        (9, 10, 3, 10, 0.1705, 0.8090),
    ],
)
def test_difference_interval_matches_newcombe(
    k1: int, n1: int, k2: int, n2: int, low: float, high: float
) -> None:
    assert difference_interval(k1, n1, k2, n2) == pytest.approx((low, high), abs=5e-5)


def test_sample_size_matches_the_textbook_formula() -> None:
    # 20 % vs 30 %, two-sided 5 %, 80 % power: 293.2 → 294 per arm (Fleiss, no correction).
    assert sample_size_per_arm(0.2, 0.3) == 294
    assert sample_size_per_arm(0.3, 0.2) == 294
    assert sample_size_per_arm(0.5, 0.5) is None
    # Smaller differences need more; more power needs more.
    assert sample_size_per_arm(0.2, 0.25) > 294  # type: ignore[operator]
    assert sample_size_per_arm(0.2, 0.3, power=0.9) > 294  # type: ignore[operator]


def _arms(ai: tuple[int, int], setter: tuple[int, int]) -> list[dict[str, object]]:
    return [
        {"arm": "AI_AUTO_SEND", "positive_leads": ai[0], "booked_leads": ai[1]},
        {"arm": "SETTER_MANAGED", "positive_leads": setter[0], "booked_leads": setter[1]},
    ]


def test_a_clear_difference_is_conclusive() -> None:
    result = verdict(_arms((400, 136), (400, 72)))
    assert result.conclusive and result.winner == "AI_AUTO_SEND"
    assert result.difference == pytest.approx(0.16)
    assert result.difference_low is not None and result.difference_low > 0
    assert result.more_needed_ai is None and "Conclusive: AI auto-send" in result.sentence()


def test_an_unclear_difference_says_how_many_more_replies() -> None:
    result = verdict(_arms((40, 12), (30, 6)))
    assert not result.conclusive and result.winner is None
    assert result.needed_per_arm_observed == sample_size_per_arm(0.3, 0.2) == 294
    assert (result.more_needed_ai, result.more_needed_setter) == (254, 264)
    assert "254 more in the AI arm" in result.sentence()


def test_no_difference_plans_for_ten_points() -> None:
    result = verdict(_arms((20, 5), (20, 5)))
    assert result.needed_per_arm_observed is None
    assert result.needed_per_arm_10_points == sample_size_per_arm(0.2, 0.3)


def test_an_empty_arm_has_no_verdict() -> None:
    result = verdict(_arms((20, 5), (0, 0)))
    assert result.difference is None and "no positive leads" in result.sentence()
