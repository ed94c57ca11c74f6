"""The marts on `replyline seed --leads 100000`, in a scratch database dropped afterwards.

- the whole refresh (`replyline warehouse refresh`: replication, checks, dbt build with its
  tests, publish), from an empty warehouse and again with nothing changed;
- a KPI query (per-campaign booked-per-positive) on `marts.campaign_kpis` vs the same
  aggregation computed live on Postgres, the SQL a naive dashboard would run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import psycopg

from bench._scratch import scratch_database
from sender_service.definitions import POSITIVE_SENTIMENTS

LEADS = 100_000
REPEATS = 5

MARTS_KPI = """
select campaign_name, positive_leads, booked_positive_leads,
       booked_positive_leads * 1.0 / nullif(positive_leads, 0) as booked_per_positive
from marts.campaign_kpis
order by booked_per_positive desc nulls last
"""

# What a dashboard would run on the operational store: every lead joined to its replies.
LIVE_KPI = """
select campaign_name, positive_leads, booked_positive_leads,
       booked_positive_leads * 1.0 / nullif(positive_leads, 0) as booked_per_positive
from (
    select c.name as campaign_name,
           count(distinct l.id) filter (where m.sentiment = any(%(positive)s)) as positive_leads,
           count(distinct l.id) filter (
               where m.sentiment = any(%(positive)s)
               and coalesce(l.appointment_status, '') <> 'canceled'
               and case w.booking_provider
                   when 'GHL' then coalesce(l.ghl_appointment_id, '') <> ''
                   else coalesce(l.calendly_invitee_uri, '') <> ''
                       or coalesce(l.calendly_scheduled_event_uri, '') <> ''
               end
           ) as booked_positive_leads
    from email_campaigns c
    join workspaces w on w.id = c.workspace_id
    left join leads l on l.email_campaign_id = c.id
    left join messages m on m.lead_id = l.id and m.direction = 'inbound'
    group by c.id, c.name
) per_campaign
order by booked_per_positive desc nulls last
"""


def _best(run: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of REPEATS runs (after one warm-up), and the result."""
    result = run()
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return min(times), result


def _replyline(env: dict[str, str], *args: str) -> tuple[float, str]:
    exe = os.path.join(os.path.dirname(sys.executable), "replyline")
    started = time.perf_counter()
    done = subprocess.run([exe, *args], env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"replyline {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return time.perf_counter() - started, done.stdout


def _step_seconds(output: str, step: str) -> float:
    match = re.search(rf"^{step}: done in ([\d.]+)s", output, re.MULTILINE)
    return float(match.group(1)) if match else float("nan")


def main() -> None:
    with scratch_database() as url:
        with tempfile.TemporaryDirectory() as tmp:
            published = Path(tmp) / "warehouse.duckdb"
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "WAREHOUSE_PATH": str(published),
                "REPLYLINE_VAR_DIR": str(Path(tmp) / "var"),
                "DAGSTER_HOME": str(Path(tmp) / "dagster"),
            }
            seconds, _ = _replyline(
                env,
                "seed",
                "--workspaces",
                "2",
                "--leads",
                str(LEADS),
                "--random-seed",
                "7",
                "--as-of",
                "2026-11-20",
            )
            with psycopg.connect(url) as conn:
                row = conn.execute("select count(*) from messages").fetchone()
            print(f"seeded {LEADS:,} leads, {row[0] if row else 0:,} messages in {seconds:.1f}s")
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("vacuum analyze")

            for label in ("first (empty warehouse)", "again, nothing changed"):
                seconds, out = _replyline(env, "warehouse", "refresh")
                print(
                    f"whole refresh, {label}: {seconds:.1f}s (replicate"
                    f" {_step_seconds(out, 'replicate_postgres'):.1f}s, checks"
                    f" {_step_seconds(out, 'raw_matches_postgres'):.1f}s, dbt build"
                    f" {_step_seconds(out, 'dbt_build'):.1f}s, publish"
                    f" {_step_seconds(out, 'published_warehouse'):.1f}s)"
                )

            with duckdb.connect(str(published), read_only=True) as con:
                marts_s, marts_rows = _best(lambda: con.execute(MARTS_KPI).fetchall())
            with psycopg.connect(url) as conn:
                params = {"positive": sorted(POSITIVE_SENTIMENTS)}
                live_s, live_rows = _best(lambda: conn.execute(LIVE_KPI, params).fetchall())
            same = sorted(r[:3] for r in marts_rows) == sorted(r[:3] for r in live_rows)
            print(
                f"KPI query (booked per positive, {len(marts_rows)} campaigns): marts"
                f" {marts_s * 1000:.1f} ms vs live Postgres {live_s * 1000:.1f} ms,"
                f" ratio {live_s / marts_s:.0f}x; same numbers: {same}"
            )
