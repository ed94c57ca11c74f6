"""Follow-up sends name their enrollment: one outbound row per (enrollment, step), ever.

Revision ID: 0006_issue7_followup_sends
Revises: 0005_perf8_updated_at_indexes
Create Date: 2026-12-02 10:00:00.000000

A follow-up step is claimed by inserting its outbound message before the provider is called
(as AI sends are claimed through `ai_draft_id`); the unique index makes a second claim of the
same step fail in the database, whatever the number of workers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_issue7_followup_sends"
down_revision: str | None = "0005_perf8_updated_at_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("followup_enrollment_id", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_messages_followup_enrollment_id_followup_enrollments"),
        "messages",
        "followup_enrollments",
        ["followup_enrollment_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        "uq_messages_followup_enrollment_step",
        "messages",
        ["followup_enrollment_id", "follow_up_step"],
        unique=True,
        postgresql_where=sa.text("followup_enrollment_id is not null"),
    )


def downgrade() -> None:
    op.drop_index("uq_messages_followup_enrollment_step", table_name="messages")
    op.drop_constraint(
        op.f("fk_messages_followup_enrollment_id_followup_enrollments"),
        "messages",
        type_="foreignkey",
    )
    op.drop_column("messages", "followup_enrollment_id")
