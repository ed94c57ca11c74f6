"""The auto-send rules (docs/flows.md), as one pure function of what is known.

`skip` rules come first (nobody should be bothered), then `needs_review` (a person decides),
and only a draft that passes everything is sent — now, or later in the campaign's window.
The outbound guard's findings (`outbound_guard`) come before the evaluator's verdict: no
score an LLM gives lets a draft the guard stopped go out.
Every rule runs again just before a send goes out, with the campaign and workspace as they
are then (`sending.system_sender`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Literal

from sender_service.pipeline.outbound_guard import Finding, Rule
from sender_service.pipeline.outbound_guard import reason as guard_reason

if TYPE_CHECKING:
    from sender_service.db.models import EmailCampaign

# `revise` is recorded by the revision loop (`pipeline.revision`), never returned by `decide`.
Action = Literal["skip", "needs_review", "send_now", "send_later", "revise"]


@dataclass(frozen=True)
class SkipFacts:
    """What can make sending pointless or wrong, re-read just before any send."""

    auto_send_enabled: bool
    opted_out: bool
    blacklisted: bool
    automated_reply: bool
    superseded: bool
    setter_answered: bool
    ai_paused: bool


@dataclass(frozen=True)
class GateFacts:
    skip: SkipFacts
    confidence: float | Decimal | None  # as the evaluator returned it, never rounded
    safe_to_send: bool | None
    evaluation_reason: str
    threshold: Decimal
    unresolved_placeholders: tuple[str, ...]
    service_failure: str | None
    recent_auto_send: bool
    send_at: datetime | None  # None: now; else when the delay window and hours allow
    # Why a person must decide whatever the scores say: the campaign no longer auto-sends,
    # the reply reads as an opt-out, it is untracked or not a positive reply.
    held_for_person: str | None = None
    # What the outbound guard found in the text about to be sent.
    guard: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str
    guard_rules: tuple[Rule, ...] = ()  # the guard's rules, when they are the reason


@dataclass(frozen=True)
class Skip:
    code: str
    reason: str


_SKIP_RULES: tuple[tuple[str, str, str], ...] = (
    # (fact, code, reason); a fact that holds (or, for the kill switch, fails) means skip.
    ("auto_send_enabled", "kill_switch", "auto-send is switched off for this workspace"),
    ("opted_out", "opted_out", "the lead opted out"),
    ("blacklisted", "blacklisted", "the lead asked not to be contacted"),
    ("automated_reply", "automated", "the reply is automated"),
    ("superseded", "superseded", "a newer reply from the lead superseded this draft"),
    ("setter_answered", "setter_answered", "a setter already answered"),
    ("ai_paused", "paused", "a setter took the lead over"),
)


# A skipped draft is closed when it can never go out; after a pause or the kill switch it
# stays open, so a setter may still use it.
_STATUS_AFTER_SKIP: dict[str, str] = {
    "superseded": "superseded",
    "setter_answered": "superseded",
    "opted_out": "rejected",
    "blacklisted": "rejected",
}


def campaign_hold(campaign: EmailCampaign) -> str | None:
    """Why the campaign, as it is now, lets no AI send out, or None."""
    if campaign.response_mode != "AI_AUTO_SEND":
        return f"the campaign is now {campaign.response_mode}"
    if campaign.archived:
        return "the campaign is archived"
    return None


def draft_status_after(skip: Skip, current: str) -> str:
    return _STATUS_AFTER_SKIP.get(skip.code, current)


def skip_reason(facts: SkipFacts) -> Skip | None:
    """Why the draft must not go out and nobody needs to be told, or None."""
    for fact, code, reason in _SKIP_RULES:
        value = getattr(facts, fact)
        if (not value) if fact == "auto_send_enabled" else value:
            return Skip(code, reason)
    return None


def stored_confidence(confidence: float) -> Decimal:
    """The evaluator's confidence for a 3-decimal column, rounded down: thresholds have at most
    3 decimals, so `stored ≥ threshold` holds exactly when `returned ≥ threshold` does."""
    return Decimal(str(confidence)).quantize(Decimal("0.001"), rounding=ROUND_FLOOR)


def shown_score(confidence: float | Decimal) -> str:
    """Every digit the evaluator gave (0.8996 stays 0.8996, never 0.90), at least two."""
    text = format(Decimal(str(confidence)).normalize(), "f")
    whole, _, digits = text.partition(".")
    return f"{whole}.{digits.ljust(2, '0')}"


def decide(facts: GateFacts) -> Decision:
    skip = skip_reason(facts.skip)
    if skip:
        return Decision("skip", skip.reason)
    if facts.held_for_person:
        return Decision("needs_review", facts.held_for_person)
    if facts.service_failure:
        return Decision("needs_review", f"outside service failed: {facts.service_failure}")
    if facts.unresolved_placeholders:
        # The template's own check of the guard's `placeholder` rule, named and counted as it.
        names = ", ".join("{" + n + "}" for n in facts.unresolved_placeholders)
        unfilled = Finding("placeholder", f"{names} left unfilled")
        return Decision("needs_review", guard_reason([unfilled]), guard_rules=("placeholder",))
    if facts.guard:
        rules = tuple(dict.fromkeys(f.rule for f in facts.guard))
        return Decision("needs_review", guard_reason(facts.guard), guard_rules=rules)
    if facts.safe_to_send is not True:
        return Decision("needs_review", f"judged unsafe: {facts.evaluation_reason}")
    threshold = shown_score(facts.threshold)
    if facts.confidence is None or Decimal(str(facts.confidence)) < facts.threshold:
        shown = "none" if facts.confidence is None else shown_score(facts.confidence)
        return Decision(
            "needs_review",
            f"confidence {shown} below threshold {threshold}: {facts.evaluation_reason}",
        )
    if facts.recent_auto_send:
        return Decision("needs_review", "the lead already got an automatic reply within 24 h")
    if facts.send_at is not None:
        return Decision(
            "send_later",
            f"held for the campaign's send window until {facts.send_at:%Y-%m-%d %H:%M %Z}",
        )
    return Decision(
        "send_now", f"confidence {shown_score(facts.confidence)} ≥ {threshold} and safe"
    )
