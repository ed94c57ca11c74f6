"""What a trigger-kept row count and id checksum would cost each write (issue 19's proposal).

The replication's incremental run spends most of its time re-checksumming the ids of every
changed table in Postgres (see `bench replication`). A statement-level trigger could keep
that sum instead, logging each INSERT's (rows, id checksum) delta; this times single-row
INSERT + COMMIT into `messages` (the webhook's shape) with and without such a trigger, the
two arms alternated in one scratch database so the load of the moment hits both alike.
Nothing here is part of the schema: the trigger lives only in the scratch database.
"""

from __future__ import annotations

import statistics
import time
import uuid

import psycopg

from bench._scratch import scratch_database
from dagster_project.replication import PG_ID_BITS

WRITES = 2000
ROUNDS = 3

TRIGGER = f"""
create table counter_deltas (
    table_name text not null, d_rows bigint not null, d_id_checksum numeric not null
);
create function log_inserted_ids() returns trigger language plpgsql as $$
begin
    insert into counter_deltas
    select TG_TABLE_NAME, count(*), coalesce(sum({PG_ID_BITS}), 0)
    from (select uuid_send(id) as b from new_rows) ids;
    return null;
end $$;
create trigger messages_log_inserted_ids after insert on messages
    referencing new table as new_rows for each statement execute function log_inserted_ids();
"""


def _ms_per_write(url: str, workspace: uuid.UUID, lead: uuid.UUID) -> float:
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        for _ in range(WRITES):
            conn.execute(
                "insert into messages (workspace_id, lead_id, direction, source, external_id,"
                " body, occurred_at) values (%s, %s, 'inbound', 'bench', %s, 'hello', now())",
                (workspace, lead, uuid.uuid4().hex),
            )
            conn.commit()
        return (time.perf_counter() - started) / WRITES * 1000


def _trigger(url: str, state: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(f"alter table messages {state} trigger messages_log_inserted_ids")


def main() -> None:
    with scratch_database() as url:
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "insert into workspaces (name, booking_provider, webhook_secret_hash)"
                " values ('bench', 'GHL', repeat('0', 64)) returning id"
            ).fetchone()
            assert row is not None
            workspace = row[0]
            row = conn.execute(
                "insert into leads (workspace_id, external_id, email)"
                " values (%s, 'l', 'l@example.test') returning id",
                (workspace,),
            ).fetchone()
            assert row is not None
            lead = row[0]
            conn.execute(TRIGGER)
        plain, counted = [], []
        for _ in range(ROUNDS):
            _trigger(url, "disable")
            plain.append(_ms_per_write(url, workspace, lead))
            _trigger(url, "enable")
            counted.append(_ms_per_write(url, workspace, lead))
        with psycopg.connect(url) as conn:
            logged = conn.execute("select count(*) from counter_deltas").fetchone()
        assert logged is not None and logged[0] == WRITES * ROUNDS
        base, cost = statistics.median(plain), statistics.median(counted)
        print(
            f"single-row INSERT + COMMIT into messages ({WRITES:,} x {ROUNDS} per arm):"
            f" plain {base:.2f} ms, with the counting trigger {cost:.2f} ms (medians),"
            f" +{100 * (cost / base - 1):.1f} % per write"
            f"\n  rounds: plain {', '.join(f'{x:.2f}' for x in plain)};"
            f" with trigger {', '.join(f'{x:.2f}' for x in counted)}"
        )
