"""GoHighLevel's API (LeadConnector): contacts, their appointments, and SMS.

Contacts speak `Version: 2021-07-28`, conversations `Version: 2021-04-15`; both take the
location's API key as a bearer token. The client is also the SMS `ThreadReplier`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import httpx2

from sender_service.ingest.guards import plausible_time
from sender_service.providers.http import BearerClient
from sender_service.sending.errors import NotSent, OutcomeUnknown

SMS_SOURCE: Final = "ghl_sms"
CONTACTS_VERSION: Final = "2021-07-28"
CONVERSATIONS_VERSION: Final = "2021-04-15"


class GHLError(RuntimeError):
    """GHL could not be reached or answered unusably. Never carries the API key."""


@dataclass(frozen=True)
class Appointment:
    id: str
    status: str
    start_time: datetime | None
    calendar_id: str | None


class GHLClient(BearerClient):
    source: Final = SMS_SOURCE

    def __init__(
        self, base_url: str, api_key: str, location_id: str | None, *, timeout: float = 20.0
    ) -> None:
        super().__init__(base_url, api_key, timeout=timeout)
        self._location_id = location_id

    def _request(self, method: str, path: str, version: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, headers={"Version": version}, **kwargs)
        except httpx2.HTTPError as exc:
            raise GHLError(f"GHL {method} {path} failed: {type(exc).__name__}") from None
        if response.status_code >= 400:
            raise GHLError(
                f"GHL {method} {path} answered HTTP {response.status_code}"
                + (" (check the API key)" if response.status_code in (401, 403) else "")
            )
        try:
            return response.json()
        except ValueError:
            raise GHLError(f"GHL {method} {path} answered non-JSON") from None

    # -- contacts ----------------------------------------------------------------------

    def _find_contact(self, **query: str) -> str | None:
        body = self._request(
            "GET",
            "/contacts/search/duplicate",
            CONTACTS_VERSION,
            params={"locationId": self._location_id, **query},
        )
        contact = body.get("contact") if isinstance(body, dict) else None
        return str(contact["id"]) if isinstance(contact, dict) and contact.get("id") else None

    def find_or_create_contact(
        self,
        *,
        email: str | None,
        phone: str | None,
        first_name: str | None = None,
        last_name: str | None = None,
        company: str | None = None,
    ) -> str:
        """The contact's id: found by email, then by phone, else created."""
        if not self._location_id:
            raise GHLError("the workspace has no GHL location id")
        if email and (found := self._find_contact(email=email)):
            return found
        if phone and (found := self._find_contact(number=phone)):
            return found
        fields = {
            "locationId": self._location_id,
            "email": email,
            "phone": phone,
            "firstName": first_name,
            "lastName": last_name,
            "companyName": company,
        }
        body = self._request(
            "POST",
            "/contacts/",
            CONTACTS_VERSION,
            json={k: v for k, v in fields.items() if v},
        )
        contact = body.get("contact") if isinstance(body, dict) else None
        if not isinstance(contact, dict) or not contact.get("id"):
            raise GHLError("GHL created a contact without an id")
        return str(contact["id"])

    def contact_appointments(self, contact_id: str) -> list[Appointment]:
        body = self._request("GET", f"/contacts/{contact_id}/appointments", CONTACTS_VERSION)
        events = body.get("events") if isinstance(body, dict) else None
        if not isinstance(events, list):
            raise GHLError("GHL listed a contact's appointments without an events list")
        appointments = []
        for event in events:
            if not isinstance(event, dict) or not event.get("id"):
                continue
            status = event.get("appointmentStatus") or event.get("status") or "confirmed"
            appointments.append(
                Appointment(
                    id=str(event["id"]),
                    status=str(status),
                    start_time=plausible_time(event.get("startTime")),
                    calendar_id=event.get("calendarId"),
                )
            )
        return appointments

    # -- SMS -----------------------------------------------------------------------------

    def reply_in_thread(
        self, thread: dict[str, object], body: str, *, subject: str | None = None
    ) -> str | None:
        """Text the contact (`POST /conversations/messages`); GHL's message id.

        `NotSent` when GHL certainly did not send, `OutcomeUnknown` when it may have.
        """
        contact_id = thread.get("contact_id")
        if not contact_id:
            raise NotSent("the lead has no GHL contact to text", retryable=False)
        payload = {"type": "SMS", "contactId": contact_id, "message": body}
        try:
            response = self._http.post(
                "/conversations/messages",
                json=payload,
                headers={"Version": CONVERSATIONS_VERSION},
            )
        except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
            raise NotSent(f"GHL unreachable: {type(exc).__name__}", retryable=True) from None
        except httpx2.HTTPError as exc:
            raise OutcomeUnknown(
                f"GHL POST /conversations/messages: {type(exc).__name__}"
            ) from None
        status = response.status_code
        if status == 429:
            raise NotSent("GHL rate-limited the SMS", retryable=True)
        if 400 <= status < 500:
            raise NotSent(f"GHL refused the SMS: HTTP {status}", retryable=False)
        if status >= 500:
            raise OutcomeUnknown(f"GHL POST /conversations/messages answered HTTP {status}")
        try:
            answer = response.json()
        except ValueError:
            return None
        message_id = answer.get("messageId") if isinstance(answer, dict) else None
        return str(message_id) if message_id else None
