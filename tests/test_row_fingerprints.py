"""The trigger-kept row fingerprints (row count and id checksum per replicated table) equal a
recount of the table, whatever writes, rollbacks, truncates and compactions came before."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import delete, select

from sender_service.db import fingerprints, migrate
from sender_service.db.engine import session_scope
from sender_service.db.fingerprint_jobs import COMPACT_FINGERPRINTS
from sender_service.db.models import REPLICATED_TABLES, Job
from sender_service.jobs import schedule
from sender_service.jobs.worker import Worker
from sender_service.services import Services
from sender_service.settings import load_settings

Fingerprint = tuple[int, int]


def logged(url: str) -> dict[str, Fingerprint]:
    """What the triggers say: the sum of each table's rows in the log."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select table_name, sum(rows), sum(id_checksum) from row_fingerprint_deltas"
            " group by table_name"
        ).fetchall()
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


def recount(url: str, table: str) -> Fingerprint:
    """Derived independently, in Python: the count and the sum of each id's first 60 bits."""
    with psycopg.connect(url) as conn:
        ids: list[uuid.UUID] = [r[0] for r in conn.execute(f"select id from {table}")]
    return len(ids), sum(int(i.hex[:15], 16) for i in ids)


def assert_all_match(url: str) -> None:
    kept = logged(url)
    for table in REPLICATED_TABLES:
        assert kept.get(table) == recount(url, table), table


def workspace(url: str) -> uuid.UUID:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "insert into workspaces (name, booking_provider, webhook_secret_hash)"
            " values ('Acme', 'GHL', repeat('a', 64)) returning id"
        ).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def add_leads(conn: psycopg.Connection, ws: uuid.UUID, prefix: str, n: int) -> None:
    conn.execute(
        "insert into leads (workspace_id, external_id, email) select %s, %s || g,"
        " %s || g || '@example.com' from generate_series(1, %s) g",
        (ws, prefix, prefix, n),
    )


def test_inserts_deletes_cascades_and_upserts_keep_the_recount(db_url: str) -> None:
    ws = workspace(db_url)
    with psycopg.connect(db_url) as conn:
        add_leads(conn, ws, "l", 50)
        conn.execute(
            "insert into messages (workspace_id, lead_id, direction, source, external_id, body,"
            " occurred_at) select workspace_id, id, 'inbound', 'emailbison_reply', external_id,"
            " 'hi', now() from leads"
        )
        # Already there: inserts nothing, so must count nothing.
        conn.execute(
            "insert into leads (workspace_id, external_id, email) select workspace_id,"
            " external_id, email from leads on conflict do nothing"
        )
        conn.execute("delete from messages where external_id in ('l1', 'l2')")
        conn.execute("delete from leads where external_id like 'l3%'")  # cascades to messages
        conn.execute("update leads set industry = 'SaaS'")  # moves no fingerprint
    assert logged(db_url)["leads"][0] == 50 - 11
    assert logged(db_url)["messages"][0] == 50 - 2 - 11
    assert_all_match(db_url)


def test_rolled_back_writes_leave_no_delta(db_url: str) -> None:
    ws = workspace(db_url)
    before = logged(db_url)
    with psycopg.connect(db_url) as conn:
        add_leads(conn, ws, "gone", 5)
        conn.rollback()
        with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
            add_leads(conn, ws, "dup", 3)
            add_leads(conn, ws, "dup", 3)  # fails: the savepoint takes both statements back
        add_leads(conn, ws, "kept", 2)
        with conn.transaction():
            with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
                add_leads(conn, ws, "kept", 1)
            conn.execute("delete from leads where external_id = 'kept1'")
            with pytest.raises(psycopg.errors.ForeignKeyViolation), conn.transaction():
                conn.execute("delete from leads")  # taken back with the failed insert below
                conn.execute(
                    "insert into leads (workspace_id, external_id, email)"
                    " values (gen_random_uuid(), 'orphan', 'o@example.com')"
                )
    assert logged(db_url)["leads"][0] == before["leads"][0] + 1
    assert logged(db_url)["workspaces"] == before["workspaces"]
    assert_all_match(db_url)


def test_truncate_resets_and_is_refused_where_it_could_miss_a_delta(db_url: str) -> None:
    ws = workspace(db_url)
    with psycopg.connect(db_url) as conn:
        add_leads(conn, ws, "l", 10)
    with psycopg.connect(db_url) as conn:
        conn.execute("truncate leads cascade")
        add_leads(conn, ws, "after", 3)  # same transaction, after the reset
    assert logged(db_url)["leads"][0] == 3
    assert_all_match(db_url)

    with psycopg.connect(db_url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with pytest.raises(psycopg.errors.RaiseException, match="READ COMMITTED"):
            conn.execute("truncate leads cascade")
    assert logged(db_url)["leads"][0] == 3


def test_an_id_cannot_change(db_url: str) -> None:
    ws = workspace(db_url)
    with psycopg.connect(db_url) as conn:
        add_leads(conn, ws, "l", 2)
        conn.execute("update leads set id = id, industry = 'SaaS'")  # same value: allowed
    with (
        psycopg.connect(db_url) as conn,
        pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="cannot change"),
    ):
        conn.execute("update leads set id = gen_random_uuid() where external_id = 'l1'")
    assert_all_match(db_url)


def test_concurrent_writers_and_compactions_keep_the_recount(db_url: str) -> None:
    ws = workspace(db_url)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with psycopg.connect(db_url) as conn:
                for k in range(30):
                    add_leads(conn, ws, f"w{n}-{k}-", 3)
                    if k % 3 == 0:
                        conn.execute(
                            "delete from leads where id = (select id from leads"
                            " where external_id like %s limit 1)",
                            (f"w{n}-{k}-%",),
                        )
                    if k % 5 == 0:
                        conn.rollback()
                    else:
                        conn.commit()
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    def compactor() -> None:
        try:
            for _ in range(10):
                with psycopg.connect(db_url) as conn:
                    fingerprints.compact(conn, REPLICATED_TABLES)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    threads.append(threading.Thread(target=compactor))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert_all_match(db_url)
    # Per writer, each committed round kept 3 leads, less the one it deleted every third round.
    committed = [k for k in range(30) if k % 5]
    assert logged(db_url)["leads"][0] == 4 * sum(3 - (k % 3 == 0) for k in committed)
    with psycopg.connect(db_url) as conn:
        fingerprints.compact(conn, REPLICATED_TABLES)
    with psycopg.connect(db_url) as conn:
        per_table = conn.execute(
            "select max(n) from (select count(*) as n from row_fingerprint_deltas"
            " group by table_name) t"
        ).fetchone()
    assert per_table == (1,)
    assert_all_match(db_url)


def test_a_truncate_waits_for_a_compaction_and_resets_its_sum(db_url: str) -> None:
    ws = workspace(db_url)
    with psycopg.connect(db_url) as conn:
        add_leads(conn, ws, "a", 4)
        add_leads(conn, ws, "b", 4)
    with psycopg.connect(db_url) as compacting:
        row = compacting.execute(
            "select count(*) from row_fingerprint_deltas where table_name = 'leads'"
        ).fetchone()
        assert row is not None and row[0] >= 3  # the reset after the last test, the 2 inserts
        assert fingerprints.compact(compacting, ["leads"]) == row[0] - 1  # not committed yet
        truncated = threading.Event()

        def truncate() -> None:
            with psycopg.connect(db_url) as conn:
                conn.execute("truncate leads cascade")
            truncated.set()

        thread = threading.Thread(target=truncate)
        thread.start()
        assert not truncated.wait(0.5)  # held back until the summed row is committed
    thread.join()
    assert truncated.is_set()
    assert logged(db_url)["leads"] == (0, 0)
    assert_all_match(db_url)


def test_the_migration_seeds_existing_rows_and_downgrades(
    make_database: Callable[[], str],
) -> None:
    url = make_database()
    migrate.upgrade(url, "0017_workspace_alerts")
    ws = workspace(url)
    with psycopg.connect(url) as conn:
        add_leads(conn, ws, "old", 7)
    migrate.upgrade(url)
    assert_all_match(url)
    assert logged(url)["leads"][0] == 7

    migrate.downgrade(url, "0017_workspace_alerts")
    with psycopg.connect(url) as conn:
        add_leads(conn, ws, "plain", 2)  # no trigger left to call a dropped function
        conn.execute("update leads set id = gen_random_uuid() where external_id = 'plain1'")
        left = conn.execute(
            "select count(*) from pg_trigger where tgname like any (array['%_count_inserts',"
            " '%_count_deletes', '%_reset_fingerprint', '%_forbid_id_change'])"
        ).fetchone()
    assert left == (0,)
    migrate.upgrade(url)
    assert logged(url)["leads"][0] == 9
    assert_all_match(url)


def test_every_replicated_table_is_tracked(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        triggers = {  # pg_trigger: information_schema leaves TRUNCATE triggers out
            (r[0], r[1])
            for r in conn.execute("select tgrelid::regclass::text, tgname from pg_trigger")
        }
    for table in REPLICATED_TABLES:
        for name in ("count_inserts", "count_deletes", "reset_fingerprint", "forbid_id_change"):
            assert (table, f"{table}_{name}") in triggers
    assert set(logged(db_url)) == set(REPLICATED_TABLES)


def test_the_hourly_job_compacts_the_log_to_a_row_per_table(db_url: str) -> None:
    ws = workspace(db_url)
    for batch in range(3):  # three statements: three log rows for leads
        with psycopg.connect(db_url) as conn:
            add_leads(conn, ws, f"hourly{batch}-", 5)

    def rows_per_table() -> dict[str, int]:
        with psycopg.connect(db_url) as conn:
            return dict(
                conn.execute(
                    "select table_name, count(*) from row_fingerprint_deltas group by table_name"
                ).fetchall()
            )

    assert rows_per_table()["leads"] >= 3
    with session_scope(db_url) as session:
        assert schedule.enqueue_periodic(session, datetime.now(UTC)) > 0
        # Only the compaction runs here: the rest of the slot's jobs are not this test's.
        session.execute(delete(Job).where(Job.kind != COMPACT_FINGERPRINTS))
    Worker(db_url, services=Services(db_url, load_settings({}))).run(drain=True)

    assert set(rows_per_table().values()) == {1}
    assert_all_match(db_url)
    with session_scope(db_url) as session:
        assert session.execute(select(Job.status)).scalars().all() == ["done"]
