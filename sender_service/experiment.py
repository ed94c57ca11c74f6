"""Randomised assignment of campaigns to the two arms, balanced by campaign size.

Campaigns are sorted by their number of leads and cut into strata of similar size; within each
stratum the AI arm gets the number of campaigns that keeps the running count at the requested
share, picked at random. Similar sizes in each stratum keep the arms' lead totals near the
share too. The same seed gives the same plan.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session

from sender_service.campaigns import record_mode_change
from sender_service.db.models import EmailCampaign, Lead

AI_ARM = "AI_AUTO_SEND"
SETTER_ARM = "SETTER_MANAGED"


@dataclass(frozen=True)
class Assignment:
    campaign_id: str
    campaign_name: str
    leads: int
    from_mode: str
    to_mode: str


@dataclass(frozen=True)
class Plan:
    workspace_id: str
    ai_share: float
    random_seed: int
    assignments: list[Assignment]

    def summary(self) -> dict[str, Any]:
        total = sum(a.leads for a in self.assignments)
        arms = {}
        for arm in (AI_ARM, SETTER_ARM):
            chosen = [a for a in self.assignments if a.to_mode == arm]
            leads = sum(a.leads for a in chosen)
            arms[arm] = {
                "campaigns": len(chosen),
                "leads": leads,
                "lead_share": round(leads / total, 4) if total else None,
            }
        return arms

    def as_json(self, dry_run: bool) -> dict[str, Any]:
        return {
            "workspace_id": self.workspace_id,
            "ai_share": self.ai_share,
            "random_seed": self.random_seed,
            "dry_run": dry_run,
            "assignments": [asdict(a) for a in self.assignments],
            "summary": self.summary(),
        }


def plan_arms(sizes: list[tuple[str, int]], ai_share: float, rng: random.Random) -> dict[str, str]:
    """Map each campaign id to an arm; `sizes` is (id, leads) in a stable order."""
    if not 0 < ai_share < 1:
        raise ValueError("ai_share must be strictly between 0 and 1")
    ordered = sorted(sizes, key=lambda s: (-s[1], s[0]))
    # A stratum holds enough campaigns for the smaller arm to get about one of them.
    width = max(2, round(1 / min(ai_share, 1 - ai_share)))
    arms: dict[str, str] = {}
    ai_so_far = 0
    for start in range(0, len(ordered), width):
        stratum = ordered[start : start + width]
        # Randomised rounding: the running AI count stays within one campaign of the share.
        expected = ai_share * (start + len(stratum)) - ai_so_far
        wanted = math.floor(expected) + (rng.random() < expected - math.floor(expected))
        wanted = max(0, min(len(stratum), wanted))
        chosen = set(rng.sample(range(len(stratum)), wanted))
        for i, (campaign_id, _) in enumerate(stratum):
            arms[campaign_id] = AI_ARM if i in chosen else SETTER_ARM
        ai_so_far += wanted
    return arms


def assign(
    session: Session,
    workspace_id: uuid.UUID,
    ai_share: float,
    seed: int,
    *,
    dry_run: bool,
) -> Plan:
    """Put the workspace's campaigns not yet in the experiment into an arm (unless dry run)."""
    leads = (
        select(Lead.email_campaign_id, func.count().label("n"))
        .where(Lead.workspace_id == workspace_id)
        .group_by(Lead.email_campaign_id)
        .subquery()
    )
    rows = session.execute(
        select(EmailCampaign, func.coalesce(leads.c.n, 0, type_=Integer))
        .outerjoin(leads, leads.c.email_campaign_id == EmailCampaign.id)
        .where(
            EmailCampaign.workspace_id == workspace_id,
            EmailCampaign.in_experiment.is_(False),
            EmailCampaign.archived.is_(False),
        )
        .order_by(EmailCampaign.id)
        .with_for_update(of=EmailCampaign)
    ).all()
    campaigns: dict[str, tuple[EmailCampaign, int]] = {
        str(row[0].id): (row[0], int(row[1])) for row in rows
    }
    arms = plan_arms([(cid, n) for cid, (_, n) in campaigns.items()], ai_share, random.Random(seed))
    assignments = []
    for cid, (campaign, n) in sorted(campaigns.items(), key=lambda kv: (-kv[1][1], kv[0])):
        before = campaign.response_mode
        assignments.append(Assignment(cid, campaign.name, n, before, arms[cid]))
        if not dry_run:
            campaign.response_mode = arms[cid]
            campaign.in_experiment = True
            session.flush()
            record_mode_change(session, campaign, before, "experiment")
    return Plan(str(workspace_id), ai_share, seed, assignments)
