"""Deliveries shaped by the providers' published field sets and enums, in our own words.

Each builder follows what the provider documents for that delivery, including the fields
Replyline never reads (a reader must not trip over them):

- GoHighLevel `InboundMessage` (marketplace webhook docs): `type`, `locationId`,
  `attachments`, `body`, `contactId`, `contentType`, `conversationId`, `dateAdded`,
  `direction`, `messageType` (channels Call, Voicemail, SMS, GMB, FB, IG, Email, Live Chat),
  `status`, `messageId`, `userId`…; its example SMS has no `messageId`. The Email variant
  carries `emailMessageId`, `threadId`, `provider`, `to`, `cc`, `bcc`, `from`, `subject`.
- GoHighLevel `AppointmentUpdate`: `appointment {id, calendarId, contactId, title,
  appointmentStatus, startTime, endTime, assignedUserId, address, dateAdded}`; the status
  enum includes `active` and `completed` beside new/confirmed/cancelled/showed/noshow/invalid.
- GoHighLevel workflow "Webhook" action: the contact's standard data (`contact_id`,
  `first_name`, `last_name`, `email`, `phone`, `tags`, `location {id, name…}`), the trigger's
  data (`message {type, body}`, `calendar {…}`), `workflow {id, name}` and `customData`.
- Calendly webhook payloads (`event`, `created_at`, `created_by`, `payload` = an invitee:
  `uri`, `email`, `name`, `status`, `timezone`, `rescheduled`, `tracking`, `scheduled_event`,
  `no_show {uri, created_at}`…); older deliveries name the scheduled event in `event`.
- EmailBison webhooks (`event {type, name, instance_url, workspace_id, workspace_name}`,
  `data {lead, campaign, reply, sender_email}`); `automated_reply` may be null, a custom
  variable's value a number or null; `MANUAL_EMAIL_SENT` fires for newly composed emails too,
  whose `data.lead` is null.

Pages read (the providers' own documentation):
- https://marketplace.gohighlevel.com/docs/webhook/InboundMessage (schema, channels, example)
  and its sibling pages for AppointmentCreate/Update/Delete;
- https://developer.calendly.com/docs/api-guides/see-how-webhook-payloads-change-when-invitees-reschedule-events
  and the webhook payload schema in Calendly's API reference;
- https://docs.emailbison.com/webhooks/when-are-webhooks-triggered (Manual Email Sent fires for
  newly composed emails) and https://docs.emailbison.com/webhooks/overview (sample payloads).
"""

from __future__ import annotations

from typing import Any

from tests import emailbison_payloads as eb

CALENDLY = "https://api.calendly.com"


# -- GoHighLevel ---------------------------------------------------------------------------


def ghl_sms_without_message_id(contact: str, text: str, location: str) -> dict[str, Any]:
    return {
        "type": "InboundMessage",
        "locationId": location,
        "attachments": [],
        "body": text,
        "contactId": contact,
        "contentType": "text/plain",
        "conversationId": "conv-sample-1",
        "dateAdded": "2026-11-20T11:31:45.750Z",
        "direction": "inbound",
        "messageType": "SMS",
    }


def ghl_email_message(contact: str, location: str) -> dict[str, Any]:
    return {
        "type": "InboundMessage",
        "locationId": location,
        "attachments": [],
        "body": "<p>Thanks, send me the deck</p>",
        "contactId": contact,
        "conversationId": "conv-sample-2",
        "dateAdded": "2026-11-20T12:00:00.000Z",
        "direction": "inbound",
        "messageType": "Email",
        "emailMessageId": "em-sample-1",
        "threadId": "th-sample-1",
        "provider": "Leadconnector Gmail",
        "to": ["alex@agency-mail.com"],
        "cc": [],
        "bcc": [],
        "from": "Dana <dana@prospect.io>",
        "subject": "Re: quick question",
    }


def ghl_message_of_channel(channel: str, contact: str, location: str) -> dict[str, Any]:
    return {
        "type": "InboundMessage",
        "locationId": location,
        "attachments": [],
        "body": "hello from another channel",
        "contactId": contact,
        "conversationId": "conv-sample-3",
        "dateAdded": "2026-11-20T12:05:00.000Z",
        "direction": "inbound",
        "messageType": channel,
        "messageId": f"msg-{channel}",
        "status": "delivered",
    }


def ghl_appointment_update(
    appointment_id: str, contact: str, status: str, location: str
) -> dict[str, Any]:
    return {
        "type": "AppointmentUpdate",
        "locationId": location,
        "appointment": {
            "id": appointment_id,
            "address": "https://meet.example.test/intro",
            "title": "Intro call",
            "calendarId": "cal-1",
            "contactId": contact,
            "groupId": "grp-1",
            "appointmentStatus": status,
            "assignedUserId": "user-1",
            "users": ["user-1"],
            "notes": "",
            "source": "booking_widget",
            "startTime": "2026-12-10T15:00:00+00:00",
            "endTime": "2026-12-10T15:30:00+00:00",
            "dateAdded": "2026-11-20T10:00:00+00:00",
            "dateUpdated": "2026-11-21T10:00:00+00:00",
        },
    }


def _workflow_contact(contact: str, location: str) -> dict[str, Any]:
    return {
        "contact_id": contact,
        "first_name": "Dana",
        "last_name": "Reyes",
        "full_name": "Dana Reyes",
        "email": "dana@prospect.io",
        "phone": "+15555550101",
        "tags": "cold-outreach",
        "country": "US",
        "date_created": "2026-11-01T10:00:00.000Z",
        "contact_source": "import",
        "location": {"name": "Acme", "address": "1 Main St", "id": location},
        "workflow": {"id": "wf-1", "name": "Replyline: inbound SMS"},
    }


def ghl_workflow_sms(contact: str, text: str, location: str) -> dict[str, Any]:
    return {
        **_workflow_contact(contact, location),
        "message": {"type": 2, "body": text},
        "customData": {"replyline_event": "inbound_sms", "date_added": "2026-11-20T13:00:00Z"},
    }


def ghl_workflow_appointment(
    contact: str, appointment_id: str, status: str, location: str
) -> dict[str, Any]:
    return {
        **_workflow_contact(contact, location),
        "calendar": {
            "id": "cal-1",
            "title": "Intro call",
            "calendarName": "Sales",
            "startTime": "2026-12-11T15:00:00",
            "endTime": "2026-12-11T15:30:00",
            "status": status,
            "appointmentId": appointment_id,
        },
        "customData": {
            "replyline_event": "appointment",
            "appointment_id": appointment_id,
            "appointment_status": status,
        },
    }


# -- Calendly -------------------------------------------------------------------------------


def _invitee(n: int, email: str, status: str) -> dict[str, Any]:
    event_uri = f"{CALENDLY}/scheduled_events/PS{n}"
    return {
        "uri": f"{event_uri}/invitees/PSI{n}",
        "email": email,
        "first_name": "Dana",
        "last_name": "Reyes",
        "name": "Dana Reyes",
        "status": status,
        "timezone": "Europe/Paris",
        "text_reminder_number": None,
        "rescheduled": False,
        "old_invitee": None,
        "new_invitee": None,
        "cancel_url": f"https://calendly.com/cancellations/PSI{n}",
        "reschedule_url": f"https://calendly.com/reschedulings/PSI{n}",
        "questions_and_answers": [],
        "tracking": {"utm_campaign": None, "utm_source": None, "utm_content": None},
        "payment": None,
        "reconfirmation": None,
        "routing_form_submission": None,
        "scheduling_method": None,
        "invitee_scheduled_by": None,
        "created_at": "2026-11-20T10:00:00.000000Z",
        "updated_at": "2026-11-20T10:00:00.000000Z",
        "scheduled_event": {
            "uri": event_uri,
            "name": "Intro call",
            "status": "active",
            "start_time": "2026-12-12T15:00:00.000000Z",
            "end_time": "2026-12-12T15:30:00.000000Z",
            "event_type": f"{CALENDLY}/event_types/ET1",
            "location": {"type": "zoom", "join_url": "https://zoom.example.test/j/1"},
            "invitees_counter": {"total": 1, "active": 1, "limit": 1},
            "event_memberships": [{"user": f"{CALENDLY}/users/U1"}],
            "event_guests": [],
            "created_at": "2026-11-20T10:00:00.000000Z",
            "updated_at": "2026-11-20T10:00:00.000000Z",
        },
        "no_show": None,
    }


def calendly_no_show(n: int, email: str) -> dict[str, Any]:
    invitee = _invitee(n, email, "active")
    invitee["no_show"] = {
        "uri": f"{CALENDLY}/invitee_no_shows/PNS{n}",
        "created_at": "2026-12-12T16:00:00.000000Z",
    }
    return {
        "event": "invitee_no_show.created",
        "created_at": "2026-12-12T16:00:00.000000Z",
        "created_by": f"{CALENDLY}/users/U1",
        "payload": invitee,
    }


def calendly_created(n: int, email: str) -> dict[str, Any]:
    return {
        "event": "invitee.created",
        "created_at": "2026-11-20T10:00:00.000000Z",
        "created_by": f"{CALENDLY}/users/U1",
        "payload": _invitee(n, email, "active"),
    }


def calendly_older_created(n: int, email: str) -> dict[str, Any]:
    """An older delivery: the scheduled event is named by URI in `payload.event`."""
    body = calendly_created(n, email)
    invitee = body["payload"]
    invitee["event"] = invitee.pop("scheduled_event")["uri"]
    return body


# -- EmailBison -----------------------------------------------------------------------------


def emailbison_reply_with_loose_enrichment(reply_id: int) -> dict[str, Any]:
    lead = eb.lead()
    lead["custom_variables"] = [
        {"name": "headcount", "value": 120},
        {"name": "industry", "value": None},
        {"name": "linkedin", "value": None},
    ]
    body = eb.event(
        "LEAD_REPLIED",
        lead=lead,
        campaign=eb.CAMPAIGN,
        reply=eb.reply(reply_id, automated_reply=None),
        sender_email=eb.SENDER,
    )
    body["event"].update(instance_url="https://dedi.emailbison.test", workspace_name="Acme")
    return body


def emailbison_composed_email(reply_id: int, recipient: str) -> dict[str, Any]:
    """`MANUAL_EMAIL_SENT` for a newly composed email: no lead, no campaign."""
    return eb.event(
        "MANUAL_EMAIL_SENT",
        lead=None,
        campaign=None,
        sender_email=eb.SENDER,
        reply=eb.reply(
            reply_id,
            from_email_address=eb.SENDER["email"],
            primary_to_email_address=recipient,
            to=[{"name": "Dana Reyes", "address": recipient}],
            email_subject="Following up",
            text_body="Hi Dana, as promised, the deck.",
            automated_reply=None,
        ),
    )
