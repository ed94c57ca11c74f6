"""Reviewers act from Slack: a workspace's Slack signing secret, and who handled a draft.

Revision ID: 0016_slack_review_and_revisions
Revises: 0014_email_platform_choice
Create Date: 2026-11-30 02:20:00.000000

`workspace_secrets.name` may be `slack_signing_secret` (it checks `POST /slack/interactions`).
`ai_drafts.reviewed_by_user_id` / `reviewed_at`: the member who rejected or regenerated a draft
from Slack, so a second reviewer is told who got there first (a send names its sender on the
message). `ai_drafts.previous_draft_id`: the draft a regenerated or revised one replaces.

The revision loop: `workspaces.max_revisions` (0–3, default 2), `ai_drafts.revision_round` and
`revision_hint` (each version keeps its evaluation), and the `revise` decision that records a
round.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016_slack_review_and_revisions"
down_revision: str | None = "0014_email_platform_choice"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_NAMES = (
    "email_platform_api_key",
    "calendly_signing_key",
    "calendly_api_token",
    "ghl_api_key",
    "ghl_webhook_public_key",
)
_NEW_NAMES = (*_OLD_NAMES, "slack_signing_secret")
_OLD_ACTIONS = ("skip", "needs_review", "send_now", "send_later")
_NEW_ACTIONS = (*_OLD_ACTIONS, "revise")


def _names_check(names: tuple[str, ...]) -> None:
    op.drop_constraint(
        op.f("ck_workspace_secrets_name_allowed"), "workspace_secrets", type_="check"
    )
    quoted = ", ".join(f"'{n}'" for n in names)
    op.create_check_constraint("name_allowed", "workspace_secrets", f"name in ({quoted})")


def _actions_check(actions: tuple[str, ...]) -> None:
    op.drop_constraint(
        op.f("ck_auto_send_decisions_action_allowed"), "auto_send_decisions", type_="check"
    )
    quoted = ", ".join(f"'{a}'" for a in actions)
    op.create_check_constraint("action_allowed", "auto_send_decisions", f"action in ({quoted})")


def upgrade() -> None:
    _names_check(_NEW_NAMES)
    _actions_check(_NEW_ACTIONS)
    op.add_column(
        "workspaces",
        sa.Column("max_revisions", sa.SmallInteger(), server_default=sa.text("2"), nullable=False),
    )
    op.create_check_constraint("max_revisions_range", "workspaces", "max_revisions between 0 and 3")
    op.add_column(
        "ai_drafts",
        sa.Column("revision_round", sa.SmallInteger(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column("ai_drafts", sa.Column("revision_hint", sa.Text(), nullable=True))
    op.add_column("ai_drafts", sa.Column("reviewed_by_user_id", sa.UUID(), nullable=True))
    op.add_column(
        "ai_drafts", sa.Column("reviewed_at", postgresql.TIMESTAMP(timezone=True), nullable=True)
    )
    op.add_column("ai_drafts", sa.Column("previous_draft_id", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_ai_drafts_reviewed_by_user_id_users"),
        "ai_drafts",
        "users",
        ["reviewed_by_user_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_foreign_key(
        op.f("fk_ai_drafts_previous_draft_id_ai_drafts"),
        "ai_drafts",
        "ai_drafts",
        ["previous_draft_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(op.f("ix_ai_drafts_reviewed_by_user_id"), "ai_drafts", ["reviewed_by_user_id"])
    op.create_index(op.f("ix_ai_drafts_previous_draft_id"), "ai_drafts", ["previous_draft_id"])


def downgrade() -> None:
    op.drop_column("ai_drafts", "revision_hint")
    op.drop_column("ai_drafts", "revision_round")
    op.drop_constraint(op.f("ck_workspaces_max_revisions_range"), "workspaces", type_="check")
    op.drop_column("workspaces", "max_revisions")
    op.execute("delete from auto_send_decisions where action = 'revise'")
    _actions_check(_OLD_ACTIONS)
    op.drop_index(op.f("ix_ai_drafts_previous_draft_id"), table_name="ai_drafts")
    op.drop_index(op.f("ix_ai_drafts_reviewed_by_user_id"), table_name="ai_drafts")
    op.drop_column("ai_drafts", "previous_draft_id")
    op.drop_column("ai_drafts", "reviewed_at")
    op.drop_column("ai_drafts", "reviewed_by_user_id")
    op.execute("delete from workspace_secrets where name = 'slack_signing_secret'")
    _names_check(_OLD_NAMES)
