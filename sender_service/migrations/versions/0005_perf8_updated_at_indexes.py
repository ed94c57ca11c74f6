"""Index updated_at on the big tables, so incremental replication reads only what changed.

Revision ID: 0005_perf8_updated_at_indexes
Revises: 0004_issue8_delete_log
Create Date: 2026-11-25 13:00:00.000000

Without them every refresh scans all of `leads` and `messages` to find the few rows changed
since the watermark. The cost: an UPDATE changes updated_at, so updates of these two tables are
no longer HOT and touch every index; both are written far less often than they are replicated.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_perf8_updated_at_indexes"
down_revision: str | None = "0004_issue8_delete_log"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("leads", "messages")


def upgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_updated_at", table, ["updated_at"], unique=False)


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_updated_at", table_name=table)
