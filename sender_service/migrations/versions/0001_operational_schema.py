"""The whole operational schema (docs/data-model.md), with the updated_at trigger.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 12:05:34.242057
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# clock_timestamp(), not now(): rows changed late in a long transaction must not carry the
# transaction's start time, or an incremental copy reading "changed since" could miss them.
SET_UPDATED_AT = """
create or replace function replyline_set_updated_at() returns trigger
language plpgsql as $$
begin
    new.updated_at := clock_timestamp();
    return new;
end;
$$
"""
TABLES = (
    "workspaces",
    "workspace_secrets",
    "users",
    "memberships",
    "api_tokens",
    "email_campaigns",
    "campaign_mode_changes",
    "leads",
    "booking_events",
    "unmatched_bookings",
    "messages",
    "ai_drafts",
    "followup_sequences",
    "followup_steps",
    "followup_enrollments",
    "auto_send_decisions",
    "notifications",
    "jobs",
)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column(
            "payload",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), server_default="queued", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("max_attempts", sa.Integer(), server_default=sa.text("8"), nullable=False),
        sa.Column(
            "run_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("dedupe_key", sa.Text(), nullable=True),
        sa.Column("locked_by", sa.Text(), nullable=True),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status in ('queued', 'running', 'done', 'dead')", name=op.f("ck_jobs_status_allowed")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index(
        "ix_jobs_claimable",
        "jobs",
        ["run_at"],
        unique=False,
        postgresql_where=sa.text("status = 'queued'"),
    )
    op.create_index(
        "uq_jobs_dedupe_key",
        "jobs",
        ["dedupe_key"],
        unique=True,
        postgresql_where=sa.text("dedupe_key is not null"),
    )
    op.create_table(
        "users",
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index(
        "uq_users_lower_email", "users", [sa.literal_column("lower(email)")], unique=True
    )
    op.create_table(
        "workspaces",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("timezone", sa.Text(), server_default="UTC", nullable=False),
        sa.Column("booking_provider", sa.String(length=16), nullable=False),
        sa.Column("calendly_scheduling_url", sa.Text(), nullable=True),
        sa.Column("ghl_location_id", sa.Text(), nullable=True),
        sa.Column("ghl_calendar_id", sa.Text(), nullable=True),
        sa.Column("ghl_booking_url", sa.Text(), nullable=True),
        sa.Column(
            "email_platform", sa.String(length=32), server_default="emailbison", nullable=False
        ),
        sa.Column("email_platform_url", sa.Text(), nullable=True),
        sa.Column(
            "review_slack_email", sa.Text(), server_default="jon@zeroriskgrowth.com", nullable=False
        ),
        sa.Column("review_slack_user_id", sa.Text(), nullable=True),
        sa.Column("report_slack_channel", sa.Text(), nullable=True),
        sa.Column(
            "auto_send_enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column("webhook_secret_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "ai_context",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "booking_provider in ('GHL', 'CALENDLY')",
            name=op.f("ck_workspaces_booking_provider_allowed"),
        ),
        sa.CheckConstraint(
            "email_platform in ('emailbison')", name=op.f("ck_workspaces_email_platform_allowed")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspaces")),
    )
    op.create_table(
        "api_tokens",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("token_prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
        sa.UniqueConstraint("token_prefix", name=op.f("uq_api_tokens_token_prefix")),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"], unique=False)
    op.create_table(
        "email_campaigns",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "response_mode", sa.String(length=16), server_default="SETTER_MANAGED", nullable=False
        ),
        sa.Column(
            "auto_send_confidence_threshold",
            sa.Numeric(precision=4, scale=3),
            server_default=sa.text("0.90"),
            nullable=False,
        ),
        sa.Column(
            "send_delay_min_seconds", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column(
            "send_delay_max_seconds", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("sending_hours", sa.String(length=16), server_default="always", nullable=False),
        sa.Column("ai_context", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("in_experiment", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("archived", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "response_mode in ('SETTER_MANAGED', 'AI_AUTO_SEND')",
            name=op.f("ck_email_campaigns_response_mode_allowed"),
        ),
        sa.CheckConstraint(
            "sending_hours in ('always', 'business_hours')",
            name=op.f("ck_email_campaigns_sending_hours_allowed"),
        ),
        sa.CheckConstraint(
            "auto_send_confidence_threshold >= 0 and auto_send_confidence_threshold <= 1",
            name=op.f("ck_email_campaigns_threshold_in_unit_interval"),
        ),
        sa.CheckConstraint(
            "send_delay_min_seconds >= 0 and send_delay_max_seconds >= send_delay_min_seconds",
            name=op.f("ck_email_campaigns_send_delay_window"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_email_campaigns_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_campaigns")),
        sa.UniqueConstraint(
            "workspace_id", "external_id", name=op.f("uq_email_campaigns_workspace_id_external_id")
        ),
    )
    op.create_index(
        op.f("ix_email_campaigns_workspace_id"), "email_campaigns", ["workspace_id"], unique=False
    )
    op.create_table(
        "followup_sequences",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_followup_sequences_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_sequences")),
        sa.UniqueConstraint(
            "workspace_id", "name", name=op.f("uq_followup_sequences_workspace_id_name")
        ),
    )
    op.create_index(
        op.f("ix_followup_sequences_workspace_id"),
        "followup_sequences",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "memberships",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "role in ('admin', 'setter', 'viewer')", name=op.f("ck_memberships_role_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_memberships_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_memberships")),
        sa.UniqueConstraint(
            "user_id", "workspace_id", name=op.f("uq_memberships_user_id_workspace_id")
        ),
    )
    op.create_index(op.f("ix_memberships_user_id"), "memberships", ["user_id"], unique=False)
    op.create_index(
        op.f("ix_memberships_workspace_id"), "memberships", ["workspace_id"], unique=False
    )
    op.create_table(
        "workspace_secrets",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "name in ('email_platform_api_key', 'calendly_signing_key', 'calendly_api_token', 'ghl_api_key', 'ghl_webhook_public_key')",
            name=op.f("ck_workspace_secrets_name_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_workspace_secrets_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_secrets")),
        sa.UniqueConstraint(
            "workspace_id", "name", name=op.f("uq_workspace_secrets_workspace_id_name")
        ),
    )
    op.create_index(
        op.f("ix_workspace_secrets_workspace_id"),
        "workspace_secrets",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "campaign_mode_changes",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("email_campaign_id", sa.UUID(), nullable=False),
        sa.Column("from_mode", sa.String(length=16), nullable=True),
        sa.Column("to_mode", sa.String(length=16), nullable=False),
        sa.Column("threshold", sa.Numeric(precision=4, scale=3), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("changed_by", sa.UUID(), nullable=True),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "from_mode is null or from_mode in ('SETTER_MANAGED', 'AI_AUTO_SEND')",
            name=op.f("ck_campaign_mode_changes_from_mode_allowed"),
        ),
        sa.CheckConstraint(
            "reason in ('created', 'manual', 'experiment')",
            name=op.f("ck_campaign_mode_changes_reason_allowed"),
        ),
        sa.CheckConstraint(
            "to_mode in ('SETTER_MANAGED', 'AI_AUTO_SEND')",
            name=op.f("ck_campaign_mode_changes_to_mode_allowed"),
        ),
        sa.CheckConstraint(
            "threshold >= 0 and threshold <= 1",
            name=op.f("ck_campaign_mode_changes_threshold_in_unit_interval"),
        ),
        sa.ForeignKeyConstraint(
            ["changed_by"],
            ["users.id"],
            name=op.f("fk_campaign_mode_changes_changed_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["email_campaign_id"],
            ["email_campaigns.id"],
            name=op.f("fk_campaign_mode_changes_email_campaign_id_email_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_campaign_mode_changes_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_mode_changes")),
    )
    op.create_index(
        op.f("ix_campaign_mode_changes_changed_at"),
        "campaign_mode_changes",
        ["changed_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_campaign_mode_changes_changed_by"),
        "campaign_mode_changes",
        ["changed_by"],
        unique=False,
    )
    op.create_index(
        op.f("ix_campaign_mode_changes_email_campaign_id"),
        "campaign_mode_changes",
        ["email_campaign_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_campaign_mode_changes_workspace_id"),
        "campaign_mode_changes",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "followup_steps",
        sa.Column("sequence_id", sa.UUID(), nullable=False),
        sa.Column("step_number", sa.Integer(), nullable=False),
        sa.Column("delay_seconds", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "channel in ('email', 'sms')", name=op.f("ck_followup_steps_channel_allowed")
        ),
        sa.CheckConstraint("delay_seconds >= 0", name=op.f("ck_followup_steps_delay_not_negative")),
        sa.CheckConstraint("step_number >= 1", name=op.f("ck_followup_steps_step_number_positive")),
        sa.ForeignKeyConstraint(
            ["sequence_id"],
            ["followup_sequences.id"],
            name=op.f("fk_followup_steps_sequence_id_followup_sequences"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_steps")),
        sa.UniqueConstraint(
            "sequence_id", "step_number", name=op.f("uq_followup_steps_sequence_id_step_number")
        ),
    )
    op.create_index(
        op.f("ix_followup_steps_sequence_id"), "followup_steps", ["sequence_id"], unique=False
    )
    op.create_table(
        "leads",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("email_campaign_id", sa.UUID(), nullable=True),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("first_name", sa.Text(), nullable=True),
        sa.Column("last_name", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("company", sa.Text(), nullable=True),
        sa.Column("industry", sa.Text(), nullable=True),
        sa.Column("headcount", sa.Text(), nullable=True),
        sa.Column("sentiment_tag", sa.String(length=32), nullable=True),
        sa.Column("ai_paused", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("ghl_contact_id", sa.Text(), nullable=True),
        sa.Column("ghl_appointment_id", sa.Text(), nullable=True),
        sa.Column("calendly_invitee_uri", sa.Text(), nullable=True),
        sa.Column("calendly_scheduled_event_uri", sa.Text(), nullable=True),
        sa.Column("appointment_status", sa.String(length=16), nullable=True),
        sa.Column("meeting_start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opted_out", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("bounced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "appointment_status is null or appointment_status in ('confirmed', 'canceled', 'showed', 'noshow')",
            name=op.f("ck_leads_appointment_status_allowed"),
        ),
        sa.CheckConstraint(
            "sentiment_tag is null or sentiment_tag in ('Interested', 'Information Requested', 'Meeting Requested', 'Call Requested', 'Not Interested', 'Objection', 'Out of Office', 'Automated Reply', 'Follow Up', 'Blacklist', 'Neutral')",
            name=op.f("ck_leads_sentiment_tag_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["email_campaign_id"],
            ["email_campaigns.id"],
            name=op.f("fk_leads_email_campaign_id_email_campaigns"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_leads_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
        sa.UniqueConstraint(
            "workspace_id", "external_id", name=op.f("uq_leads_workspace_id_external_id")
        ),
    )
    op.create_index(
        op.f("ix_leads_email_campaign_id"), "leads", ["email_campaign_id"], unique=False
    )
    op.create_index(
        "ix_leads_workspace_ghl_contact", "leads", ["workspace_id", "ghl_contact_id"], unique=False
    )
    op.create_index(op.f("ix_leads_workspace_id"), "leads", ["workspace_id"], unique=False)
    op.create_index(
        "ix_leads_workspace_lower_email",
        "leads",
        ["workspace_id", sa.literal_column("lower(email)")],
        unique=False,
    )
    op.create_table(
        "booking_events",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("lead_id", sa.UUID(), nullable=True),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("event_type", sa.String(length=16), nullable=False),
        sa.Column("provider_event_id", sa.Text(), nullable=False),
        sa.Column("appointment_status", sa.String(length=16), nullable=True),
        sa.Column("ghl_appointment_id", sa.Text(), nullable=True),
        sa.Column("calendly_invitee_uri", sa.Text(), nullable=True),
        sa.Column("calendly_scheduled_event_uri", sa.Text(), nullable=True),
        sa.Column("invitee_email", sa.Text(), nullable=True),
        sa.Column("meeting_start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "payload",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "appointment_status is null or appointment_status in ('confirmed', 'canceled', 'showed', 'noshow')",
            name=op.f("ck_booking_events_appointment_status_allowed"),
        ),
        sa.CheckConstraint(
            "event_type in ('created', 'rescheduled', 'canceled', 'showed', 'noshow')",
            name=op.f("ck_booking_events_event_type_allowed"),
        ),
        sa.CheckConstraint(
            "provider in ('GHL', 'CALENDLY')", name=op.f("ck_booking_events_provider_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_booking_events_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_booking_events_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking_events")),
        sa.UniqueConstraint(
            "workspace_id",
            "provider",
            "provider_event_id",
            name=op.f("uq_booking_events_workspace_id_provider_provider_event_id"),
        ),
    )
    op.create_index(op.f("ix_booking_events_lead_id"), "booking_events", ["lead_id"], unique=False)
    op.create_index(
        op.f("ix_booking_events_workspace_id"), "booking_events", ["workspace_id"], unique=False
    )
    op.create_table(
        "followup_enrollments",
        sa.Column("sequence_id", sa.UUID(), nullable=False),
        sa.Column("lead_id", sa.UUID(), nullable=False),
        sa.Column("last_step_number", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column("stop_reason", sa.Text(), nullable=True),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "enrolled_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status in ('active', 'completed', 'stopped')",
            name=op.f("ck_followup_enrollments_status_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_followup_enrollments_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sequence_id"],
            ["followup_sequences.id"],
            name=op.f("fk_followup_enrollments_sequence_id_followup_sequences"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_enrollments")),
    )
    op.create_index(
        "ix_followup_enrollments_due",
        "followup_enrollments",
        ["next_due_at"],
        unique=False,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_index(
        op.f("ix_followup_enrollments_lead_id"), "followup_enrollments", ["lead_id"], unique=False
    )
    op.create_index(
        op.f("ix_followup_enrollments_sequence_id"),
        "followup_enrollments",
        ["sequence_id"],
        unique=False,
    )
    op.create_index(
        "uq_followup_enrollments_active_lead",
        "followup_enrollments",
        ["lead_id"],
        unique=True,
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "messages",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("lead_id", sa.UUID(), nullable=True),
        sa.Column("email_campaign_id", sa.UUID(), nullable=True),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=8), server_default="email", nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), server_default="", nullable=False),
        sa.Column("from_address", sa.Text(), nullable=True),
        sa.Column("to_address", sa.Text(), nullable=True),
        sa.Column("sentiment", sa.String(length=32), nullable=True),
        sa.Column("sentiment_confidence", sa.Numeric(precision=4, scale=3), nullable=True),
        sa.Column("platform_tag", sa.Text(), nullable=True),
        sa.Column(
            "is_automated_reply", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("sent_by", sa.String(length=16), nullable=True),
        sa.Column("sent_by_user_id", sa.UUID(), nullable=True),
        sa.Column("ai_draft_id", sa.UUID(), nullable=True),
        sa.Column("delivery_status", sa.String(length=16), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column(
            "thread_ref",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("follow_up_step", sa.Integer(), nullable=True),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(direction = 'inbound' and sent_by is null) or (direction = 'outbound' and sent_by is not null)",
            name=op.f("ck_messages_sent_by_matches_direction"),
        ),
        sa.CheckConstraint("channel in ('email', 'sms')", name=op.f("ck_messages_channel_allowed")),
        sa.CheckConstraint(
            "delivery_status is null or delivery_status in ('claimed', 'sent', 'failed', 'unknown')",
            name=op.f("ck_messages_delivery_status_allowed"),
        ),
        sa.CheckConstraint(
            "direction = 'inbound' or sentiment is null", name=op.f("ck_messages_sentiment_inbound")
        ),
        sa.CheckConstraint(
            "direction in ('inbound', 'outbound')", name=op.f("ck_messages_direction_allowed")
        ),
        sa.CheckConstraint(
            "sent_by is null or sent_by in ('ai', 'setter', 'sequence', 'campaign')",
            name=op.f("ck_messages_sent_by_allowed"),
        ),
        sa.CheckConstraint(
            "sentiment is null or sentiment in ('Interested', 'Information Requested', 'Meeting Requested', 'Call Requested', 'Not Interested', 'Objection', 'Out of Office', 'Automated Reply', 'Follow Up', 'Blacklist', 'Neutral')",
            name=op.f("ck_messages_sentiment_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["email_campaign_id"],
            ["email_campaigns.id"],
            name=op.f("fk_messages_email_campaign_id_email_campaigns"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_messages_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_user_id"],
            ["users.id"],
            name=op.f("fk_messages_sent_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_messages_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint(
            "workspace_id",
            "channel",
            "source",
            "external_id",
            name=op.f("uq_messages_workspace_id_channel_source_external_id"),
        ),
    )
    op.create_index(
        op.f("ix_messages_email_campaign_id"), "messages", ["email_campaign_id"], unique=False
    )
    op.create_index(op.f("ix_messages_lead_id"), "messages", ["lead_id"], unique=False)
    op.create_index(
        "ix_messages_lead_occurred", "messages", ["lead_id", "occurred_at"], unique=False
    )
    op.create_index(
        op.f("ix_messages_sent_by_user_id"), "messages", ["sent_by_user_id"], unique=False
    )
    op.create_index(op.f("ix_messages_workspace_id"), "messages", ["workspace_id"], unique=False)
    op.create_index(
        "uq_messages_ai_draft_id",
        "messages",
        ["ai_draft_id"],
        unique=True,
        postgresql_where=sa.text("ai_draft_id is not null"),
    )
    op.create_table(
        "ai_drafts",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("lead_id", sa.UUID(), nullable=False),
        sa.Column("inbound_message_id", sa.UUID(), nullable=False),
        sa.Column("channel", sa.String(length=8), server_default="email", nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("confidence", sa.Numeric(precision=4, scale=3), nullable=True),
        sa.Column("safe_to_send", sa.Boolean(), nullable=True),
        sa.Column("evaluation_reason", sa.Text(), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "channel in ('email', 'sms')", name=op.f("ck_ai_drafts_channel_allowed")
        ),
        sa.CheckConstraint(
            "status in ('pending', 'scheduled', 'sent', 'rejected', 'superseded')",
            name=op.f("ck_ai_drafts_status_allowed"),
        ),
        sa.CheckConstraint(
            "confidence is null or (confidence >= 0 and confidence <= 1)",
            name=op.f("ck_ai_drafts_confidence_in_unit_interval"),
        ),
        sa.ForeignKeyConstraint(
            ["inbound_message_id"],
            ["messages.id"],
            name=op.f("fk_ai_drafts_inbound_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_ai_drafts_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_ai_drafts_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_drafts")),
    )
    op.create_index(
        op.f("ix_ai_drafts_inbound_message_id"), "ai_drafts", ["inbound_message_id"], unique=False
    )
    op.create_index(op.f("ix_ai_drafts_lead_id"), "ai_drafts", ["lead_id"], unique=False)
    op.create_index(op.f("ix_ai_drafts_workspace_id"), "ai_drafts", ["workspace_id"], unique=False)
    # messages and ai_drafts refer to each other: the second key comes once both exist.
    op.create_foreign_key(
        op.f("fk_messages_ai_draft_id_ai_drafts"),
        "messages",
        "ai_drafts",
        ["ai_draft_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_table(
        "unmatched_bookings",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("booking_event_id", sa.UUID(), nullable=False),
        sa.Column("invitee_email", sa.Text(), nullable=True),
        sa.Column("matched_lead_id", sa.UUID(), nullable=True),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["booking_event_id"],
            ["booking_events.id"],
            name=op.f("fk_unmatched_bookings_booking_event_id_booking_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["matched_lead_id"],
            ["leads.id"],
            name=op.f("fk_unmatched_bookings_matched_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_unmatched_bookings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unmatched_bookings")),
    )
    op.create_index(
        op.f("ix_unmatched_bookings_booking_event_id"),
        "unmatched_bookings",
        ["booking_event_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_unmatched_bookings_matched_lead_id"),
        "unmatched_bookings",
        ["matched_lead_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_unmatched_bookings_workspace_id"),
        "unmatched_bookings",
        ["workspace_id"],
        unique=False,
    )
    op.create_index(
        "ix_unmatched_bookings_workspace_lower_email",
        "unmatched_bookings",
        ["workspace_id", sa.literal_column("lower(invitee_email)")],
        unique=False,
    )
    op.create_table(
        "auto_send_decisions",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("lead_id", sa.UUID(), nullable=False),
        sa.Column("ai_draft_id", sa.UUID(), nullable=True),
        sa.Column("inbound_message_id", sa.UUID(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Numeric(precision=4, scale=3), nullable=True),
        sa.Column("threshold", sa.Numeric(precision=4, scale=3), nullable=True),
        sa.Column(
            "inputs",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "decided_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "action in ('skip', 'needs_review', 'send_now', 'send_later')",
            name=op.f("ck_auto_send_decisions_action_allowed"),
        ),
        sa.ForeignKeyConstraint(
            ["ai_draft_id"],
            ["ai_drafts.id"],
            name=op.f("fk_auto_send_decisions_ai_draft_id_ai_drafts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["inbound_message_id"],
            ["messages.id"],
            name=op.f("fk_auto_send_decisions_inbound_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_auto_send_decisions_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_auto_send_decisions_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auto_send_decisions")),
    )
    op.create_index(
        op.f("ix_auto_send_decisions_ai_draft_id"),
        "auto_send_decisions",
        ["ai_draft_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_auto_send_decisions_inbound_message_id"),
        "auto_send_decisions",
        ["inbound_message_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_auto_send_decisions_lead_id"), "auto_send_decisions", ["lead_id"], unique=False
    )
    op.create_index(
        op.f("ix_auto_send_decisions_workspace_id"),
        "auto_send_decisions",
        ["workspace_id"],
        unique=False,
    )
    op.create_table(
        "notifications",
        sa.Column("workspace_id", sa.UUID(), nullable=False),
        sa.Column("lead_id", sa.UUID(), nullable=True),
        sa.Column("ai_draft_id", sa.UUID(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("dedupe_key", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("slack_channel", sa.Text(), nullable=True),
        sa.Column("slack_ts", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status in ('pending', 'sent', 'failed')", name=op.f("ck_notifications_status_allowed")
        ),
        sa.ForeignKeyConstraint(
            ["ai_draft_id"],
            ["ai_drafts.id"],
            name=op.f("fk_notifications_ai_draft_id_ai_drafts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_notifications_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_notifications_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notifications_dedupe_key")),
    )
    op.create_index(
        op.f("ix_notifications_ai_draft_id"), "notifications", ["ai_draft_id"], unique=False
    )
    op.create_index(op.f("ix_notifications_lead_id"), "notifications", ["lead_id"], unique=False)
    op.create_index(
        op.f("ix_notifications_workspace_id"), "notifications", ["workspace_id"], unique=False
    )

    op.execute(SET_UPDATED_AT)
    for table in TABLES:
        op.execute(
            f"create trigger {table}_set_updated_at before update on {table} "
            "for each row execute function replyline_set_updated_at()"
        )


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"drop trigger if exists {table}_set_updated_at on {table}")
    op.execute("drop function if exists replyline_set_updated_at()")
    op.drop_constraint(op.f("fk_messages_ai_draft_id_ai_drafts"), "messages", type_="foreignkey")
    op.drop_index(op.f("ix_notifications_workspace_id"), table_name="notifications")
    op.drop_index(op.f("ix_notifications_lead_id"), table_name="notifications")
    op.drop_index(op.f("ix_notifications_ai_draft_id"), table_name="notifications")
    op.drop_table("notifications")
    op.drop_index(op.f("ix_auto_send_decisions_workspace_id"), table_name="auto_send_decisions")
    op.drop_index(op.f("ix_auto_send_decisions_lead_id"), table_name="auto_send_decisions")
    op.drop_index(
        op.f("ix_auto_send_decisions_inbound_message_id"), table_name="auto_send_decisions"
    )
    op.drop_index(op.f("ix_auto_send_decisions_ai_draft_id"), table_name="auto_send_decisions")
    op.drop_table("auto_send_decisions")
    op.drop_index("ix_unmatched_bookings_workspace_lower_email", table_name="unmatched_bookings")
    op.drop_index(op.f("ix_unmatched_bookings_workspace_id"), table_name="unmatched_bookings")
    op.drop_index(op.f("ix_unmatched_bookings_matched_lead_id"), table_name="unmatched_bookings")
    op.drop_index(op.f("ix_unmatched_bookings_booking_event_id"), table_name="unmatched_bookings")
    op.drop_table("unmatched_bookings")
    op.drop_index(op.f("ix_ai_drafts_workspace_id"), table_name="ai_drafts")
    op.drop_index(op.f("ix_ai_drafts_lead_id"), table_name="ai_drafts")
    op.drop_index(op.f("ix_ai_drafts_inbound_message_id"), table_name="ai_drafts")
    op.drop_table("ai_drafts")
    op.drop_index(
        "uq_messages_ai_draft_id",
        table_name="messages",
        postgresql_where=sa.text("ai_draft_id is not null"),
    )
    op.drop_index(op.f("ix_messages_workspace_id"), table_name="messages")
    op.drop_index(op.f("ix_messages_sent_by_user_id"), table_name="messages")
    op.drop_index("ix_messages_lead_occurred", table_name="messages")
    op.drop_index(op.f("ix_messages_lead_id"), table_name="messages")
    op.drop_index(op.f("ix_messages_email_campaign_id"), table_name="messages")
    op.drop_table("messages")
    op.drop_index(
        "uq_followup_enrollments_active_lead",
        table_name="followup_enrollments",
        postgresql_where=sa.text("status = 'active'"),
    )
    op.drop_index(op.f("ix_followup_enrollments_sequence_id"), table_name="followup_enrollments")
    op.drop_index(op.f("ix_followup_enrollments_lead_id"), table_name="followup_enrollments")
    op.drop_index(
        "ix_followup_enrollments_due",
        table_name="followup_enrollments",
        postgresql_where=sa.text("status = 'active'"),
    )
    op.drop_table("followup_enrollments")
    op.drop_index(op.f("ix_booking_events_workspace_id"), table_name="booking_events")
    op.drop_index(op.f("ix_booking_events_lead_id"), table_name="booking_events")
    op.drop_table("booking_events")
    op.drop_index("ix_leads_workspace_lower_email", table_name="leads")
    op.drop_index(op.f("ix_leads_workspace_id"), table_name="leads")
    op.drop_index("ix_leads_workspace_ghl_contact", table_name="leads")
    op.drop_index(op.f("ix_leads_email_campaign_id"), table_name="leads")
    op.drop_table("leads")
    op.drop_index(op.f("ix_followup_steps_sequence_id"), table_name="followup_steps")
    op.drop_table("followup_steps")
    op.drop_index(op.f("ix_campaign_mode_changes_workspace_id"), table_name="campaign_mode_changes")
    op.drop_index(
        op.f("ix_campaign_mode_changes_email_campaign_id"), table_name="campaign_mode_changes"
    )
    op.drop_index(op.f("ix_campaign_mode_changes_changed_by"), table_name="campaign_mode_changes")
    op.drop_index(op.f("ix_campaign_mode_changes_changed_at"), table_name="campaign_mode_changes")
    op.drop_table("campaign_mode_changes")
    op.drop_index(op.f("ix_workspace_secrets_workspace_id"), table_name="workspace_secrets")
    op.drop_table("workspace_secrets")
    op.drop_index(op.f("ix_memberships_workspace_id"), table_name="memberships")
    op.drop_index(op.f("ix_memberships_user_id"), table_name="memberships")
    op.drop_table("memberships")
    op.drop_index(op.f("ix_followup_sequences_workspace_id"), table_name="followup_sequences")
    op.drop_table("followup_sequences")
    op.drop_index(op.f("ix_email_campaigns_workspace_id"), table_name="email_campaigns")
    op.drop_table("email_campaigns")
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("workspaces")
    op.drop_index("uq_users_lower_email", table_name="users")
    op.drop_table("users")
    op.drop_index(
        "uq_jobs_dedupe_key", table_name="jobs", postgresql_where=sa.text("dedupe_key is not null")
    )
    op.drop_index(
        "ix_jobs_claimable", table_name="jobs", postgresql_where=sa.text("status = 'queued'")
    )
    op.drop_table("jobs")
