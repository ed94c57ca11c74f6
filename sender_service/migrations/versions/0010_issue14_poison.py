"""Messages keep the HTML they arrived as; workers leave a heartbeat `/healthz` reads.

Revision ID: 0010_issue14_poison
Revises: 0009_issue15_fields
Create Date: 2026-11-29 23:00:00.000000

`messages.body_html`: a campaign email or reply that arrived only as HTML is stored as the text
a person reads (what the AI and the exports use) and, here, as the HTML it came as.
`worker_heartbeats`: one row per worker, refreshed as it polls the queue; a worker that has
not polled for a minute shows on `/healthz`. Operational bookkeeping: not replicated.
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010_issue14_poison"
down_revision: str | None = "0009_issue15_fields"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, default: str) -> sa.Column[datetime]:
    return sa.Column(
        name,
        postgresql.TIMESTAMP(timezone=True),
        server_default=sa.text(default),
        nullable=False,
    )


def upgrade() -> None:
    op.add_column("messages", sa.Column("body_html", sa.Text(), nullable=True))
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker", sa.Text(), nullable=False),
        _timestamp("polled_at", "now()"),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        _timestamp("created_at", "now()"),
        _timestamp("updated_at", "now()"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_heartbeats")),
        sa.UniqueConstraint("worker", name=op.f("uq_worker_heartbeats_worker")),
    )
    op.execute(
        "create trigger worker_heartbeats_set_updated_at before update on worker_heartbeats "
        "for each row execute function replyline_set_updated_at()"
    )


def downgrade() -> None:
    op.drop_table("worker_heartbeats")
    op.drop_column("messages", "body_html")
