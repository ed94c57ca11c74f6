"""Replies waiting for a person are assigned to a setter; workspaces have business hours.

Revision ID: 0013_setter_assignment
Revises: 0012_outbound_guard_settings
Create Date: 2026-11-30 01:45:00.000000

`memberships`: a setter's share of assignments (`assignment_weight`, 0 stops them), a pause,
the smooth weighted round-robin's running credit, and the platform mailbox a member sends from
(so a reply sent from the platform's inbox is credited to them).
`leads.assigned_user_id` / `assigned_at`: the setter a lead's replies go to.
`workspaces.business_hours_start` / `_end`: the hours (local, Monday to Friday) in which a
setter's response time is counted.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013_setter_assignment"
down_revision: str | None = "0012_outbound_guard_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "memberships",
        sa.Column("assignment_weight", sa.Integer(), server_default=sa.text("1"), nullable=False),
    )
    op.add_column(
        "memberships",
        sa.Column(
            "assignment_paused", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
    )
    op.add_column(
        "memberships",
        sa.Column("assignment_credit", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column("memberships", sa.Column("sending_mailbox", sa.Text(), nullable=True))
    op.create_check_constraint(
        "assignment_weight_range",
        "memberships",
        "assignment_weight between 0 and 100",
    )
    op.add_column("leads", sa.Column("assigned_user_id", sa.UUID(), nullable=True))
    op.add_column(
        "leads", sa.Column("assigned_at", postgresql.TIMESTAMP(timezone=True), nullable=True)
    )
    op.create_foreign_key(
        op.f("fk_leads_assigned_user_id_users"),
        "leads",
        "users",
        ["assigned_user_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(op.f("ix_leads_assigned_user_id"), "leads", ["assigned_user_id"])
    op.add_column(
        "workspaces",
        sa.Column(
            "business_hours_start", sa.SmallInteger(), server_default=sa.text("9"), nullable=False
        ),
    )
    op.add_column(
        "workspaces",
        sa.Column(
            "business_hours_end", sa.SmallInteger(), server_default=sa.text("17"), nullable=False
        ),
    )
    op.create_check_constraint(
        "business_hours_valid",
        "workspaces",
        "business_hours_start >= 0 and business_hours_start < business_hours_end"
        " and business_hours_end <= 24",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_workspaces_business_hours_valid"), "workspaces", type_="check")
    op.drop_column("workspaces", "business_hours_end")
    op.drop_column("workspaces", "business_hours_start")
    op.drop_index(op.f("ix_leads_assigned_user_id"), table_name="leads")
    op.drop_constraint(op.f("fk_leads_assigned_user_id_users"), "leads", type_="foreignkey")
    op.drop_column("leads", "assigned_at")
    op.drop_column("leads", "assigned_user_id")
    op.drop_constraint(op.f("ck_memberships_assignment_weight_range"), "memberships", type_="check")
    op.drop_column("memberships", "sending_mailbox")
    op.drop_column("memberships", "assignment_credit")
    op.drop_column("memberships", "assignment_paused")
    op.drop_column("memberships", "assignment_weight")
