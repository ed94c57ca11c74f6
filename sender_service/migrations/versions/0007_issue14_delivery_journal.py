"""The delivery journal: every authenticated webhook body, verbatim, with its outcome.

Revision ID: 0007_issue14_delivery_journal
Revises: 0006_issue7_followup_sends
Create Date: 2026-11-29 23:00:00.000000

Not replicated to the warehouse (raw bodies hold personal data the marts never need), so it
has no delete-log triggers; it keeps the updated_at trigger every table has.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007_issue14_delivery_journal"
down_revision: str | None = "0006_issue7_followup_sends"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTCOMES = (
    "stored",
    "duplicate",
    "ignored",
    "held",
    "rejected",
    "stale",
    "reconciled",
    "discarded",
)


def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column(
            "headers",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_field", sa.Text(), nullable=True),
        sa.Column("lead_id", sa.UUID(), nullable=True),
        sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(
            _one_of("provider", ("emailbison", "ghl", "calendly")),
            name=op.f("ck_webhook_deliveries_provider_allowed"),
        ),
        sa.CheckConstraint(
            _one_of("outcome", OUTCOMES), name=op.f("ck_webhook_deliveries_outcome_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_webhook_deliveries_lead_id_leads"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_webhook_deliveries_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    op.create_index(
        op.f("ix_webhook_deliveries_workspace_id"), "webhook_deliveries", ["workspace_id"]
    )
    op.create_index(op.f("ix_webhook_deliveries_lead_id"), "webhook_deliveries", ["lead_id"])
    op.create_index(
        op.f("ix_webhook_deliveries_received_at"), "webhook_deliveries", ["received_at"]
    )
    op.execute(
        "create trigger webhook_deliveries_set_updated_at before update on webhook_deliveries "
        "for each row execute function replyline_set_updated_at()"
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
