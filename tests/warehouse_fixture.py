"""A small DuckDB warehouse with the marts' tables (same columns as dbt/models/marts)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

MARTS: dict[str, str] = {
    "campaign_kpis": """workspace_id uuid, email_campaign_id uuid, campaign_name varchar,
        response_mode varchar, archived boolean, leads bigint, leads_replied bigint,
        positive_leads bigint, meetings_requested_leads bigint, booked_leads bigint,
        booked_positive_leads bigint, reply_rate double, positive_rate double,
        meeting_request_rate double, booking_rate double, ai_sends bigint, setter_sends bigint,
        sequence_sends bigint, median_first_response_seconds double""",
    "campaign_segment_kpis": """workspace_id uuid, email_campaign_id uuid, segment_type varchar,
        segment_value varchar, leads bigint, leads_replied bigint, positive_leads bigint,
        meetings_requested_leads bigint, booked_leads bigint, booked_positive_leads bigint,
        reply_rate double, positive_rate double, meeting_request_rate double,
        booking_rate double, median_first_response_seconds double""",
    "lead_booking_status": """workspace_id uuid, lead_id uuid, email_campaign_id uuid,
        booking_provider varchar, is_positive boolean, is_meeting_requested boolean,
        is_booked boolean, booked_at timestamptz, appointment_status varchar,
        first_positive_at timestamptz, first_response_at timestamptz, first_response_by varchar,
        response_seconds bigint, arm varchar""",
    "ai_vs_setter": """workspace_id uuid, arm varchar, positive_leads bigint,
        responded_leads bigint, median_response_seconds double, p90_response_seconds double,
        booked_leads bigint, booking_rate double, booking_rate_ci_low double,
        booking_rate_ci_high double""",
    "draft_outcomes": """workspace_id uuid, email_campaign_id uuid, week_start date,
        drafts bigint, auto_sent bigint, approved_unchanged bigint, sent_after_edit bigint,
        rejected bigint, unused bigint, booked_within_30d bigint, pending bigint,
        auto_send_share double, guard_stopped bigint, guard_stopped_link bigint,
        guard_stopped_contact bigint, guard_stopped_pricing bigint,
        guard_stopped_placeholder bigint, guard_stopped_language bigint,
        guard_stopped_length bigint, guard_stopped_echo bigint""",
    "weekly_campaign_report": """workspace_id uuid, email_campaign_id uuid, campaign_name varchar,
        week_start date, new_positive_leads bigint, new_meetings_requested_leads bigint,
        new_booked_leads bigint, ai_sends bigint, setter_sends bigint, sequence_sends bigint""",
}

CAMPAIGN_NAMES = [
    "SaaS founders — Q1",
    "Logistics VPs",
    "Dental clinics UK",
    "Fintech CFOs",
    "Agencies 11-50",
    "E-commerce ops",
    "HR tech buyers",
    "Manufacturing plant managers",
    "Legal firms partners",
    "Real estate brokers",
    "Cybersecurity CISOs",
    "Healthcare admins",
]


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5)
    return (centre - spread) / (1 + z * z / n), (centre + spread) / (1 + z * z / n)


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        con.execute(f"insert into marts.{table} ({columns}) values ({marks})", list(row.values()))


def build(
    path: Path, workspace: uuid.UUID, week: date, *, arm_sizes: tuple[int, int]
) -> dict[str, Any]:
    """Twelve campaigns with five weeks of activity for `workspace`, one for another workspace."""
    rng = random.Random(7)
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    for name, columns in MARTS.items():
        con.execute(f"create table marts.{name} ({columns})")
    campaigns: list[dict[str, Any]] = []
    for i, name in enumerate(CAMPAIGN_NAMES):
        cid = uuid.uuid4()
        positive = rng.randint(3, 60)
        booked = min(positive, int(positive * rng.uniform(0.02, 0.5)))
        if i == 1:  # many positives, few bookings
            positive, booked = 55, 2
        leads = positive * rng.randint(4, 9)
        campaigns.append(
            {
                "workspace_id": workspace,
                "email_campaign_id": cid,
                "campaign_name": name,
                "response_mode": "AI_AUTO_SEND" if i % 2 else "SETTER_MANAGED",
                "archived": False,
                "leads": leads,
                "leads_replied": positive * 2,
                "positive_leads": positive,
                "meetings_requested_leads": positive // 2,
                "booked_leads": booked,
                "booked_positive_leads": booked,
                "reply_rate": positive * 2 / leads,
                "positive_rate": 0.5,
                "meeting_request_rate": (positive // 2) / positive,
                "booking_rate": booked / positive,
                "ai_sends": rng.randint(0, 40),
                "setter_sends": rng.randint(0, 40),
                "sequence_sends": rng.randint(0, 40),
                "median_first_response_seconds": rng.uniform(30, 7200),
            }
        )
    other = uuid.uuid4()
    insert(
        con,
        "campaign_kpis",
        [
            *campaigns,
            {
                **campaigns[0],
                "workspace_id": other,
                "email_campaign_id": uuid.uuid4(),
                "campaign_name": "Other workspace secret",
            },
        ],
    )
    weekly = []
    for k in range(5):
        ws = week - timedelta(weeks=4 - k)
        for c in campaigns[: 8 + k]:
            pos = rng.randint(0, 9) + k
            weekly.append(
                {
                    "workspace_id": workspace,
                    "email_campaign_id": c["email_campaign_id"],
                    "campaign_name": c["campaign_name"],
                    "week_start": ws,
                    "new_positive_leads": pos,
                    "new_meetings_requested_leads": pos // 2,
                    "new_booked_leads": pos // 3,
                    "ai_sends": rng.randint(0, 12),
                    "setter_sends": rng.randint(0, 12),
                    "sequence_sends": rng.randint(0, 12),
                }
            )
    insert(con, "weekly_campaign_report", weekly)
    arms = []
    for arm, n, rate in (
        ("AI_AUTO_SEND", arm_sizes[0], 0.34),
        ("SETTER_MANAGED", arm_sizes[1], 0.18),
    ):
        booked = round(n * rate)
        low, high = wilson(booked, n)
        arms.append(
            {
                "workspace_id": workspace,
                "arm": arm,
                "positive_leads": n,
                "responded_leads": n - 1,
                "median_response_seconds": 40.0 if arm == "AI_AUTO_SEND" else 5400.0,
                "p90_response_seconds": 300.0,
                "booked_leads": booked,
                "booking_rate": booked / n,
                "booking_rate_ci_low": low,
                "booking_rate_ci_high": high,
            }
        )
    insert(con, "ai_vs_setter", arms)
    insert(
        con,
        "draft_outcomes",
        [
            {
                "workspace_id": workspace,
                "email_campaign_id": c["email_campaign_id"],
                "week_start": week,
                "drafts": 10,
                "auto_sent": 4,
                "approved_unchanged": 2,
                "sent_after_edit": 1,
                "rejected": 1,
                "unused": 1,
                "booked_within_30d": 2,
                "pending": 1,
                "auto_send_share": 0.5,
                "guard_stopped": 1 + i,
                "guard_stopped_link": i,
                "guard_stopped_contact": 0,
                "guard_stopped_pricing": 1,
                "guard_stopped_placeholder": 0,
                "guard_stopped_language": 0,
                "guard_stopped_length": 0,
                "guard_stopped_echo": 1 if i == 2 else 0,
            }
            for i, c in enumerate(campaigns[:3])
        ],
    )
    segments = []
    for c in campaigns:
        for kind, value in (
            ("industry", rng.choice(["saas", "logistics", "health"])),
            ("headcount_bucket", rng.choice(["11-50", "51-200", "201-500"])),
        ):
            segments.append(
                {
                    "workspace_id": workspace,
                    "email_campaign_id": c["email_campaign_id"],
                    "segment_type": kind,
                    "segment_value": value,
                    "leads": c["leads"],
                    "positive_leads": c["positive_leads"],
                    "booked_positive_leads": c["booked_positive_leads"],
                }
            )
    insert(con, "campaign_segment_kpis", segments)
    start = datetime.combine(week, datetime.min.time(), UTC) + timedelta(hours=10)
    insert(
        con,
        "lead_booking_status",
        [
            {
                "workspace_id": workspace,
                "lead_id": uuid.uuid4(),
                "email_campaign_id": campaigns[0]["email_campaign_id"],
                "booking_provider": "GHL",
                "is_positive": True,
                "is_meeting_requested": False,
                "is_booked": False,
                "first_positive_at": start + timedelta(hours=i),
                "first_response_by": by,
                "response_seconds": seconds,
                "arm": "AI_AUTO_SEND",
            }
            for i, (by, seconds) in enumerate(
                [("ai", 35), ("ai", 50), ("setter", 3600), (None, None)]
            )
        ],
    )
    con.close()
    return {"campaigns": campaigns, "other": other}
