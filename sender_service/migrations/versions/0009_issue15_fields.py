"""Where a workspace's headcount and industry come from, and each lead's custom variables.

Revision ID: 0009_issue15_fields
Revises: 0008_issue15_send_path
Create Date: 2026-11-30 00:00:00.000000

`workspaces.headcount_field` / `industry_field` name the platform's custom variable to read
first (`replyline workspace set-fields`); `leads.custom_variables` keeps the variables as last
delivered, so a new mapping re-reads the leads already stored instead of waiting for their next
webhook.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009_issue15_fields"
down_revision: str | None = "0008_issue15_send_path"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("workspaces", sa.Column("headcount_field", sa.Text(), nullable=True))
    op.add_column("workspaces", sa.Column("industry_field", sa.Text(), nullable=True))
    op.add_column(
        "leads",
        sa.Column("custom_variables", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("leads", "custom_variables")
    op.drop_column("workspaces", "industry_field")
    op.drop_column("workspaces", "headcount_field")
