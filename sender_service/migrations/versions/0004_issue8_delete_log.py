"""The delete log the warehouse reads: triggers record every deleted row and every TRUNCATE.

Revision ID: 0004_issue8_delete_log
Revises: 0001
Create Date: 2026-11-27 10:00:00.000000

Incremental replication finds changed rows by `updated_at`, but a deleted row leaves nothing to
find; comparing every id on each run costs a scan of every table. An AFTER DELETE trigger per
table (cascaded deletes fire it too) writes the id here instead, and a statement-level AFTER
TRUNCATE trigger writes a marker (row_id null) that makes the next run reload that table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_issue8_delete_log"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables of revision 0001. Tables added by later revisions add their own triggers with
# `logged_table_triggers(name)` so that the log keeps covering every replicated table.
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

LOG_FUNCTIONS = """
create or replace function replyline_log_row_deletion() returns trigger
language plpgsql as $$
begin
    insert into row_deletions (table_name, row_id)
    select tg_table_name, d.id from deleted_rows d;
    return null;
end;
$$;
create or replace function replyline_log_truncate() returns trigger
language plpgsql as $$
begin
    insert into row_deletions (table_name, row_id) values (tg_table_name, null);
    return null;
end;
$$;
"""


def logged_table_triggers(table: str) -> list[str]:
    # A statement-level trigger with a transition table: one INSERT ... SELECT per DELETE
    # statement, so a bulk delete costs one extra statement rather than one per row.
    return [
        f"create trigger {table}_log_deletions after delete on {table} "
        "referencing old table as deleted_rows "
        "for each statement execute function replyline_log_row_deletion()",
        f"create trigger {table}_log_truncate after truncate on {table} "
        "for each statement execute function replyline_log_truncate()",
    ]


def upgrade() -> None:
    op.create_table(
        "row_deletions",
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("row_id", sa.UUID(), nullable=True),
        sa.Column(
            "deleted_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_row_deletions")),
    )
    op.create_index(
        "ix_row_deletions_table_name_deleted_at",
        "row_deletions",
        ["table_name", "deleted_at"],
        unique=False,
    )
    op.execute(
        "create trigger row_deletions_set_updated_at before update on row_deletions "
        "for each row execute function replyline_set_updated_at()"
    )
    op.execute(LOG_FUNCTIONS)
    for table in TABLES:
        for statement in logged_table_triggers(table):
            op.execute(statement)


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"drop trigger if exists {table}_log_deletions on {table}")
        op.execute(f"drop trigger if exists {table}_log_truncate on {table}")
    op.execute("drop function if exists replyline_log_row_deletion()")
    op.execute("drop function if exists replyline_log_truncate()")
    op.execute("drop trigger if exists row_deletions_set_updated_at on row_deletions")
    op.drop_index("ix_row_deletions_table_name_deleted_at", table_name="row_deletions")
    op.drop_table("row_deletions")
