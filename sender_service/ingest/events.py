"""The platform-neutral event every platform parser produces, and the parser contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

EventKind = Literal["reply", "untracked_reply", "outbound", "unsubscribed", "bounced", "tagged"]


class PayloadError(ValueError):
    """The body is not a usable event; `field` is the dotted path of the offending field."""

    def __init__(self, error: str, field: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.field = field


class NotJSON(PayloadError):
    """No provider's delivery: not JSON, or JSON no reader should walk (nested too deep,
    numbers Python refuses to convert). Answered 400 (and journaled), where valid JSON a
    reader cannot use is held. Raised by `guards.load_json`, the one JSON loader."""


class NotThisWorkspace(PayloadError):
    """The body names another account of the provider than the workspace's: answered 403."""


@dataclass(frozen=True)
class Ignored:
    """A delivery Replyline deliberately does nothing with, and why (kept in the journal)."""

    reason: str


@dataclass(frozen=True)
class LeadInfo:
    # None when the provider sent a blank id: the lead is then matched by email.
    external_id: str | None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    title: str | None = None
    industry: str | None = None
    headcount: str | None = None
    # The platform's custom variables as delivered ({name: value}); None when it sent none.
    custom_variables: dict[str, str] | None = None


@dataclass(frozen=True)
class CampaignInfo:
    external_id: str
    name: str | None = None


@dataclass(frozen=True)
class MessageInfo:
    # `source` names the provider's id space: a platform's reply ids and sent-email ids differ.
    source: str
    external_id: str
    direction: Literal["inbound", "outbound"]
    body: str
    sent_by: Literal["setter", "campaign"] | None = None
    subject: str | None = None
    from_address: str | None = None
    to_address: str | None = None
    occurred_at: datetime | None = None
    is_automated_reply: bool = False
    platform_tag: str | None = None
    # What a later answer in the same thread needs (reply id, sender mailbox, lead email).
    thread_ref: dict[str, Any] = field(default_factory=dict)
    channel: Literal["email", "sms"] = "email"
    # The HTML the message arrived as, when `body` is the text read from it.
    body_html: str | None = None


@dataclass(frozen=True)
class Event:
    kind: EventKind
    platform_type: str
    lead: LeadInfo | None = None
    campaign: CampaignInfo | None = None
    message: MessageInfo | None = None
    # "tagged": the platform's own label for the lead's reply (kept as `platform_tag`, never
    # as our classification). `tagged_message` is (source, external_id) of the reply when
    # the platform names it; the lead's latest reply takes the label when it names none or
    # one Replyline does not hold.
    tag: str | None = None
    tagged_message: tuple[str, str] | None = None
