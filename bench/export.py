"""ChatGPT export: throughput against `COPY (select ...) TO STDOUT` of the same rows, and the
exporting process's peak RSS as the data grows 10×. The exporter's own CPU seconds are printed
too: on a shared machine they move far less from run to run than the wall-clock ratio.

Data is generated with generate_series in a scratch database on the server in use, dropped at
the end. Each export runs in a fresh child process so its peak RSS is its own. `--ten-x` runs
100k and 1M leads (1M and 10M messages) instead of 10k and 100k.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
import uuid

import psycopg
from psycopg import sql

from bench._scratch import scratch_database

SIZES = (100_000, 1_000_000)  # messages; leads are a tenth of that
TEN_X = (1_000_000, 10_000_000)

_SAME_ROWS = """
    copy (
        select m.id, m.lead_id, l.email, l.first_name, l.last_name, c.id, c.name, m.direction,
            m.channel, m.subject, m.body, m.sentiment, m.sent_by, m.ai_draft_id,
            m.follow_up_step, m.occurred_at
        from messages m
        left join leads l on l.id = m.lead_id
        left join email_campaigns c on c.id = coalesce(l.email_campaign_id, m.email_campaign_id)
        where m.workspace_id = %(ws)s
        order by m.lead_id nulls last, m.occurred_at, m.id
    ) to stdout
"""


def _drop_secondary_indexes(conn: psycopg.Connection, table: str) -> list[str]:
    """Drop the table's indexes that back no constraint; their definitions, to build again."""
    rows = conn.execute(
        """select c.relname, pg_get_indexdef(i.indexrelid)
           from pg_index i join pg_class c on c.oid = i.indexrelid
           where i.indrelid = %s::regclass
               and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)""",
        (table,),
    ).fetchall()
    for name, _ in rows:
        conn.execute(sql.SQL("drop index {}").format(sql.Identifier(name)))
    return [definition for _, definition in rows]


def _fill(conn: psycopg.Connection, ws: uuid.UUID, messages: int) -> None:
    leads = messages // 10
    conn.execute("delete from messages; delete from leads; delete from email_campaigns")
    conn.execute(
        "insert into email_campaigns (workspace_id, external_id, name)"
        " select %s, 'c' || g, 'Campaign ' || g from generate_series(1, 20) g",
        (ws,),
    )
    # A bulk load into tables without their secondary indexes is many times faster (10M
    # messages took over an hour with them): dropped for the load, built again after it.
    secondary = [_drop_secondary_indexes(conn, table) for table in ("leads", "messages")]
    conn.execute(
        """insert into leads (workspace_id, email_campaign_id, external_id, email, first_name,
               last_name, company, headcount, industry)
           select %s, (select id from email_campaigns order by external_id offset g %% 20 limit 1),
               'l' || g, 'lead' || g || '@example.test', 'First' || g, 'Last' || g,
               'Company ' || g, (g %% 900 + 1)::text, 'saas'
           from generate_series(1, %s) g""",
        (ws, leads),
    )
    conn.execute(
        """insert into messages (workspace_id, lead_id, direction, channel, subject, body,
               sentiment, sent_by, source, external_id, occurred_at)
           select %(ws)s, l.id,
               case when g %% 2 = 0 then 'inbound' else 'outbound' end, 'email', 'Re: hello',
               repeat(md5(g::text), 8),
               case when g %% 2 = 0 then (array['Interested', 'Not Interested',
                   'Meeting Requested', 'Neutral'])[g %% 4 + 1] end,
               case when g %% 2 = 1 then (array['ai', 'setter', 'sequence'])[g %% 3 + 1] end,
               'emailbison', 'm' || g,
               now() - interval '1 minute' * g
           from generate_series(1, %(n)s) g
           join leads l on l.external_id = 'l' || (g %% %(leads)s + 1)""",
        {"ws": ws, "n": messages, "leads": leads},
    )
    for definition in (d for table in secondary for d in table):
        conn.execute(definition.encode())
    conn.execute("analyze")
    conn.commit()


def _copy_seconds(url: str, ws: uuid.UUID) -> float:
    started = time.perf_counter()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for query in (
            _SAME_ROWS,
            "copy (select * from leads where workspace_id = %(ws)s) to stdout",
        ):
            with cur.copy(query, {"ws": ws}) as copy:
                for _ in copy:
                    pass
    return time.perf_counter() - started


def _child(url: str, ws: str) -> None:
    from sender_service.exports.chatgpt import chatgpt_export

    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime  # after the imports: the export's own CPU
    started = time.perf_counter()
    size = sum(len(chunk) for chunk in chatgpt_export(url, uuid.UUID(ws)))
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    print(
        json.dumps(
            {"seconds": seconds, "bytes": size, "peak_mb": usage.ru_maxrss / 1024, "cpu": cpu}
        )
    )


def main(sizes: tuple[int, ...] = SIZES) -> None:
    with scratch_database() as url:
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "insert into workspaces (name, booking_provider, webhook_secret_hash)"
                " values ('bench', 'GHL', repeat('0', 64)) returning id"
            ).fetchone()
            assert row is not None
            ws = row[0]
            conn.commit()
            peaks = []
            for messages in sizes:
                filling = time.perf_counter()
                _fill(conn, ws, messages)
                print(f"filled in {time.perf_counter() - filling:.0f}s", flush=True)
                _copy_seconds(url, ws)  # warm the cache for both
                copy_s = _copy_seconds(url, ws)
                out = subprocess.run(
                    [sys.executable, "-m", "bench.export", "--child", url, str(ws)],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                result = json.loads(out)
                peaks.append(result["peak_mb"])
                print(
                    f"{messages:>9,} messages, {messages // 10:,} leads: export "
                    f"{result['seconds']:.2f}s ({messages / result['seconds']:,.0f} msg/s, "
                    f"zip {result['bytes'] / 1e6:.0f} MB, exporter CPU {result['cpu']:.2f}s) "
                    f"vs COPY {copy_s:.2f}s: "
                    f"throughput {copy_s / result['seconds']:.0%} of COPY (target >= 50%); "
                    f"peak RSS {result['peak_mb']:.0f} MB",
                    flush=True,
                )
            print(f"peak RSS at 10x the data: {peaks[-1] / peaks[0]:.2f}x (flat is ~1x)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], sys.argv[3])
    else:
        main(TEN_X if "--ten-x" in sys.argv[1:] else SIZES)
