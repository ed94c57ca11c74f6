"""Replication into DuckDB on ~100k leads and ~1M messages, against baselines from this run.

- full replication vs a bare `COPY ... TO STDOUT` of the same tables (target ≤ 2×);
- the incremental step after 1 % of rows change vs a full replication (target ≤ 15 %);
- whole-refresh times (replicate, check, publish through the Dagster job) beside them.

`BENCH_SCALE=10` runs it on 1M leads and 10M messages.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from dagster_project import replication, warehouse
from sender_service.db import migrate
from sender_service.db.engine import resolve_database_url
from sender_service.db.models import REPLICATED_TABLES
from sender_service.db.urls import with_database

LEADS = 100_000 * int(os.environ.get("BENCH_SCALE", "1"))
MESSAGES_PER_LEAD = 10


def _generate(url: str) -> None:
    """Workspaces, campaigns, leads and messages by generate_series, constraints respected.

    Leads and messages were last changed a day ago (INSERT keeps an explicit updated_at; only
    UPDATE sets it), outside the replication's overlap window, as old data is in production.
    """
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into workspaces (name, booking_provider, webhook_secret_hash)"
            " select 'ws ' || g, 'GHL', repeat('0', 64) from generate_series(1, 10) g"
        )
        conn.execute(
            "insert into email_campaigns (workspace_id, external_id, name)"
            " select w.id, 'c' || g, 'Campaign ' || g from workspaces w, generate_series(1, 20) g"
        )
        conn.execute(
            "with c as (select id, workspace_id, row_number() over (order by id) - 1 as n"
            " from email_campaigns)"
            " insert into leads (workspace_id, email_campaign_id, external_id, email, company,"
            " industry, headcount, sentiment_tag, updated_at)"
            " select c.workspace_id, c.id, 'l' || g, 'lead' || g || '@example.com', 'Co ' || g,"
            " (array['SaaS', 'Fintech', 'Health'])[1 + g %% 3], (g %% 900)::text, 'Interested',"
            " now() - interval '1 day'"
            " from generate_series(1, %s) g join c on c.n = g %% 200",
            (LEADS,),
        )
        conn.execute(
            "insert into messages (workspace_id, lead_id, direction, channel, source,"
            " external_id, sent_by, subject, body, occurred_at, updated_at)"
            " select l.workspace_id, l.id, case when s %% 2 = 0 then 'inbound' else 'outbound' end,"
            " 'email', case when s %% 2 = 0 then 'emailbison_reply' else 'emailbison_sent' end,"
            " l.external_id || '-' || s, case when s %% 2 = 0 then null else 'campaign' end,"
            " 'Re: quick question', repeat('Thanks for reaching out. ', 8),"
            " now() - s * interval '1 hour', l.updated_at"
            " from leads l, generate_series(1, %s) s",
            (MESSAGES_PER_LEAD,),
        )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("vacuum analyze")


def _bare_copy(url: str) -> tuple[float, float]:
    """Seconds, and this process's CPU seconds (Postgres's own are alike on both sides)."""
    started, cpu = time.perf_counter(), time.process_time()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for table in REPLICATED_TABLES:
            with cur.copy(f"copy {table} to stdout (format binary)") as copy:
                for _ in copy:
                    pass
    return time.perf_counter() - started, time.process_time() - cpu


def _replicate(url: str, path: Path, *, full: bool) -> tuple[float, dict[str, float]]:
    """Seconds of the replication step, and where they (and connecting, and this process's CPU
    during the step: under load, wall time follows the CPU both sides need) went."""
    phases = replication.Phases()
    with phases("connect"):  # shown, but outside the step's time as before
        con = warehouse.connect(path, url)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        replication.replicate(con, REPLICATED_TABLES, full=full, phases=phases)
        phases.seconds["cpu"] = time.process_time() - cpu
        return time.perf_counter() - started, phases.seconds
    finally:
        con.close()


def _phase_line(phases: dict[str, float]) -> str:
    return ", ".join(f"{name} {seconds:.2f}s" for name, seconds in phases.items())


def _change_one_percent(url: str) -> int:
    with psycopg.connect(url) as conn:
        updated = conn.execute(
            "update messages set body = body || ' (edited)' where external_id like '%%7-3'"
        ).rowcount
        updated += conn.execute(
            "update leads set industry = 'Changed' where external_id like '%%7'"
        ).rowcount
        deleted = conn.execute("delete from messages where external_id like '%%3-1'").rowcount
    return updated + deleted


def _whole_refresh(url: str, published: Path, *, full: bool) -> tuple[float, dict[str, float]]:
    """The `warehouse` job's assets and checks in process: replicate, check, publish."""
    import dagster as dg

    from dagster_project.assets.publish import published_warehouse
    from dagster_project.assets.replication import replicate_postgres
    from dagster_project.checks import raw_matches_postgres
    from dagster_project.resources import WarehouseResource

    started = time.perf_counter()
    result = dg.materialize(
        [replicate_postgres, published_warehouse, raw_matches_postgres],
        resources={"warehouse": WarehouseResource(database_url=url, warehouse_path=str(published))},
        run_config={
            "ops": {"replicate_postgres": {"config": {"full": full}}},
            "loggers": {"console": {"config": {"log_level": "WARNING"}}},
        },
    )
    assert result.success
    steps = {
        e.step_key or "?": e.event_specific_data.duration_ms / 1000  # type: ignore[union-attr]
        for e in result.all_events
        if e.is_step_success
    }
    return time.perf_counter() - started, steps


def main() -> None:
    server = resolve_database_url()
    name = f"replyline_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = with_database(server, name)
    try:
        migrate.upgrade(url)
        started = time.perf_counter()
        _generate(url)
        with psycopg.connect(url) as conn:
            counts = {
                t: conn.execute(f"select count(*) from {t}").fetchone()[0]  # type: ignore[index]
                for t in ("leads", "messages")
            }
        print(
            f"generated {counts['leads']:,} leads and {counts['messages']:,} messages"
            f" in {time.perf_counter() - started:.1f}s"
        )
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.duckdb"
            _bare_copy(url)  # warm Postgres's cache so both sides read from memory
            bare, bare_cpu = min((_bare_copy(url) for _ in range(2)), key=lambda run: run[0])
            fulls = []
            for _ in range(2):
                path.unlink(missing_ok=True)
                fulls.append(_replicate(url, path, full=True))
            full, full_phases = min(fulls, key=lambda run: run[0])
            print(
                f"full replication {full:.2f}s vs bare COPY {bare:.2f}s:"
                f" ratio {full / bare:.2f}x (target <= 2x); bare COPY's cpu {bare_cpu:.2f}s"
                f"\n  phases: {_phase_line(full_phases)}"
            )
            changed = _change_one_percent(url)
            incremental, incremental_phases = _replicate(url, path, full=False)
            print(
                f"incremental after {changed:,} rows changed (~1 %): {incremental:.2f}s,"
                f" {100 * incremental / full:.1f} % of a full replication (target <= 15 %)"
                f"\n  phases: {_phase_line(incremental_phases)}"
            )
            published = Path(tmp) / "published.duckdb"
            whole_full, full_steps = _whole_refresh(url, published, full=True)
            _change_one_percent(url)
            whole_incremental, incremental_steps = _whole_refresh(url, published, full=False)
            size = published.stat().st_size / 1e6
            print(
                f"whole refresh (replicate, check, publish {size:.0f} MB): full {whole_full:.2f}s,"
                f" incremental after ~1 % changed {whole_incremental:.2f}s"
                f"\n  full steps: {_phase_line(full_steps)}"
                f"\n  incremental steps: {_phase_line(incremental_steps)}"
            )
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')
