"""Channel alerts: a workspace's alerts channel and kinds, and one row per alert-worthy reply.

Revision ID: 0017_workspace_alerts
Revises: 0016_slack_review_and_revisions
Create Date: 2026-11-30 03:00:00.000000

`workspaces.alerts_channel` / `alerts_kinds` / `alerts_digest` (null: post each alert as it
comes; 'daily': one digest a day). `reply_alerts`: one row per reply (unique `message_id`); the
one-post-per-lead-per-hour rule is checked against it under the lead's row lock. Not
replicated to the warehouse, so it has no delete-log triggers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017_workspace_alerts"
down_revision: str | None = "0016_slack_review_and_revisions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("meeting_requested", "call_requested", "negative_after_ai")
STATUSES = ("pending", "posting", "sent", "suppressed", "digest")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.add_column("workspaces", sa.Column("alerts_channel", sa.Text(), nullable=True))
    op.add_column(
        "workspaces",
        sa.Column(
            "alerts_kinds",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
    )
    op.add_column("workspaces", sa.Column("alerts_digest", sa.String(length=8), nullable=True))
    op.create_check_constraint(
        "alerts_digest_allowed", "workspaces", "alerts_digest is null or alerts_digest in ('daily')"
    )
    op.create_table(
        "reply_alerts",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("lead_id", sa.UUID(), nullable=False),
        sa.Column("message_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("slack_channel", sa.Text(), nullable=True),
        sa.Column("slack_ts", sa.Text(), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(_one_of("kind", KINDS), name=op.f("ck_reply_alerts_kind_allowed")),
        sa.CheckConstraint(
            _one_of("status", STATUSES), name=op.f("ck_reply_alerts_status_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_reply_alerts_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_reply_alerts_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_reply_alerts_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_alerts")),
        sa.UniqueConstraint("message_id", name=op.f("uq_reply_alerts_message_id")),
    )
    op.create_index(op.f("ix_reply_alerts_workspace_id"), "reply_alerts", ["workspace_id"])
    op.create_index("ix_reply_alerts_lead_id_claimed_at", "reply_alerts", ["lead_id", "claimed_at"])
    op.execute(
        "create trigger reply_alerts_set_updated_at before update on reply_alerts "
        "for each row execute function replyline_set_updated_at()"
    )


def downgrade() -> None:
    op.drop_table("reply_alerts")
    op.drop_constraint(op.f("ck_workspaces_alerts_digest_allowed"), "workspaces", type_="check")
    op.drop_column("workspaces", "alerts_digest")
    op.drop_column("workspaces", "alerts_kinds")
    op.drop_column("workspaces", "alerts_channel")
