"""The AI vs setter experiment's verdict from the `ai_vs_setter` mart: each arm's booking
rate with its Wilson 95 % interval, the difference with Newcombe's interval, and — while the
interval still holds zero — how many positive replies per arm would settle it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final

from sender_service.stats import difference_interval, sample_size_per_arm, wilson_interval

AI_ARM: Final = "AI_AUTO_SEND"
SETTER_ARM: Final = "SETTER_MANAGED"
# The difference to plan for when the observed one is zero (or there is none yet).
PLANNING_DIFFERENCE: Final = 0.10


@dataclass(frozen=True)
class ArmResult:
    arm: str
    positive_leads: int
    booked_leads: int
    booking_rate: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True)
class Verdict:
    ai: ArmResult
    setter: ArmResult
    difference: float | None  # AI minus setter
    difference_low: float | None
    difference_high: float | None
    conclusive: bool
    winner: str | None
    # Inconclusive only: positive replies needed per arm at 80 % power, two-sided 5 %.
    needed_per_arm_observed: int | None
    needed_per_arm_10_points: int | None
    more_needed_ai: int | None
    more_needed_setter: int | None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def sentence(self) -> str:
        if self.difference is None:
            return "No verdict yet: an arm has no positive leads."
        diff = (
            f"AI minus setters {self.difference:+.1%} "
            f"(95 % interval {self.difference_low:+.1%} to {self.difference_high:+.1%})"
        )
        if self.conclusive:
            who = "AI auto-send" if self.winner == AI_ARM else "Setter-managed"
            return f"Conclusive: {who} books more positive leads; {diff}."
        needed = self.needed_per_arm_observed or self.needed_per_arm_10_points
        basis = "the observed" if self.needed_per_arm_observed else "a 10-point"
        return (
            f"Inconclusive: {diff} holds zero. To detect {basis} difference at 80 % power, "
            f"about {needed:,} positive replies per arm are needed: "
            f"{self.more_needed_ai:,} more in the AI arm, "
            f"{self.more_needed_setter:,} more in the setter arm."
        )


def _arm(rows: dict[str, dict[str, Any]], arm: str) -> ArmResult:
    row = rows.get(arm, {})
    n, k = int(row.get("positive_leads") or 0), int(row.get("booked_leads") or 0)
    interval = wilson_interval(k, n)
    return ArmResult(arm, n, k, k / n if n else None, *(interval if interval else (None, None)))


def _planned(rate: float, difference: float) -> tuple[float, float]:
    """Two rates `difference` apart centred on `rate`, kept inside [0, 1]."""
    low = min(max(rate - difference / 2, 0.0), 1.0 - difference)
    return low, low + difference


def verdict(arm_rows: list[dict[str, Any]]) -> Verdict:
    rows = {str(r["arm"]): r for r in arm_rows}
    ai, setter = _arm(rows, AI_ARM), _arm(rows, SETTER_ARM)
    interval = difference_interval(
        ai.booked_leads, ai.positive_leads, setter.booked_leads, setter.positive_leads
    )
    if interval is None or ai.booking_rate is None or setter.booking_rate is None:
        return Verdict(ai, setter, None, None, None, False, None, None, None, None, None)
    low, high = interval
    difference = ai.booking_rate - setter.booking_rate
    conclusive = low > 0 or high < 0
    winner = (AI_ARM if low > 0 else SETTER_ARM) if conclusive else None
    observed = needed_10 = more_ai = more_setter = None
    if not conclusive:
        pooled = (ai.booked_leads + setter.booked_leads) / (
            ai.positive_leads + setter.positive_leads
        )
        observed = sample_size_per_arm(ai.booking_rate, setter.booking_rate)
        needed_10 = sample_size_per_arm(*_planned(pooled, PLANNING_DIFFERENCE))
        target = observed or needed_10 or 0
        more_ai = max(0, target - ai.positive_leads)
        more_setter = max(0, target - setter.positive_leads)
    return Verdict(
        ai,
        setter,
        difference,
        low,
        high,
        conclusive,
        winner,
        observed,
        needed_10,
        more_ai,
        more_setter,
    )


def format_rate(result: ArmResult) -> str:
    if result.booking_rate is None:
        return "—"
    assert result.ci_low is not None and result.ci_high is not None
    return f"{result.booking_rate:.1%} ({result.ci_low:.1%}–{result.ci_high:.1%})"
