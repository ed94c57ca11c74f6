"""The small fixed part of a synthetic data set: workspaces, people, campaigns and their arm
history, follow-up sequences. Everything is drawn from one seeded `random.Random`, ids included,
so a seed always yields the same rows."""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sender_service.db.models import DEFAULT_REVIEW_EMAIL, DEFAULT_THRESHOLD
from sender_service.seed import vocab

DAY = 86_400.0
HOUR = 3_600.0
WINDOW_DAYS = 84  # twelve weeks of history
FOLLOWUP_DELAYS_DAYS = (2, 4, 7)
# The sequence's step templates, in the placeholders the follow-up sender renders.
FOLLOWUP_TEMPLATES = tuple(
    body.format(first="{firstName}", link="{calendarLink}") for body in vocab.FOLLOWUP_BODIES
)

_WORKSPACE_NAMES = (
    "Northwind Growth",
    "Bluepeak Outreach",
    "Cedar Demand",
    "Harbor Pipeline",
    "Summit Appointments",
    "Lumen Leads",
)
_CAMPAIGN_THEMES = (
    "Founders - Q3 push",
    "Agency owners - case study",
    "Ops leaders - ROI angle",
    "Healthcare clinics - referral",
    "E-commerce - holiday prep",
    "Real estate brokers - pipeline",
)
# Each campaign's arm over the period, as (days before the end, mode, threshold, reason):
# some stay put, some switch mid-period, one changes its threshold.
_ARM_PLANS: tuple[tuple[tuple[float, str, str, str], ...], ...] = (
    (),
    ((95, "AI_AUTO_SEND", "0.90", "experiment"),),
    ((42, "AI_AUTO_SEND", "0.90", "experiment"),),
    ((95, "AI_AUTO_SEND", "0.85", "experiment"), (35, "SETTER_MANAGED", "0.85", "manual")),
    ((95, "AI_AUTO_SEND", "0.90", "experiment"), (50, "AI_AUTO_SEND", "0.80", "manual")),
    (),
)


def ts(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def new_id(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


@dataclass
class CampaignPlan:
    id: uuid.UUID
    external_id: str
    name: str
    steps: int
    reply_rate: float
    created_at: float
    # (changed_at, mode, threshold, reason, from_mode, changed_by), oldest first.
    changes: list[tuple[float, str, Decimal, str, str | None, uuid.UUID | None]]

    def arm_at(self, t: float) -> tuple[str, float]:
        """The mode and threshold in force at `t` (each reply is attributed to it)."""
        i = bisect_right([c[0] for c in self.changes], t) - 1
        _, mode, threshold, *_ = self.changes[max(i, 0)]
        return mode, float(threshold)


@dataclass
class WorkspacePlan:
    id: uuid.UUID
    index: int
    name: str
    provider: str
    booking_link: str
    campaigns: list[CampaignPlan]
    admin_id: uuid.UUID
    setter_ids: list[uuid.UUID]
    sequence_id: uuid.UUID
    mailboxes: list[tuple[int, str]]
    # Provider id counters: each id space is separate, as on the real platforms.
    counters: dict[str, int] = field(default_factory=dict)

    def next(self, space: str) -> int:
        self.counters[space] = self.counters.get(space, 0) + 1
        return self.counters[space]


@dataclass
class Plan:
    start: float
    end: float
    workspaces: list[WorkspacePlan]
    rows: dict[str, list[tuple[Any, ...]]]


def build_plan(rng: random.Random, n_workspaces: int, end: datetime) -> Plan:
    """The workspaces (alternately GHL and Calendly) and all their small tables' rows."""
    end_t = end.timestamp()
    start_t = end_t - WINDOW_DAYS * DAY
    rows: dict[str, list[tuple[Any, ...]]] = {
        name: []
        for name in (
            "workspaces",
            "users",
            "memberships",
            "email_campaigns",
            "campaign_mode_changes",
            "followup_sequences",
            "followup_steps",
        )
    }
    workspaces = []
    for index in range(n_workspaces):
        provider = "GHL" if index % 2 == 0 else "CALENDLY"
        base = _WORKSPACE_NAMES[index % len(_WORKSPACE_NAMES)]
        name = base if index < len(_WORKSPACE_NAMES) else f"{base} {index + 1}"
        slug = name.lower().replace(" ", "-")
        ws_id = new_id(rng)
        created = start_t - 120 * DAY
        secret_hash = hashlib.sha256(rng.getrandbits(256).to_bytes(32, "big")).hexdigest()
        ghl: tuple[str | None, str | None, str | None]
        if provider == "GHL":
            location = f"loc{rng.getrandbits(48):012x}"
            booking = f"https://api.leadconnectorhq.com/widget/booking/{location}"
            ghl = (location, f"cal{rng.getrandbits(48):012x}", booking)
            calendly = None
        else:
            booking = f"https://calendly.com/{slug}/intro-call"
            ghl, calendly = (None, None, None), booking
        ai_context = {
            "offer": f"{name} books qualified sales calls for B2B teams.",
            "tone": "warm, brief, no hype",
            "signature": f"The {name} team",
        }
        rows["workspaces"].append(
            (ws_id, name, "America/New_York" if index % 2 == 0 else "Europe/London", provider)
            + (calendly, *ghl)
            + ("emailbison", "https://emailbison.example.com", DEFAULT_REVIEW_EMAIL, True)
            + (secret_hash, json.dumps(ai_context), ts(created))
        )
        admin_id = new_id(rng)
        setter_ids = [new_id(rng) for _ in range(3)]
        for n, (user_id, role) in enumerate(
            [(admin_id, "admin")] + [(s, "setter") for s in setter_ids]
        ):
            email = f"{role}{n}@{slug}.example.com"
            rows["users"].append((user_id, email, ts(created)))
            rows["memberships"].append((new_id(rng), user_id, ws_id, role, ts(created)))
        campaigns = [
            _campaign(rng, rows, ws_id, k, admin_id, end_t, theme)
            for k, theme in enumerate(_CAMPAIGN_THEMES)
        ]
        sequence_id = new_id(rng)
        rows["followup_sequences"].append(
            (sequence_id, ws_id, "Positive reply, then silence", True, ts(created))
        )
        for step, days in enumerate(FOLLOWUP_DELAYS_DAYS, start=1):
            # No subject: follow-ups reply in the lead's thread.
            rows["followup_steps"].append(
                (new_id(rng), sequence_id, step, int(days * DAY), "email")
                + (FOLLOWUP_TEMPLATES[step - 1], None, ts(created))
            )
        mailboxes = [(4000 + index * 100 + m, f"alex{m}@{slug}-mail.com") for m in range(4)]
        workspaces.append(
            WorkspacePlan(
                ws_id,
                index,
                name,
                provider,
                booking,
                campaigns,
                admin_id,
                setter_ids,
                sequence_id,
                mailboxes,
            )  # fmt: skip
        )
    return Plan(start_t, end_t, workspaces, rows)


def _campaign(
    rng: random.Random,
    rows: dict[str, list[tuple[Any, ...]]],
    ws_id: uuid.UUID,
    k: int,
    admin_id: uuid.UUID,
    end_t: float,
    theme: str,
) -> CampaignPlan:
    campaign_id = new_id(rng)
    created = end_t - (100 + rng.randint(0, 15)) * DAY
    changes: list[tuple[float, str, Decimal, str, str | None, uuid.UUID | None]] = [
        (created, "SETTER_MANAGED", DEFAULT_THRESHOLD, "created", None, None)
    ]
    for days_before, mode, threshold, reason in _ARM_PLANS[k % len(_ARM_PLANS)]:
        by = admin_id if reason == "manual" else None
        at = end_t - days_before * DAY + rng.uniform(0, HOUR * 8)
        changes.append((at, mode, Decimal(threshold), reason, changes[-1][1], by))
    plan = CampaignPlan(
        id=campaign_id,
        external_id=str(1000 + k + 100 * rng.randint(1, 9)),
        name=theme,
        steps=rng.randint(9, 13),
        reply_rate=rng.uniform(0.28, 0.42),
        created_at=created,
        changes=changes,
    )
    current_mode, current_threshold = changes[-1][1], changes[-1][2]
    in_experiment = any(c[3] == "experiment" for c in changes)
    delay = (60, 900) if current_mode == "AI_AUTO_SEND" else (0, 0)
    rows["email_campaigns"].append(
        (campaign_id, ws_id, plan.external_id, theme, current_mode, current_threshold)
        + (*delay, in_experiment)
        + (ts(created),)
    )
    for at, to_mode, thr, reason, from_mode, by in changes:
        rows["campaign_mode_changes"].append(
            (new_id(rng), ws_id, campaign_id, from_mode, to_mode, thr, reason, by, ts(at), ts(at))
        )
    return plan


# Column lists for the rows above, in the order the tuples hold them.
PLAN_COLUMNS: dict[str, tuple[str, ...]] = {
    "workspaces": (
        "id", "name", "timezone", "booking_provider", "calendly_scheduling_url",
        "ghl_location_id", "ghl_calendar_id", "ghl_booking_url", "email_platform",
        "email_platform_url", "review_slack_email", "auto_send_enabled", "webhook_secret_hash",
        "ai_context", "created_at",
    ),
    "users": ("id", "email", "created_at"),
    "memberships": ("id", "user_id", "workspace_id", "role", "created_at"),
    "email_campaigns": (
        "id", "workspace_id", "external_id", "name", "response_mode",
        "auto_send_confidence_threshold", "send_delay_min_seconds", "send_delay_max_seconds",
        "in_experiment", "created_at",
    ),
    "campaign_mode_changes": (
        "id", "workspace_id", "email_campaign_id", "from_mode", "to_mode", "threshold",
        "reason", "changed_by", "changed_at", "created_at",
    ),
    "followup_sequences": ("id", "workspace_id", "name", "active", "created_at"),
    "followup_steps": (
        "id", "sequence_id", "step_number", "delay_seconds", "channel", "template", "subject",
        "created_at",
    ),
}  # fmt: skip
