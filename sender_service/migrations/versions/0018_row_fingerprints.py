"""Each replicated table's row count and id checksum, kept by triggers as an insert-only log.

Revision ID: 0018_row_fingerprints
Revises: 0017_workspace_alerts
Create Date: 2026-11-30 05:00:00.000000

The warehouse check compares each copied table with Postgres's row count and id checksum (the
sum of each UUID's first 60 bits, as `dagster_project.replication.DUCK_ID_CHECKSUM` computes
it in DuckDB). Recounting that in Postgres scanned every changed table on every run. Instead,
statement-level AFTER INSERT / DELETE triggers log each statement's (rows, checksum) delta
here, one new row per statement, so concurrent writers never contend for a row; a reader sums
a table's rows in its own snapshot and gets the fingerprint of exactly the rows it sees. A
rolled-back statement takes its delta with it. TRUNCATE resets the table's log to (0, 0); an
UPDATE of `id` is refused, so only INSERT and DELETE move a fingerprint. Each table's current
fingerprint is seeded after its triggers exist: CREATE TRIGGER locks out writers until this
migration commits, so no write falls between the count and the triggers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_row_fingerprints"
down_revision: str | None = "0017_workspace_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The replicated tables (those of 0004's delete log). A table added later gets its triggers and
# seed from `fingerprint_triggers(name)` and `seed(name)` in its own migration.
TABLES = (
    "workspaces",
    "workspace_secrets",
    "users",
    "memberships",
    "api_tokens",
    "email_campaigns",
    "campaign_mode_changes",
    "leads",
    "booking_events",
    "unmatched_bookings",
    "messages",
    "ai_drafts",
    "followup_sequences",
    "followup_steps",
    "followup_enrollments",
    "auto_send_decisions",
    "notifications",
    "jobs",
)

# A UUID's first 60 bits as int8, from its bytes (cheaper than parsing its text). Frozen here:
# the stored fingerprints were summed this way, so it must not follow later code.
ID_BITS = (
    "(get_byte(b, 0)::int8 << 52) + (get_byte(b, 1)::int8 << 44)"
    " + (get_byte(b, 2)::int8 << 36) + (get_byte(b, 3)::int8 << 28)"
    " + (get_byte(b, 4)::int8 << 20) + (get_byte(b, 5)::int8 << 12)"
    " + (get_byte(b, 6)::int8 << 4) + (get_byte(b, 7)::int8 >> 4)"
)

FUNCTIONS = f"""
create or replace function replyline_count_inserted_ids() returns trigger
language plpgsql as $$
begin
    -- `having`: an INSERT that inserted nothing (ON CONFLICT DO NOTHING) logs nothing.
    insert into row_fingerprint_deltas (table_name, rows, id_checksum)
    select tg_table_name, count(*), sum({ID_BITS})
    from (select uuid_send(id) as b from inserted_rows) ids
    having count(*) > 0;
    return null;
end;
$$;
create or replace function replyline_count_deleted_ids() returns trigger
language plpgsql as $$
begin
    insert into row_fingerprint_deltas (table_name, rows, id_checksum)
    select tg_table_name, -count(*), -sum({ID_BITS})
    from (select uuid_send(id) as b from deleted_rows) ids
    having count(*) > 0;
    return null;
end;
$$;
create or replace function replyline_reset_fingerprint() returns trigger
language plpgsql as $$
begin
    -- TRUNCATE waits for every writer of the table, but a REPEATABLE READ snapshot taken
    -- before it would not see their deltas, and they would outlive the rows they count.
    if current_setting('transaction_isolation') <> 'read committed' then
        raise exception 'TRUNCATE % must run in a READ COMMITTED transaction', tg_table_name
            using hint = 'its row fingerprint (row_fingerprint_deltas) is reset by a trigger';
    end if;
    delete from row_fingerprint_deltas where table_name = tg_table_name;
    insert into row_fingerprint_deltas (table_name, rows, id_checksum)
    values (tg_table_name, 0, 0);
    return null;
end;
$$;
create or replace function replyline_forbid_id_change() returns trigger
language plpgsql as $$
begin
    raise exception 'the id of a % row cannot change (% to %)', tg_table_name, old.id, new.id
        using errcode = 'integrity_constraint_violation';
end;
$$;
"""


def fingerprint_triggers(table: str) -> list[str]:
    # Statement-level with transition tables: one small INSERT per writing statement, however
    # many rows it wrote. `update of id ... when`: fires only for a statement that sets `id`,
    # and raises only if the value really changes.
    return [
        f"create trigger {table}_count_inserts after insert on {table} "
        "referencing new table as inserted_rows "
        "for each statement execute function replyline_count_inserted_ids()",
        f"create trigger {table}_count_deletes after delete on {table} "
        "referencing old table as deleted_rows "
        "for each statement execute function replyline_count_deleted_ids()",
        f"create trigger {table}_reset_fingerprint after truncate on {table} "
        "for each statement execute function replyline_reset_fingerprint()",
        f"create trigger {table}_forbid_id_change before update of id on {table} "
        "for each row when (old.id is distinct from new.id) "
        "execute function replyline_forbid_id_change()",
    ]


def seed(table: str) -> str:
    """The table's fingerprint as it stands, as one log row (also for an empty table: every
    tracked table has a row, so a table without one is known to be untracked)."""
    return (
        "insert into row_fingerprint_deltas (table_name, rows, id_checksum)"
        f" select '{table}', count(*), coalesce(sum({ID_BITS}), 0)"
        f" from (select uuid_send(id) as b from {table}) ids"
    )


def upgrade() -> None:
    op.create_table(
        "row_fingerprint_deltas",
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("id_checksum", sa.Numeric(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_row_fingerprint_deltas")),
    )
    op.execute(
        "create trigger row_fingerprint_deltas_set_updated_at before update on "
        "row_fingerprint_deltas for each row execute function replyline_set_updated_at()"
    )
    op.execute(FUNCTIONS)
    for table in TABLES:
        for statement in fingerprint_triggers(table):
            op.execute(statement)
        op.execute(seed(table))


def downgrade() -> None:
    for table in TABLES:
        for name in ("count_inserts", "count_deletes", "reset_fingerprint", "forbid_id_change"):
            op.execute(f"drop trigger if exists {table}_{name} on {table}")
    for function in (
        "replyline_count_inserted_ids",
        "replyline_count_deleted_ids",
        "replyline_reset_fingerprint",
        "replyline_forbid_id_change",
    ):
        op.execute(f"drop function if exists {function}()")
    op.drop_table("row_fingerprint_deltas")
