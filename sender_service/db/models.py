"""The whole operational schema (docs/data-model.md) as SQLAlchemy 2.0 typed models.

Enumerations are text columns with check constraints built from `definitions` and the tuples
below, so one list feeds the code, the database and the migrations. Every table has
`created_at` and `updated_at`; a trigger (see the migrations) keeps `updated_at` on every
UPDATE, bulk SQL included, so incremental replication sees each change.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sender_service.definitions import APPOINTMENT_STATUSES, SENTIMENTS
from sender_service.jobs import JOB_STATUSES

BOOKING_PROVIDERS: Final = ("GHL", "CALENDLY")
EMAIL_PLATFORMS: Final = ("emailbison", "smartlead", "instantly")
ROLES: Final = ("admin", "setter", "viewer")
SECRET_NAMES: Final = (
    "email_platform_api_key",
    "calendly_signing_key",
    "calendly_api_token",
    "ghl_api_key",
    "ghl_webhook_public_key",
    "slack_signing_secret",
)
RESPONSE_MODES: Final = ("SETTER_MANAGED", "AI_AUTO_SEND")
SENDING_HOURS: Final = ("always", "business_hours")
MODE_CHANGE_REASONS: Final = ("created", "manual", "experiment")
BOOKING_EVENT_TYPES: Final = ("created", "rescheduled", "canceled", "showed", "noshow")
DIRECTIONS: Final = ("inbound", "outbound")
CHANNELS: Final = ("email", "sms")
SENT_BY: Final = ("ai", "setter", "sequence", "campaign")
# Outbound rows are claimed before the provider is called: claimed → sent | failed | unknown.
DELIVERY_STATUSES: Final = ("claimed", "sent", "failed", "unknown")
DRAFT_STATUSES: Final = ("pending", "scheduled", "sent", "rejected", "superseded")
# `revise`: the evaluator stopped a draft for a reason a rewrite can fix; a new version follows.
DECISION_ACTIONS: Final = ("skip", "needs_review", "send_now", "send_later", "revise")
MAX_REVISIONS_LIMIT: Final = 3
# The outbound guard's rules (`pipeline.outbound_guard`), as a decision records them.
GUARD_RULES: Final = ("link", "contact", "pricing", "placeholder", "language", "length", "echo")
ENROLLMENT_STATUSES: Final = ("active", "completed", "stopped")
NOTIFICATION_STATUSES: Final = ("pending", "sent", "failed")
# Replies a workspace may have posted to its alerts channel (`notify.alerts`).
ALERT_KINDS: Final = ("meeting_requested", "call_requested", "negative_after_ai")
ALERT_DIGESTS: Final = ("daily",)
# An alert row: `pending` → `posting` (claimed, Slack being called) → `sent`; `suppressed` when
# the lead had an alert within the hour; `digest` waits for the day's digest post.
ALERT_STATUSES: Final = ("pending", "posting", "sent", "suppressed", "digest")
WEBHOOK_PROVIDERS: Final = (*EMAIL_PLATFORMS, "ghl", "calendly")
# What became of a journaled delivery: `held` waits for a replay (or `discarded`); `stale` is a
# Calendly delivery refused for its old signature, `reconciled` once its booking was fetched.
DELIVERY_OUTCOMES: Final = (
    "stored",
    "duplicate",
    "ignored",
    "held",
    "rejected",
    "stale",
    "reconciled",
    "discarded",
)

DEFAULT_REVIEW_EMAIL: Final = "jon@zeroriskgrowth.com"
DEFAULT_THRESHOLD: Final = Decimal("0.90")


def one_of(column: str, values: tuple[str, ...], *, nullable: bool = False) -> CheckConstraint:
    """A named check constraint limiting `column` to `values`."""
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    condition = f"{column} in ({quoted})"
    if nullable:
        condition = f"{column} is null or {condition}"
    return CheckConstraint(condition, name=f"{column}_allowed")


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {
        uuid.UUID: UUID(as_uuid=True),
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSONB,
    }


class Timestamped:
    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, default=uuid.uuid4, server_default=text("gen_random_uuid()")
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


def fk(target: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> Mapped[Any]:
    """An indexed foreign key to `target` (`table.column`)."""
    return mapped_column(ForeignKey(target, ondelete=ondelete), nullable=nullable, index=True)


class Workspace(Timestamped, Base):
    __tablename__ = "workspaces"
    __table_args__ = (
        one_of("booking_provider", BOOKING_PROVIDERS),
        one_of("email_platform", EMAIL_PLATFORMS),
        CheckConstraint(
            "max_email_chars > 0 and max_sms_chars > 0", name="outbound_limits_positive"
        ),
        CheckConstraint(
            "business_hours_start >= 0 and business_hours_start < business_hours_end"
            " and business_hours_end <= 24",
            name="business_hours_valid",
        ),
        CheckConstraint(
            f"max_revisions between 0 and {MAX_REVISIONS_LIMIT}", name="max_revisions_range"
        ),
        one_of("alerts_digest", ALERT_DIGESTS, nullable=True),
    )

    name: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(Text, server_default="UTC")
    booking_provider: Mapped[str] = mapped_column(String(16))
    calendly_scheduling_url: Mapped[str | None] = mapped_column(Text)
    ghl_location_id: Mapped[str | None] = mapped_column(Text)
    ghl_calendar_id: Mapped[str | None] = mapped_column(Text)
    ghl_booking_url: Mapped[str | None] = mapped_column(Text)
    email_platform: Mapped[str] = mapped_column(String(32), server_default="emailbison")
    email_platform_url: Mapped[str | None] = mapped_column(Text)
    review_slack_email: Mapped[str] = mapped_column(Text, server_default=DEFAULT_REVIEW_EMAIL)
    review_slack_user_id: Mapped[str | None] = mapped_column(Text)
    # The email `review_slack_user_id` was resolved from: a cache for another email is stale.
    review_slack_user_email: Mapped[str | None] = mapped_column(Text)
    report_slack_channel: Mapped[str | None] = mapped_column(Text)
    auto_send_enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    webhook_secret_hash: Mapped[str] = mapped_column(String(64))
    ai_context: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    # The platform's custom variable to read headcount / industry from before the usual names.
    headcount_field: Mapped[str | None] = mapped_column(Text)
    industry_field: Mapped[str | None] = mapped_column(Text)
    # The outbound guard's settings: hosts an AI message may link to besides the booking
    # link's (IDNA/punycode, lower case; subdomains included), pricing talk, length limits.
    allowed_link_domains: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    allow_pricing_talk: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    max_email_chars: Mapped[int] = mapped_column(Integer, server_default=text("1200"))
    max_sms_chars: Mapped[int] = mapped_column(Integer, server_default=text("320"))
    # Local hours, Monday to Friday, in which a setter's response time runs (setter_kpis).
    business_hours_start: Mapped[int] = mapped_column(SmallInteger, server_default=text("9"))
    business_hours_end: Mapped[int] = mapped_column(SmallInteger, server_default=text("17"))
    # Rewrites the AI may try when the evaluator says one can fix a draft (`pipeline.revision`).
    max_revisions: Mapped[int] = mapped_column(SmallInteger, server_default=text("2"))
    # Channel alerts for some replies (`notify.alerts`): none while no channel or no kinds;
    # `alerts_digest` 'daily' trades the immediate posts for one post a day.
    alerts_channel: Mapped[str | None] = mapped_column(Text)
    alerts_kinds: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    alerts_digest: Mapped[str | None] = mapped_column(String(8))


class WorkspaceSecret(Timestamped, Base):
    __tablename__ = "workspace_secrets"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name"),
        one_of("name", SECRET_NAMES),
    )

    workspace_id: Mapped[uuid.UUID] = fk("workspaces.id")
    name: Mapped[str] = mapped_column(String(64))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)


class User(Timestamped, Base):
    __tablename__ = "users"
    __table_args__ = (Index("uq_users_lower_email", text("lower(email)"), unique=True),)

    email: Mapped[str] = mapped_column(Text)
    password_hash: Mapped[str | None] = mapped_column(Text)
    last_sign_in_at: Mapped[datetime | None]


class Membership(Timestamped, Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "workspace_id"),
        one_of("role", ROLES),
        CheckConstraint("assignment_weight between 0 and 100", name="assignment_weight_range"),
    )

    user_id: Mapped[uuid.UUID] = fk("users.id")
    workspace_id: Mapped[uuid.UUID] = fk("workspaces.id")
    role: Mapped[str] = mapped_column(String(16))
    # A setter's share of the replies waiting for a person (sender_service/assignment.py).
    assignment_weight: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    assignment_paused: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    assignment_credit: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # The platform mailbox the member sends from: an inbox reply from it is theirs.
    sending_mailbox: Mapped[str | None] = mapped_column(Text)


class ApiToken(Timestamped, Base):
    __tablename__ = "api_tokens"

    user_id: Mapped[uuid.UUID] = fk("users.id")
    token_prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class EmailCampaign(Timestamped, Base):
    __tablename__ = "email_campaigns"
    __table_args__ = (
        UniqueConstraint("workspace_id", "external_id"),
        one_of("response_mode", RESPONSE_MODES),
        one_of("sending_hours", SENDING_HOURS),
        CheckConstraint(
            "auto_send_confidence_threshold >= 0 and auto_send_confidence_threshold <= 1",
            name="threshold_in_unit_interval",
        ),
        CheckConstraint(
            "send_delay_min_seconds >= 0 and send_delay_max_seconds >= send_delay_min_seconds",
            name="send_delay_window",
        ),
    )

    workspace_id: Mapped[uuid.UUID] = fk("workspaces.id")
    external_id: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    response_mode: Mapped[str] = mapped_column(String(16), server_default="SETTER_MANAGED")
    auto_send_confidence_threshold: Mapped[Decimal] = mapped_column(
        Numeric(4, 3), server_default=text("0.90")
    )
    send_delay_min_seconds: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    send_delay_max_seconds: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    sending_hours: Mapped[str] = mapped_column(String(16), server_default="always")
    ai_context: Mapped[dict[str, Any] | None]
    in_experiment: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    archived: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class CampaignModeChange(Timestamped, Base):
    __tablename__ = "campaign_mode_changes"
    __table_args__ = (
        one_of("from_mode", RESPONSE_MODES, nullable=True),
        one_of("to_mode", RESPONSE_MODES),
        one_of("reason", MODE_CHANGE_REASONS),
        CheckConstraint("threshold >= 0 and threshold <= 1", name="threshold_in_unit_interval"),
    )

    workspace_id: Mapped[uuid.UUID] = fk("workspaces.id")
    email_campaign_id: Mapped[uuid.UUID] = fk("email_campaigns.id")
    from_mode: Mapped[str | None] = mapped_column(String(16))
    to_mode: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[Decimal] = mapped_column(Numeric(4, 3))
    reason: Mapped[str] = mapped_column(String(16))
    changed_by: Mapped[uuid.UUID | None] = fk("users.id", nullable=True, ondelete="SET NULL")
    changed_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)


class Lead(Timestamped, Base):
    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("workspace_id", "external_id"),
        one_of("appointment_status", APPOINTMENT_STATUSES, nullable=True),
        one_of("sentiment_tag", SENTIMENTS, nullable=True),
        Index("ix_leads_workspace_lower_email", "workspace_id", text("lower(email)")),
        Index("ix_leads_workspace_ghl_contact", "workspace_id", "ghl_contact_id"),
        # Incremental replication reads rows changed since its watermark (migration 0005).
        Index("ix_leads_updated_at", "updated_at"),
    )

    workspace_id: Mapped[uuid.UUID] = fk("workspaces.id")
    email_campaign_id: Mapped[uuid.UUID | None] = fk(
        "email_campaigns.id", nullable=True, ondelete="SET NULL"
    )
    external_id: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    first_name: Mapped[str | None] = mapped_column(Text)
    last_name: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    company: Mapped[str | None] = mapped_column(Text)
    industry: Mapped[str | None] = mapped_column(Text)
    headcount: Mapped[str | None] = mapped_column(Text)
    sentiment_tag: Mapped[str | None] = mapped_column(String(32))
    ai_paused: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    ghl_contact_id: Mapped[str | None] = mapped_column(Text)
    ghl_appointment_id: Mapped[str | None] = mapped_column(Text)
    calendly_invitee_uri: Mapped[str | None] = mapped_column(Text)
    calendly_scheduled_event_uri: Mapped[str | None] = mapped_column(Text)
    appointment_status: Mapped[str | None] = mapped_column(String(16))
    meeting_start_at: Mapped[datetime | None]
    booked_at: Mapped[datetime | None]
    opted_out: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    bounced_at: Mapped[datetime | None]
    # The setter this lead's replies wait for, when a person must answer.
    assigned_user_id: Mapped[uuid.UUID | None] = fk("users.id", nullable=True, ondelete="SET NULL")
    assigned_at: Mapped[datetime | None]
    # The platform's custom variables as last delivered ({name: value}), so a new field
    # mapping re-reads headcount and industry. Personal data: erased, never replicated.
    custom_variables: Mapped[dict[str, Any] | None]


class BookingEvent(Timestamped, Base):
    __tablename__ = "booking_events"
    __table_args__ = (
        UniqueConstraint("workspace_id", "provider", "provider_event_id"),
        one_of("provider", BOOKING_PROVIDERS),
        one_of("event_type", BOOKING_EVENT_TYPES),
        one_of("appointment_status", APPOINTMENT_STATUSES, nullable=True),
    )

    workspace_id: Mapped[uuid.UUID] = fk("workspaces.id")
    lead_id: Mapped[uuid.UUID | None] = fk("leads.id", nullable=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_type: Mapped[str] = mapped_column(String(16))
    # The provider's own id for this delivery, so a redelivery is recognised and ignored.
    provider_event_id: Mapped[str] = mapped_column(Text)
    appointment_status: Mapped[str | None] = mapped_column(String(16))
    ghl_appointment_id: Mapped[str | None] = mapped_column(Text)
    calendly_invitee_uri: Mapped[str | None] = mapped_column(Text)
    calendly_scheduled_event_uri: Mapped[str | None] = mapped_column(Text)
    invitee_email: Mapped[str | None] = mapped_column(Text)
    meeting_start_at: Mapped[datetime | None]
    occurred_at: Mapped[datetime] = mapped_column(server_default=func.now())
    payload: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))


class UnmatchedBooking(Timestamped, Base):
    __tablename__ = "unmatched_bookings"
    __table_args__ = (
        Index(
            "ix_unmatched_bookings_workspace_lower_email",
            "workspace_id",
            text("lower(invitee_email)"),
        ),
    )

    workspace_id: Mapped[uuid.UUID] = fk("workspaces.id")
    booking_event_id: Mapped[uuid.UUID] = fk("booking_events.id")
    invitee_email: Mapped[str | None] = mapped_column(Text)
    matched_lead_id: Mapped[uuid.UUID | None] = fk("leads.id", nullable=True)
    matched_at: Mapped[datetime | None]


class Message(Timestamped, Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel", "source", "external_id"),
        Index(
            "uq_messages_ai_draft_id",
            "ai_draft_id",
            unique=True,
            postgresql_where=text("ai_draft_id is not null"),
        ),
        Index("ix_messages_lead_occurred", "lead_id", "occurred_at"),
        # Incremental replication reads rows changed since its watermark (migration 0005).
        Index("ix_messages_updated_at", "updated_at"),
        # One send per follow-up step of an enrollment, however many workers try.
        Index(
            "uq_messages_followup_enrollment_step",
            "followup_enrollment_id",
            "follow_up_step",
            unique=True,
            postgresql_where=text("followup_enrollment_id is not null"),
        ),
        one_of("direction", DIRECTIONS),
        one_of("channel", CHANNELS),
        one_of("sentiment", SENTIMENTS, nullable=True),
        one_of("sent_by", SENT_BY, nullable=True),
        one_of("delivery_status", DELIVERY_STATUSES, nullable=True),
        CheckConstraint(
            "(direction = 'inbound' and sent_by is null)"
            " or (direction = 'outbound' and sent_by is not null)",
            name="sent_by_matches_direction",
        ),
        CheckConstraint("direction = 'inbound' or sentiment is null", name="sentiment_inbound"),
    )

    workspace_id: Mapped[uuid.UUID] = fk("workspaces.id")
    lead_id: Mapped[uuid.UUID | None] = fk("leads.id", nullable=True)
    email_campaign_id: Mapped[uuid.UUID | None] = fk(
        "email_campaigns.id", nullable=True, ondelete="SET NULL"
    )
    direction: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(8), server_default="email")
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, server_default="")
    # The HTML the message arrived as, when `body` is the text read from it (campaign emails).
    body_html: Mapped[str | None] = mapped_column(Text)
    from_address: Mapped[str | None] = mapped_column(Text)
    to_address: Mapped[str | None] = mapped_column(Text)
    sentiment: Mapped[str | None] = mapped_column(String(32))
    sentiment_confidence: Mapped[Decimal | None] = mapped_column(Numeric(4, 3))
    # The platform's own tag (e.g. LEAD_INTERESTED): a hint, never our classification.
    platform_tag: Mapped[str | None] = mapped_column(Text)
    is_automated_reply: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    sent_by: Mapped[str | None] = mapped_column(String(16))
    sent_by_user_id: Mapped[uuid.UUID | None] = fk("users.id", nullable=True, ondelete="SET NULL")
    ai_draft_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ai_drafts.id", ondelete="SET NULL", use_alter=True)
    )
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(Text)
    # Platform ids needed to answer in the same thread (reply id, sender mailbox id).
    thread_ref: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    follow_up_step: Mapped[int | None] = mapped_column(Integer)
    followup_enrollment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("followup_enrollments.id", ondelete="SET NULL", use_alter=True)
    )
    occurred_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AIDraft(Timestamped, Base):
    __tablename__ = "ai_drafts"
    __table_args__ = (
        one_of("status", DRAFT_STATUSES),
        one_of("channel", CHANNELS),
        CheckConstraint(
            "confidence is null or (confidence >= 0 and confidence <= 1)",
            name="confidence_in_unit_interval",
        ),
    )

    workspace_id: Mapped[uuid.UUID] = fk("workspaces.id")
    lead_id: Mapped[uuid.UUID] = fk("leads.id")
    inbound_message_id: Mapped[uuid.UUID] = fk("messages.id")
    channel: Mapped[str] = mapped_column(String(8), server_default="email")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    confidence: Mapped[Decimal | None] = mapped_column(Numeric(4, 3))
    safe_to_send: Mapped[bool | None] = mapped_column(Boolean)
    evaluation_reason: Mapped[str | None] = mapped_column(Text)
    # Who rejected or regenerated it from Slack, and when (a send names its sender itself).
    reviewed_by_user_id: Mapped[uuid.UUID | None] = fk(
        "users.id", nullable=True, ondelete="SET NULL"
    )
    reviewed_at: Mapped[datetime | None]
    previous_draft_id: Mapped[uuid.UUID | None] = fk(
        "ai_drafts.id", nullable=True, ondelete="SET NULL"
    )
    # 0: the first draft; n: written in the revision loop's round n (a reviewer's Regenerate
    # keeps its predecessor's round). `revision_hint`: the evaluator's advice for a rewrite.
    revision_round: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    revision_hint: Mapped[str | None] = mapped_column(Text)


class FollowupSequence(Timestamped, Base):
    __tablename__ = "followup_sequences"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    workspace_id: Mapped[uuid.UUID] = fk("workspaces.id")
    name: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class FollowupStep(Timestamped, Base):
    __tablename__ = "followup_steps"
    __table_args__ = (
        UniqueConstraint("sequence_id", "step_number"),
        one_of("channel", CHANNELS),
        CheckConstraint("step_number >= 1", name="step_number_positive"),
        CheckConstraint("delay_seconds >= 0", name="delay_not_negative"),
    )

    sequence_id: Mapped[uuid.UUID] = fk("followup_sequences.id")
    step_number: Mapped[int] = mapped_column(Integer)
    delay_seconds: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(8))
    template: Mapped[str] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(Text)


class FollowupEnrollment(Timestamped, Base):
    __tablename__ = "followup_enrollments"
    __table_args__ = (
        one_of("status", ENROLLMENT_STATUSES),
        # A lead is in at most one active sequence at a time.
        Index(
            "uq_followup_enrollments_active_lead",
            "lead_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
        ),
        Index(
            "ix_followup_enrollments_due", "next_due_at", postgresql_where=text("status = 'active'")
        ),
    )

    sequence_id: Mapped[uuid.UUID] = fk("followup_sequences.id")
    lead_id: Mapped[uuid.UUID] = fk("leads.id")
    last_step_number: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    status: Mapped[str] = mapped_column(String(16), server_default="active")
    stop_reason: Mapped[str | None] = mapped_column(Text)
    next_due_at: Mapped[datetime | None]
    enrolled_at: Mapped[datetime] = mapped_column(server_default=func.now())
    ended_at: Mapped[datetime | None]


class AutoSendDecision(Timestamped, Base):
    __tablename__ = "auto_send_decisions"
    __table_args__ = (
        one_of("action", DECISION_ACTIONS),
        CheckConstraint(
            "guard_rules <@ array[" + ", ".join(f"'{r}'" for r in GUARD_RULES) + "]::text[]",
            name="guard_rules_allowed",
        ),
    )

    workspace_id: Mapped[uuid.UUID] = fk("workspaces.id")
    lead_id: Mapped[uuid.UUID] = fk("leads.id")
    ai_draft_id: Mapped[uuid.UUID | None] = fk("ai_drafts.id", nullable=True)
    inbound_message_id: Mapped[uuid.UUID | None] = fk("messages.id", nullable=True)
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    confidence: Mapped[Decimal | None] = mapped_column(Numeric(4, 3))
    threshold: Mapped[Decimal | None] = mapped_column(Numeric(4, 3))
    inputs: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    scheduled_for: Mapped[datetime | None]
    decided_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # The outbound guard's rules that stopped the draft (empty: the guard was not the reason).
    guard_rules: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))


class Notification(Timestamped, Base):
    __tablename__ = "notifications"
    __table_args__ = (one_of("status", NOTIFICATION_STATUSES),)

    workspace_id: Mapped[uuid.UUID] = fk("workspaces.id")
    lead_id: Mapped[uuid.UUID | None] = fk("leads.id", nullable=True)
    ai_draft_id: Mapped[uuid.UUID | None] = fk("ai_drafts.id", nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    # One notification per purpose (e.g. "review:<draft id>"): retries never DM twice.
    dedupe_key: Mapped[str] = mapped_column(Text, unique=True)
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None]
    slack_channel: Mapped[str | None] = mapped_column(Text)
    slack_ts: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]


class ReplyAlert(Timestamped, Base):
    """One alert-worthy reply. The hour's limit per lead is checked under the lead's row lock,
    so two workers never both post for one lead."""

    __tablename__ = "reply_alerts"
    __table_args__ = (
        one_of("kind", ALERT_KINDS),
        one_of("status", ALERT_STATUSES),
        Index("ix_reply_alerts_lead_id_claimed_at", "lead_id", "claimed_at"),
    )

    workspace_id: Mapped[uuid.UUID] = fk("workspaces.id")
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), unique=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    claimed_at: Mapped[datetime | None]
    slack_channel: Mapped[str | None] = mapped_column(Text)
    slack_ts: Mapped[str | None] = mapped_column(Text)


class Job(Timestamped, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        one_of("status", JOB_STATUSES),
        Index("ix_jobs_claimable", "run_at", postgresql_where=text("status = 'queued'")),
        Index(
            "uq_jobs_dedupe_key",
            "dedupe_key",
            unique=True,
            postgresql_where=text("dedupe_key is not null"),
        ),
    )

    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    status: Mapped[str] = mapped_column(String(16), server_default="queued")
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    max_attempts: Mapped[int] = mapped_column(Integer, server_default=text("8"))
    run_at: Mapped[datetime] = mapped_column(server_default=func.now())
    dedupe_key: Mapped[str | None] = mapped_column(Text)
    locked_by: Mapped[str | None] = mapped_column(Text)
    locked_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]


class RowDeletion(Timestamped, Base):
    """The delete log: one row per deleted row, written by triggers (migration 0004_issue8).

    Incremental replication reads it to propagate deletes without comparing every id. A row
    with `row_id` null records a TRUNCATE of the whole table, which row triggers cannot see.
    """

    __tablename__ = "row_deletions"
    __table_args__ = (Index("ix_row_deletions_table_name_deleted_at", "table_name", "deleted_at"),)

    table_name: Mapped[str] = mapped_column(Text)
    row_id: Mapped[uuid.UUID | None]
    deleted_at: Mapped[datetime] = mapped_column(server_default=func.clock_timestamp())


class RowFingerprintDelta(Timestamped, Base):
    """The row fingerprint log: per replicated table, the sum of its rows is the table's row
    count and id checksum (migration 0018_row_fingerprints). Written by statement triggers, one
    row per INSERT or DELETE statement (a TRUNCATE resets it), never updated; the warehouse
    refresh sums it in its snapshot and compacts it (`sender_service.db.fingerprints`).
    """

    __tablename__ = "row_fingerprint_deltas"

    table_name: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(BigInteger)
    # The sum of each id's first 60 bits: past int8 after a handful of rows, so numeric.
    id_checksum: Mapped[Decimal] = mapped_column(Numeric)


class WebhookDelivery(Timestamped, Base):
    """The delivery journal: every authenticated webhook body, verbatim, and its outcome.

    Written before or with whatever the body becomes, so nothing a provider sends is lost; a
    `held` body waits for `replyline webhooks replay`. Holds personal data: lead erasure scrubs
    it and the periodic job deletes rows older than `WEBHOOK_JOURNAL_RETENTION_DAYS`.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        one_of("provider", WEBHOOK_PROVIDERS),
        one_of("outcome", DELIVERY_OUTCOMES),
        Index("ix_webhook_deliveries_received_at", "received_at"),
    )

    workspace_id: Mapped[uuid.UUID] = fk("workspaces.id")
    provider: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(server_default=func.now())
    body: Mapped[bytes] = mapped_column(LargeBinary)
    # Only the headers a reader looks at; never a secret or a signature value.
    headers: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    error_field: Mapped[str | None] = mapped_column(Text)
    lead_id: Mapped[uuid.UUID | None] = fk("leads.id", nullable=True, ondelete="SET NULL")
    replayed_at: Mapped[datetime | None]


class WorkerHeartbeat(Timestamped, Base):
    """One row per worker, refreshed as it polls the queue (migration 0010_issue14_poison):
    `/healthz` reports a worker that has stopped polling."""

    __tablename__ = "worker_heartbeats"

    worker: Mapped[str] = mapped_column(Text, unique=True)
    polled_at: Mapped[datetime] = mapped_column(server_default=func.now())


TABLES: Final[tuple[str, ...]] = tuple(Base.metadata.tables)
# What the warehouse copies: every table but the operational bookkeeping (deletions, row
# fingerprints, worker heartbeats, channel alerts) and the raw delivery journal.
_NOT_REPLICATED: Final = (
    RowDeletion.__tablename__,
    RowFingerprintDelta.__tablename__,
    WorkerHeartbeat.__tablename__,
    WebhookDelivery.__tablename__,
    ReplyAlert.__tablename__,
)
REPLICATED_TABLES: Final[tuple[str, ...]] = tuple(t for t in TABLES if t not in _NOT_REPLICATED)
