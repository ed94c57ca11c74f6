"""Cost of the updated_at trigger: a bulk UPDATE of N leads with the trigger vs without it.

Both runs touch the same rows in the same database in this run, so the ratio is what the
trigger costs on this machine.
"""

from __future__ import annotations

import time

import psycopg

from bench._scratch import scratch_database

ROWS = 200_000


def _timed_update(conn: psycopg.Connection) -> float:
    started = time.perf_counter()
    conn.execute("update leads set industry = md5(industry)")
    conn.commit()
    return time.perf_counter() - started


def main() -> None:
    with scratch_database() as url:
        with psycopg.connect(url) as conn:
            ws = conn.execute(
                "insert into workspaces (name, booking_provider, webhook_secret_hash)"
                " values ('bench', 'GHL', repeat('0', 64)) returning id"
            ).fetchone()
            assert ws is not None
            conn.execute(
                "insert into leads (workspace_id, external_id, industry)"
                " select %s, g::text, 'saas' from generate_series(1, %s) g",
                (ws[0], ROWS),
            )
            conn.commit()
            _timed_update(conn)  # warm the cache
            with_trigger = min(_timed_update(conn) for _ in range(3))
            conn.execute("alter table leads disable trigger leads_set_updated_at")
            without = min(_timed_update(conn) for _ in range(3))
            conn.execute("alter table leads enable trigger leads_set_updated_at")
            conn.commit()
        print(
            f"bulk UPDATE of {ROWS:,} leads: with trigger {with_trigger:.3f}s, "
            f"without {without:.3f}s, ratio {with_trigger / without:.2f}x "
            f"({ROWS / with_trigger:,.0f} rows/s)"
        )
