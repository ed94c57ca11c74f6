"""The warehouse refresh and the marts on `replyline seed`, in a scratch database dropped after.

- the whole refresh (`replyline warehouse refresh`: replication, checks, dbt build with its
  tests, publish) from an empty warehouse, again with nothing changed, and after 1 % of leads
  and messages changed, each as the real CLI in a subprocess (wall time and peak RSS); the
  same three with the code of `BENCH_BASELINE` (a git checkout, e.g. the last main) when set,
  in the same run and on the same data;
- a KPI query (per-campaign booked-per-positive) on `marts.campaign_kpis` vs the same
  aggregation computed live on Postgres, the SQL a naive dashboard would run.

`BENCH_SCALE=10` runs it on 1M leads (~10M messages) instead of 100k.

The seeded rows are dated a day back (the column default, during the seed only), as old data
is in production: a refresh re-reads rows changed in the last 5 minutes (its overlap), and
right after a seed that would be every row.
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


def _replyline(
    env: dict[str, str], *args: str, code: str | None = None
) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB) and output of one `replyline` run; `code`: a checkout
    whose `sender_service` and `dagster_project` are imported instead of this one's."""
    command = [sys.executable, "-c", "from sender_service.cli import cli; cli()", *args]
    started = time.perf_counter()
    # In the checkout's directory: `-c` puts the working directory first on sys.path.
    child = subprocess.Popen(
        command,
        env=env,
        cwd=code,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert child.stdout is not None
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"replyline {' '.join(args)} failed:\n{out}")
    return seconds, usage.ru_maxrss / 1024, out


def _step_seconds(output: str, step: str) -> float:
    match = re.search(rf"^{step}: done in ([\d.]+)s", output, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def _steps(out: str) -> str:
    if "no run started" in out:
        return "probe only, no Dagster run"
    return (
        f"replicate {_step_seconds(out, 'replicate_postgres'):.1f}s, checks"
        f" {_step_seconds(out, 'raw_matches_postgres'):.1f}s, dbt build"
        f" {_step_seconds(out, 'dbt_build'):.1f}s, publish"
        f" {_step_seconds(out, 'published_warehouse'):.1f}s"
    )


def _aged_defaults(url: str) -> dict[tuple[str, str], str]:
    """Date rows inserted from now on a day back; returns the defaults to restore."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select table_name, column_default from information_schema.columns"
            " where table_schema = 'public' and column_name = 'updated_at'"
            " and column_default is not null"
        ).fetchall()
        for table, _ in rows:
            conn.execute(
                f'alter table "{table}" alter column updated_at'
                " set default now() - interval '1 day'"
            )
    return {(table, "updated_at"): default for table, default in rows}


def _restore_defaults(url: str, defaults: dict[tuple[str, str], str]) -> None:
    with psycopg.connect(url) as conn:
        for (table, column), default in defaults.items():
            conn.execute(f'alter table "{table}" alter column {column} set default {default}')


def _change_one_percent(url: str) -> int:
    """1 % of leads and of messages updated, 0.1 % of messages deleted."""
    with psycopg.connect(url) as conn:
        changed = conn.execute(
            "update leads set industry = coalesce(industry, '') || ' (edited)'"
            " where abs(hashtext(id::text)) % 100 = 7"
        ).rowcount
        changed += conn.execute(
            "update messages set body = body || ' (edited)' where abs(hashtext(id::text)) % 100 = 7"
        ).rowcount
        changed += conn.execute(
            "delete from messages where abs(hashtext(id::text)) % 1000 = 3"
        ).rowcount
    return changed


def _three_refreshes(
    url: str, env: dict[str, str], label: str, code: str | None
) -> dict[str, float]:
    """From empty, nothing changed, after 1 % changed: printed, and their seconds returned."""
    times = {}
    for case in ("from empty", "nothing changed", "1 % changed"):
        if case == "1 % changed":
            print(f"  ({_change_one_percent(url):,} rows changed)", flush=True)
        seconds, rss, out = _replyline(env, "warehouse", "refresh", code=code)
        times[case] = seconds
        print(
            f"{label}: whole refresh, {case}: {seconds:.1f}s, peak RSS {rss:.0f} MB"
            f" ({_steps(out)})",
            flush=True,
        )
    return times


def main() -> None:
    leads = LEADS * int(os.environ.get("BENCH_SCALE", "1"))
    baseline = os.environ.get("BENCH_BASELINE")
    with scratch_database() as url, tempfile.TemporaryDirectory() as tmp:

        def env_for(name: str) -> dict[str, str]:
            return {
                **os.environ,
                "DATABASE_URL": url,
                "WAREHOUSE_PATH": str(Path(tmp) / name / "warehouse.duckdb"),
                "REPLYLINE_VAR_DIR": str(Path(tmp) / name / "var"),
                "DAGSTER_HOME": str(Path(tmp) / name / "dagster"),
            }

        env = env_for("candidate")
        defaults = _aged_defaults(url)
        seed_args = ["seed", "--workspaces", "2", "--leads", str(leads), "--random-seed", "7"]
        seconds, _, _ = _replyline(env, *seed_args, "--as-of", "2026-11-20")
        _restore_defaults(url, defaults)
        with psycopg.connect(url) as conn:
            row = conn.execute("select count(*) from messages").fetchone()
        print(f"seeded {leads:,} leads, {row[0] if row else 0:,} messages in {seconds:.1f}s")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("vacuum analyze")

        runs: list[tuple[str, str | None, dict[str, str]]] = [("candidate", None, env)]
        if baseline:
            runs.insert(0, ("baseline", baseline, env_for("baseline")))
        for label, code, run_env in runs:
            _three_refreshes(url, run_env, label, code)

        published = Path(env["WAREHOUSE_PATH"])
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
