"""The outbound guard's workspace settings, and the rules a decision was stopped by.

Revision ID: 0012_outbound_guard_settings
Revises: 0010_issue14_poison
Create Date: 2026-11-30 01:40:00.000000

`workspaces`: the hosts an AI message may link to besides the booking link's
(`allowed_link_domains`, punycode), whether it may talk prices (`allow_pricing_talk`), and its
length limits per channel (`max_email_chars` 1,200, `max_sms_chars` 320).
`auto_send_decisions.guard_rules`: the guard's rules that sent a draft to a person (empty when
the guard was not the reason), counted per rule by the `draft_outcomes` mart.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012_outbound_guard_settings"
down_revision: str | None = "0010_issue14_poison"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUARD_RULES = ("link", "contact", "pricing", "placeholder", "language", "length", "echo")


def _text_array(name: str) -> sa.Column[list[str]]:
    return sa.Column(
        name, postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
    )


def upgrade() -> None:
    op.add_column("workspaces", _text_array("allowed_link_domains"))
    op.add_column(
        "workspaces",
        sa.Column(
            "allow_pricing_talk", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
    )
    op.add_column(
        "workspaces",
        sa.Column("max_email_chars", sa.Integer(), server_default=sa.text("1200"), nullable=False),
    )
    op.add_column(
        "workspaces",
        sa.Column("max_sms_chars", sa.Integer(), server_default=sa.text("320"), nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_workspaces_outbound_limits_positive"),
        "workspaces",
        "max_email_chars > 0 and max_sms_chars > 0",
    )
    op.add_column("auto_send_decisions", _text_array("guard_rules"))
    allowed = ", ".join(f"'{rule}'" for rule in GUARD_RULES)
    op.create_check_constraint(
        op.f("ck_auto_send_decisions_guard_rules_allowed"),
        "auto_send_decisions",
        f"guard_rules <@ array[{allowed}]::text[]",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("ck_auto_send_decisions_guard_rules_allowed"), "auto_send_decisions", type_="check"
    )
    op.drop_column("auto_send_decisions", "guard_rules")
    op.drop_constraint(op.f("ck_workspaces_outbound_limits_positive"), "workspaces", type_="check")
    for column in (
        "max_sms_chars",
        "max_email_chars",
        "allow_pricing_talk",
        "allowed_link_domains",
    ):
        op.drop_column("workspaces", column)
