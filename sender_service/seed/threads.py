"""One lead's whole history: the campaign's emails, the replies, drafts, sends, follow-ups and
bookings, as rows for COPY. Threads follow the product's rules (docs/definitions.md and
docs/flows.md): every positive reply gets a draft; only an AI_AUTO_SEND arm sends one
(`sent_by='ai'`, one send per draft); bookings are stored the way each provider's webhook
stores them."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

from sender_service.booking_sync import calendly as calendly_events
from sender_service.booking_sync import ghl as ghl_events
from sender_service.db.models import Lead, Workspace
from sender_service.definitions import MEETING_REQUESTED_SENTIMENTS, POSITIVE_SENTIMENTS
from sender_service.email_platforms.emailbison import REPLY_SOURCE, SENT_EMAIL_SOURCE
from sender_service.seed import vocab
from sender_service.seed.plan import (
    DAY,
    FOLLOWUP_DELAYS_DAYS,
    FOLLOWUP_TEMPLATES,
    HOUR,
    CampaignPlan,
    WorkspacePlan,
    new_id,
    ts,
)
from sender_service.templates import lead_values, render

LEAD_COLUMNS: Final = (
    "id", "workspace_id", "email_campaign_id", "external_id", "email", "first_name",
    "last_name", "title", "phone", "company", "industry", "headcount", "sentiment_tag",
    "ai_paused", "ghl_contact_id", "ghl_appointment_id", "calendly_invitee_uri",
    "calendly_scheduled_event_uri", "appointment_status", "meeting_start_at", "booked_at",
    "opted_out", "assigned_user_id", "assigned_at", "created_at",
)  # fmt: skip
MESSAGE_COLUMNS: Final = (
    "id", "workspace_id", "lead_id", "email_campaign_id", "direction", "channel", "subject",
    "body", "from_address", "to_address", "sentiment", "sentiment_confidence",
    "is_automated_reply", "sent_by", "sent_by_user_id", "ai_draft_id", "delivery_status",
    "source", "external_id", "thread_ref", "follow_up_step", "followup_enrollment_id",
    "occurred_at", "created_at",
)  # fmt: skip
DRAFT_COLUMNS: Final = (
    "id", "workspace_id", "lead_id", "inbound_message_id", "channel", "body", "status",
    "confidence", "safe_to_send", "evaluation_reason", "created_at",
)  # fmt: skip
BOOKING_COLUMNS: Final = (
    "id", "workspace_id", "lead_id", "provider", "event_type", "provider_event_id",
    "appointment_status", "ghl_appointment_id", "calendly_invitee_uri",
    "calendly_scheduled_event_uri", "invitee_email", "meeting_start_at", "occurred_at",
    "payload", "created_at",
)  # fmt: skip
ENROLLMENT_COLUMNS: Final = (
    "id", "sequence_id", "lead_id", "last_step_number", "status", "stop_reason",
    "next_due_at", "enrolled_at", "ended_at", "created_at",
)  # fmt: skip

_FIRST = vocab.cumulative(vocab.FIRST_REPLY_WEIGHTS)
_LATER = vocab.cumulative(vocab.LATER_REPLY_WEIGHTS)
_CONTINUES_SEQUENCE = frozenset({"Out of Office", "Automated Reply"})
_SETTER_MAY_ANSWER = frozenset({"Objection", "Follow Up", "Neutral"})
_MAX_POSITIVE_TURNS = 4


@dataclass
class Rows:
    """A chunk's rows per table, in the order they can be copied (foreign keys first)."""

    leads: list[tuple[Any, ...]] = field(default_factory=list)
    messages: list[tuple[Any, ...]] = field(default_factory=list)
    drafts: list[tuple[Any, ...]] = field(default_factory=list)
    # Outbound rows pointing at a draft: copied after the drafts they reference.
    draft_sends: list[tuple[Any, ...]] = field(default_factory=list)
    booking_events: list[tuple[Any, ...]] = field(default_factory=list)
    enrollments: list[tuple[Any, ...]] = field(default_factory=list)


class LeadThread:
    """Builds one lead; `run()` appends its rows to `rows`."""

    def __init__(
        self, rng: random.Random, ws: WorkspacePlan, rows: Rows, start: float, end: float
    ) -> None:
        self.rng, self.ws, self.rows, self.end = rng, ws, rows, end
        self.campaign: CampaignPlan = ws.campaigns[rng.randrange(len(ws.campaigns))]
        self.id = new_id(rng)
        self.first = rng.choice(vocab.FIRST_NAMES)
        self.last = rng.choice(vocab.LAST_NAMES)
        word, suffix = rng.choice(vocab.COMPANY_WORDS), rng.choice(vocab.COMPANY_SUFFIXES)
        self.company = f"{word} {suffix}"
        self.external_id = ws.next("lead")
        domain = f"{word}{suffix}".lower()
        self.email = f"{self.first.lower()}.{self.last.lower()}{self.external_id}@{domain}.com"
        self.industry = rng.choice(vocab.INDUSTRIES)
        self.mailbox_id, self.mailbox = rng.choice(ws.mailboxes)
        self.subject = rng.choice(vocab.CAMPAIGN_SUBJECTS).format(
            first=self.first, company=self.company
        )
        self.t0 = start + rng.random() * (end - start - 2 * DAY)
        self.sentiment: str | None = None
        self.opted_out = False
        self.ai_paused = False
        self.positive = False
        self.enrolled = False
        self.booking: dict[str, Any] = {}
        # The setter a reply waiting for a person went to; the lead keeps them.
        self.assigned: uuid.UUID | None = None
        self.assigned_at: float | None = None
        # Derived, not drawn: the seed's random stream stays as it was.
        self.contact_id = f"ct_{self.id.hex[:16]}"

    # -- rows --------------------------------------------------------------------------

    def _message(
        self,
        t: float,
        direction: str,
        body: str,
        *,
        sent_by: str | None = None,
        sentiment: str | None = None,
        user_id: uuid.UUID | None = None,
        draft_id: uuid.UUID | None = None,
        step: int | None = None,
        enrollment_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        rng, ws = self.rng, self.ws
        message_id = new_id(rng)
        campaign_email = sent_by == "campaign"
        source = SENT_EMAIL_SOURCE if campaign_email else REPLY_SOURCE
        external_id = ws.next(source)
        inbound = direction == "inbound"
        sender, recipient = (self.email, self.mailbox) if inbound else (self.mailbox, self.email)
        subject = self.subject if campaign_email and step == 1 else f"Re: {self.subject}"
        row = (
            message_id, ws.id, self.id, self.campaign.id, direction, "email", subject, body,
            sender, recipient, sentiment,
            round(rng.uniform(0.62, 0.99), 3) if inbound else None,
            sentiment in _CONTINUES_SEQUENCE,
            sent_by, user_id, draft_id,
            None if inbound or campaign_email else "sent",
            source, str(external_id),
            f'{{"sender_email_id": {self.mailbox_id}, "lead_id": {self.external_id}}}',
            step if sent_by == "sequence" else None, enrollment_id,
            ts(t), ts(t),
        )  # fmt: skip
        (self.rows.draft_sends if draft_id else self.rows.messages).append(row)
        return message_id

    def _inbound(self, t: float, sentiment: str) -> uuid.UUID:
        self.sentiment = sentiment
        self.opted_out = self.opted_out or sentiment == "Blacklist"
        body = self.rng.choice(vocab.REPLY_BODIES[sentiment]).format(first=self.first)
        return self._message(t, "inbound", body, sentiment=sentiment)

    def _fill(self, template: str) -> str:
        return template.format(
            first=self.first, company=self.company, industry=self.industry,
            link=self.ws.booking_link,
        )  # fmt: skip

    def _render(self, template: str) -> str:
        """A template rendered as the follow-up sender renders it (a prefilled booking link)."""
        ws = self.ws
        workspace = Workspace(
            booking_provider=ws.provider,
            calendly_scheduling_url=ws.booking_link,
            ghl_booking_url=ws.booking_link,
        )
        lead = Lead(id=self.id, first_name=self.first, last_name=self.last, email=self.email)
        lead.company = self.company
        return render(template, lead_values(workspace, lead)).text

    def _setter(self, waiting_since: float) -> uuid.UUID:
        """The lead's setter, assigned at the first reply that waited for a person. Drawn
        every time all the same, so the seed's random stream stays as it was."""
        drawn = self.rng.choice(self.ws.setter_ids)
        if self.assigned is None:
            self.assigned, self.assigned_at = drawn, waiting_since
        return self.assigned

    # -- the thread ----------------------------------------------------------------------

    def run(self) -> None:
        rng, end = self.rng, self.end
        reply_step = (
            rng.randint(1, self.campaign.steps) if rng.random() < self.campaign.reply_rate else 0
        )
        t = self.t0
        for step in range(1, self.campaign.steps + 1):
            if t >= end:
                break
            body = self._fill(vocab.CAMPAIGN_BODIES[(step - 1) % len(vocab.CAMPAIGN_BODIES)])
            self._message(t, "outbound", body, sent_by="campaign", step=step)
            if step == reply_step:
                t_reply = t + rng.uniform(0.3 * HOUR, 48 * HOUR)
                if t_reply < end:
                    sentiment = _pick(rng, _FIRST)
                    self._first_reply(t_reply, sentiment)
                    if sentiment not in _CONTINUES_SEQUENCE:
                        break  # the platform stops the sequence when a person replies
            t += rng.uniform(2 * DAY, 4 * DAY)
        self._emit_lead()

    def _first_reply(self, t: float, sentiment: str) -> None:
        inbound_id = self._inbound(t, sentiment)
        if sentiment in POSITIVE_SENTIMENTS:
            self._conversation(t, sentiment, inbound_id)
        elif sentiment in _SETTER_MAY_ANSWER and self.rng.random() < 0.35:
            t_answer = t + self.rng.uniform(HOUR, 30 * HOUR)
            if t_answer < self.end:
                note = self._fill(self.rng.choice(vocab.SETTER_NOTES))
                self._message(t_answer, "outbound", note, sent_by="setter", user_id=self._setter(t))

    def _conversation(self, t: float, sentiment: str, inbound_id: uuid.UUID) -> None:
        """Positive replies: draft, answer (AI or setter by the arm in force), then the lead
        replies, books, or goes quiet and gets the follow-up sequence."""
        rng, end = self.rng, self.end
        self.positive = True
        self.ai_paused = rng.random() < 0.06
        for _turn in range(_MAX_POSITIVE_TURNS):
            t_answer = self._answer(t, inbound_id)
            if t_answer is None:
                return
            book_odds = 0.45 if sentiment in MEETING_REQUESTED_SENTIMENTS else 0.25
            if rng.random() < book_odds:
                self._book(t_answer + rng.uniform(HOUR, 3 * DAY))
                return
            if rng.random() < 0.45:
                t = t_answer + rng.uniform(HOUR, 3 * DAY)
            else:
                t = self._follow_up(t_answer) if not self.enrolled else end
            if t >= end:
                return
            sentiment = _pick(rng, _LATER)
            inbound_id = self._inbound(t, sentiment)
            if sentiment not in POSITIVE_SENTIMENTS:
                return

    def _answer(self, t: float, inbound_id: uuid.UUID) -> float | None:
        """The draft for a positive reply and who answered it; when the answer went out."""
        rng, end = self.rng, self.end
        draft_id = new_id(rng)
        t_draft = min(t + rng.uniform(20, 120), (t + end) / 2)
        body = self._fill(rng.choice(vocab.RESPONSE_BODIES))
        mode, threshold = self.campaign.arm_at(t)
        confidence: float | None = None
        safe: bool | None = None
        reason: str | None = None
        answered_at: float | None = None
        if mode == "AI_AUTO_SEND" and not self.ai_paused:
            confidence = round(min(rng.betavariate(9, 1.1), 1.0), 3)
            safe = rng.random() > 0.04
            if confidence >= threshold and safe:
                t_send = t_draft + rng.uniform(60, 900)
                status, reason = ("sent", "confident and safe to send")
                if t_send < end:
                    self._message(t_send, "outbound", body, sent_by="ai", draft_id=draft_id)
                    answered_at = t_send
                else:
                    status = "scheduled"
            else:
                reason = "unsafe to send" if not safe else "confidence below the threshold"
                status, answered_at = self._setter_answer(t, 0.2 * HOUR, 8 * HOUR)
        else:
            status, answered_at = self._setter_answer(t, 0.25 * HOUR, 20 * HOUR)
        self.rows.drafts.append(
            (draft_id, self.ws.id, self.id, inbound_id, "email", body, status, confidence)
            + (safe, reason, ts(t_draft))
        )
        return answered_at

    def _setter_answer(self, t: float, low: float, high: float) -> tuple[str, float | None]:
        """A setter writes their own answer; the draft waits while nobody has."""
        t_send = t + self.rng.uniform(low, high)
        if t_send >= self.end:
            if self.assigned is None:  # still waiting: assigned, derived rather than drawn
                ids = self.ws.setter_ids
                self.assigned, self.assigned_at = ids[self.id.int % len(ids)], t
            return "pending", None
        body = self._fill(self.rng.choice(vocab.RESPONSE_BODIES))
        self._message(t_send, "outbound", body, sent_by="setter", user_id=self._setter(t))
        return "rejected", t_send

    def _follow_up(self, t_answer: float) -> float:
        """Enroll in the sequence; the time of a reply it drew, or `end` when none came."""
        rng, end = self.rng, self.end
        self.enrolled = True
        enrollment_id = new_id(rng)
        last_step, status, stop_reason, next_due, ended = 0, "completed", None, None, None
        reply_at = end
        for step, days in enumerate(FOLLOWUP_DELAYS_DAYS, start=1):
            t = t_answer + days * DAY + rng.uniform(0, 2 * HOUR)
            if t >= end:
                status, next_due = "active", t
                break
            body = self._render(FOLLOWUP_TEMPLATES[step - 1])
            self._message(
                t, "outbound", body, sent_by="sequence", step=step, enrollment_id=enrollment_id
            )
            last_step, ended = step, t
            t_reply = t + rng.uniform(2 * HOUR, 2 * DAY)
            if rng.random() < 0.12 and t_reply < end:
                status, stop_reason, ended, reply_at = "stopped", "replied", t_reply, t_reply
                break
        self.rows.enrollments.append(
            (enrollment_id, self.ws.sequence_id, self.id, last_step, status, stop_reason)
            + (_ts_or_none(next_due), ts(t_answer), _ts_or_none(ended), ts(t_answer))
        )
        return reply_at

    def _book(self, t_book: float) -> None:
        """A booking and what happens to it, as the provider's webhooks report it."""
        rng, end = self.rng, self.end
        if t_book >= end:
            return
        start = t_book + rng.randint(1, 10) * DAY
        booking = self.booking
        booking["booked_at"] = t_book
        ghl = self.ws.provider == "GHL"
        if ghl:
            booking["ghl_appointment_id"] = f"apt_{rng.getrandbits(64):016x}"
            self._booking_event(t_book, "created", "confirmed", start, "AppointmentCreate")
        else:
            self._new_invitee()
            self._booking_event(t_book, "created", "confirmed", start, "invitee.created")
        status, last = "confirmed", t_book
        if rng.random() < 0.15:
            t_move = t_book + (start - t_book) * rng.uniform(0.2, 0.8)
            if t_move < end:
                new_start = start + rng.randint(1, 5) * DAY
                if ghl:  # GHL moves the same appointment
                    self._booking_event(
                        t_move, "rescheduled", "confirmed", new_start, "AppointmentUpdate"
                    )
                else:  # Calendly cancels the old invitee (rescheduled) and books a new one
                    self._booking_event(
                        t_move, "rescheduled", "canceled", start, "invitee.canceled"
                    )
                    self._new_invitee()
                    self._booking_event(
                        t_move, "created", "confirmed", new_start, "invitee.created"
                    )
                start, last = new_start, t_move
        if rng.random() < 0.12:
            t_cancel = last + (start - last) * rng.uniform(0.1, 0.9)
            if t_cancel < end:
                kind = "AppointmentUpdate" if ghl else "invitee.canceled"
                self._booking_event(t_cancel, "canceled", "canceled", start, kind)
                status = "canceled"
        elif start + 3 * HOUR < end:
            t_after = start + rng.uniform(HOUR, 3 * HOUR)
            if ghl:
                outcome = "showed" if rng.random() < 0.72 else "noshow"
                self._booking_event(t_after, outcome, outcome, start, "AppointmentUpdate")
                status = outcome
            elif rng.random() < 0.25:  # Calendly reports only no-shows
                self._booking_event(t_after, "noshow", "noshow", start, "invitee_no_show.created")
                status = "noshow"
        booking["status"], booking["start"] = status, start

    def _new_invitee(self) -> None:
        event = f"https://api.calendly.com/scheduled_events/{self.rng.getrandbits(64):016x}"
        self.booking["event_uri"] = event
        self.booking["invitee_uri"] = f"{event}/invitees/{self.rng.getrandbits(64):016x}"

    def _booking_event(
        self, t: float, event_type: str, status: str, start: float, provider_event: str
    ) -> None:
        b, ghl = self.booking, self.ws.provider == "GHL"
        if ghl:
            payload: dict[str, Any] = {
                "type": provider_event,
                "appointment": {
                    "id": b["ghl_appointment_id"],
                    "contactId": self.contact_id,
                    "appointmentStatus": "cancelled" if status == "canceled" else status,
                    "startTime": ts(start).isoformat(),
                },
            }
            raw = json.dumps(payload).encode()
            event_id = ghl_events.event_id(provider_event, b["ghl_appointment_id"], raw)
        elif provider_event == "invitee_no_show.created":
            no_show = b["invitee_uri"].replace("/scheduled_events/", "/invitee_no_shows/", 1)
            payload = {
                "event": provider_event,
                "payload": {"uri": no_show, "invitee": b["invitee_uri"]},
            }
            event_id = calendly_events.event_id(provider_event, no_show)
        else:
            payload = {
                "event": provider_event,
                "payload": {
                    "uri": b["invitee_uri"],
                    "email": self.email,
                    "scheduled_event": {"uri": b["event_uri"], "start_time": ts(start).isoformat()},
                    "rescheduled": event_type == "rescheduled",
                    "tracking": {"utm_content": str(self.id)},
                },
            }
            event_id = calendly_events.event_id(provider_event, b["invitee_uri"])
        # Ids as the webhook paths derive them, so a replayed webhook is a duplicate.
        self.rows.booking_events.append(
            (new_id(self.rng), self.ws.id, self.id, self.ws.provider, event_type)
            + (event_id, status)
            + (b.get("ghl_appointment_id"), b.get("invitee_uri"), b.get("event_uri"))
            + (self.email, ts(start), ts(t), json.dumps(payload), ts(t))
        )

    def _emit_lead(self) -> None:
        rng, ws, b = self.rng, self.ws, self.booking
        contact = self.contact_id if ws.provider == "GHL" and self.positive else None
        phone = f"+1{rng.randrange(2_000_000_000, 9_999_999_999)}" if rng.random() < 0.6 else None
        self.rows.leads.append(
            (self.id, ws.id, self.campaign.id, str(self.external_id), self.email, self.first)
            + (self.last, rng.choice(vocab.TITLES), phone, self.company, self.industry)
            + (rng.choice(vocab.HEADCOUNTS), self.sentiment, self.ai_paused, contact)
            + (b.get("ghl_appointment_id"), b.get("invitee_uri"), b.get("event_uri"))
            + (b.get("status"), _ts_or_none(b.get("start")), _ts_or_none(b.get("booked_at")))
            + (self.opted_out, self.assigned, _ts_or_none(self.assigned_at), ts(self.t0))
        )


def _pick(rng: random.Random, table: tuple[tuple[str, ...], tuple[int, ...]]) -> str:
    labels, cum = table
    return rng.choices(labels, cum_weights=cum)[0]


def _ts_or_none(t: float | None) -> Any:
    return None if t is None else ts(t)
