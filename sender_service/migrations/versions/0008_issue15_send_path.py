"""The reviewer's cached Slack user id remembers the email it was resolved from.

Revision ID: 0008_issue15_send_path
Revises: 0007_issue14_delivery_journal
Create Date: 2026-11-30 00:00:00.000000

When the workspace's reviewer email changes, the cached id no longer matches it and the next
review DM resolves the new reviewer instead of writing to the old one. Existing caches have
no email on record, so they are resolved once more.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_issue15_send_path"
down_revision: str | None = "0007_issue14_delivery_journal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("workspaces", sa.Column("review_slack_user_email", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("workspaces", "review_slack_user_email")
