"""A workspace's email platform may be Smartlead or Instantly as well as EmailBison, and the
delivery journal keeps their webhooks.

Revision ID: 0014_email_platform_choice
Revises: 0013_setter_assignment
Create Date: 2026-11-30 01:30:00.000000

Only two check constraints widen; no row changes. Downgrading refuses while a workspace or a
journaled delivery still names one of the new platforms (the narrow check would fail).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014_email_platform_choice"
down_revision: str | None = "0013_setter_assignment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_PLATFORMS = ("emailbison",)
NEW_PLATFORMS = ("emailbison", "smartlead", "instantly")
BOOKING_WEBHOOKS = ("ghl", "calendly")


def _one_of(column: str, values: Sequence[str]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


def _recheck(platforms: Sequence[str]) -> None:
    for table, column, values in (
        ("workspaces", "email_platform", platforms),
        ("webhook_deliveries", "provider", (*platforms, *BOOKING_WEBHOOKS)),
    ):
        name = f"ck_{table}_{column}_allowed"
        op.drop_constraint(op.f(name), table, type_="check")
        op.create_check_constraint(op.f(name), table, _one_of(column, values))


def upgrade() -> None:
    _recheck(NEW_PLATFORMS)


def downgrade() -> None:
    _recheck(OLD_PLATFORMS)
