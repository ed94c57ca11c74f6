"""The Smartlead and Instantly readers are tolerant like EmailBison's: nulls, numbers as text
(and text as numbers), deprecated field names and fields nobody documented never refuse a
genuine delivery; a delivery without the id that makes it one reply is held, naming the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from sender_service.demo.replay import Campaigns, deliveries
from sender_service.ingest import instantly, smartlead
from sender_service.ingest.events import Event, Ignored, PayloadError
from tests import instantly_payloads as inst
from tests import smartlead_payloads as sl


def read_sl(payload: dict[str, Any]) -> Event | Ignored:
    return smartlead.parse(json.dumps(payload).encode())


def read_inst(payload: dict[str, Any]) -> Event | Ignored:
    return instantly.parse(json.dumps(payload).encode())


def test_smartlead_reply_reads_ids_thread_and_text() -> None:
    event = read_sl(sl.email_reply())
    assert isinstance(event, Event) and event.kind == "reply" and event.message
    assert event.lead and (event.lead.external_id, event.lead.email) == (sl.LEAD_ID, sl.LEAD_EMAIL)
    assert (event.lead.first_name, event.lead.last_name) == ("Dana", "Reyes")  # from to_name
    assert event.campaign and event.campaign.external_id == str(sl.CAMPAIGN_ID)
    assert event.message.external_id == "<CAJZ-reply-1@mail.gmail.com>"
    assert event.message.body == "Sounds interesting, can we talk Tuesday?"
    assert event.message.to_address == sl.MAILBOX
    assert event.message.thread_ref["stats_id"] == "a891fe37-c45d-21e8"


def test_smartlead_reply_in_the_deprecated_fields_only_is_read() -> None:
    payload = sl.email_reply()
    for field in ("reply_message", "sl_email_lead_id", "sl_lead_email", "event_timestamp"):
        del payload[field]
    payload.update(lead_id=1482956, campaign_id="9181", reply_body="<p>Tuesday <b>works</b></p>")
    payload["preview_text"] = None
    event = read_sl(payload)
    assert isinstance(event, Event) and event.message and event.lead
    assert event.lead.external_id == "1482956" and event.lead.email == sl.LEAD_EMAIL  # to_email
    assert event.message.external_id == "<CAJZ-reply-1@mail.gmail.com>"  # deprecated message_id
    assert event.message.body == "Tuesday works"
    assert event.message.occurred_at is not None  # time_replied


def test_smartlead_nulls_wrong_types_and_extra_fields_never_refuse_a_reply() -> None:
    payload = {
        **sl.email_reply(),
        "to_name": None,
        "campaign_name": 42,
        "subject": None,
        "stats_id": 55501,
        "sequence_number": "one",
        "reply_message": {"message_id": "<m@x>", "html": None, "text": 17, "time": "not a time"},
        "leadCorrespondence": {"targetLeadEmail": "dana@prospect.io", "replyReceivedFrom": None},
        "an_undocumented_field": [1, 2, {"x": None}],
    }
    event = read_sl(payload)
    assert isinstance(event, Event) and event.message and event.lead and event.campaign
    assert event.campaign.name == "42" and event.message.body == "17"
    assert event.message.thread_ref["stats_id"] == "55501"
    assert event.message.occurred_at is None and event.lead.first_name is None


def test_smartlead_past_tense_event_names_and_event_key_are_read() -> None:
    payload = sl.email_reply()
    payload["event"] = "EMAIL_REPLIED"
    del payload["event_type"]
    assert isinstance(read_sl(payload), Event)


def test_smartlead_category_update_tags_the_named_reply() -> None:
    event = read_sl(sl.lead_category_updated("Meeting Request"))
    assert isinstance(event, Event) and event.kind == "tagged"
    assert event.tag == "Meeting Request"
    assert event.tagged_message == ("smartlead", "<CAJZ-reply-1@mail.gmail.com>")
    assert event.lead and event.lead.industry == "SaaS" and event.lead.headcount == "120"
    bare = read_sl(sl.lead_category_updated("Interested", reply_message_id=None))
    assert isinstance(bare, Event) and bare.tagged_message is None  # the latest reply then


def test_smartlead_events_replyline_does_not_use_are_ignored() -> None:
    ignored = read_sl({**sl.email_reply(), "event_type": "EMAIL_OPEN"})
    assert isinstance(ignored, Ignored) and "EMAIL_OPEN" in ignored.reason


@pytest.mark.parametrize(
    ("drop", "field"),
    [
        (("reply_message", "message_id"), "reply_message.message_id"),
        (("sl_email_lead_id", "sl_lead_email", "to_email"), "sl_email_lead_id"),
    ],
)
def test_smartlead_reply_without_its_ids_is_refused_naming_the_field(
    drop: tuple[str, ...], field: str
) -> None:
    payload = sl.email_reply()
    for key in drop:
        payload.pop(key)
    with pytest.raises(PayloadError) as refused:
        read_sl(payload)
    assert refused.value.field == field


def test_instantly_reply_reads_the_email_id_mailbox_and_lead() -> None:
    event = read_inst(inst.reply_received())
    assert isinstance(event, Event) and event.kind == "reply" and event.message and event.lead
    assert (event.lead.external_id, event.lead.first_name) == (inst.LEAD_EMAIL, "Dana")
    assert event.message.external_id == "019d9c5f-9685-78bb-9ea7-36a61999b4c3"
    assert event.message.thread_ref["email_account"] == inst.MAILBOX
    assert event.message.body == "Sounds interesting, can we talk Tuesday?"
    assert not event.message.is_automated_reply


def test_instantly_auto_reply_is_stored_as_automated() -> None:
    event = read_inst({**inst.reply_received(), "event_type": "auto_reply_received"})
    assert isinstance(event, Event) and event.message and event.message.is_automated_reply


def test_instantly_nulls_numbers_and_extra_keys_never_refuse_a_reply() -> None:
    payload = {
        **inst.reply_received(),
        "lead_email": "Dana@Prospect.io",
        "firstName": None,
        "lastName": 7,
        "step": "1",
        "is_first": "yes",
        "reply_text": None,
        "reply_html": "<p>Tuesday<br>works</p>",
        "campaign_name": None,
        "Custom Label From Their CRM": {"nested": True},
    }
    event = read_inst(payload)
    assert isinstance(event, Event) and event.message and event.lead
    assert event.lead.external_id == "dana@prospect.io"  # one lead whatever the case
    assert event.lead.last_name == "7" and event.lead.first_name is None
    assert "Tuesday" in event.message.body and "works" in event.message.body


def test_instantly_lead_status_events_become_tags_and_others_are_ignored() -> None:
    tagged = read_inst(inst.lead_event("lead_meeting_booked"))
    assert isinstance(tagged, Event) and (tagged.kind, tagged.tag) == (
        "tagged",
        "lead_meeting_booked",
    )
    assert isinstance(read_inst(inst.lead_event("email_opened")), Ignored)


@pytest.mark.parametrize("field", ["email_id", "lead_email"])
def test_instantly_reply_without_its_ids_is_refused_naming_the_field(field: str) -> None:
    payload = inst.reply_received()
    payload[field] = None
    with pytest.raises(PayloadError) as refused:
        read_inst(payload)
    assert refused.value.field == field


@pytest.mark.parametrize("platform", ["smartlead", "instantly"])
def test_the_demos_day_is_read_as_the_platforms_own_webhooks(platform: str) -> None:
    """`replyline demo --platform` replays these: each must be an event the reader stores."""
    day = deliveries(Campaigns(("101", "Auto"), ("102", "Setter")), datetime.now(UTC), platform)
    read = smartlead.parse if platform == "smartlead" else instantly.parse
    events = [read(json.dumps(d.body).encode()) for d in day]
    assert all(isinstance(e, Event) for e in events)
    kinds = [e.kind for e in events if isinstance(e, Event)]
    assert kinds.count("reply") == 11 and {"outbound", "unsubscribed", "tagged"} <= set(kinds)
    # Smartlead reports replies outside any campaign; Instantly has no such event.
    assert kinds.count("untracked_reply") == (1 if platform == "smartlead" else 0)


def test_smartlead_untracked_reply_is_read_from_its_sender() -> None:
    event = read_sl(sl.untracked_reply("Sunita Soy <Sunita@Example.com>"))
    assert isinstance(event, Event) and event.kind == "untracked_reply" and event.message
    assert event.lead is None and event.message.from_address == "Sunita@Example.com"
    assert event.message.thread_ref["untracked"] is True
    blank = read_sl(sl.untracked_reply(""))
    assert isinstance(blank, Event) and blank.message and blank.message.from_address is None
