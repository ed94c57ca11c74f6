"""Calendly's API v2: the organization's scheduled events for an invitee, and their invitees.

A personal access token (or OAuth token) as bearer; collections paginate with
`pagination.next_page_token`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import httpx2

from sender_service.ingest.guards import plausible_time
from sender_service.providers.http import BearerClient

MAX_PAGES: Final = 50


class CalendlyError(RuntimeError):
    """Calendly could not be reached or answered unusably. Never carries the token."""


@dataclass(frozen=True)
class Invitee:
    uri: str
    event_uri: str
    status: str  # "active" | "canceled"
    start_time: datetime | None
    created_at: datetime | None


class CalendlyClient(BearerClient):
    def __init__(self, base_url: str, token: str, *, timeout: float = 20.0) -> None:
        super().__init__(base_url, token, timeout=timeout)
        self._organization: str | None = None

    def _get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            response = self._http.get(path, params=params)
        except httpx2.HTTPError as exc:
            raise CalendlyError(f"Calendly GET {path} failed: {type(exc).__name__}") from None
        if response.status_code >= 400:
            raise CalendlyError(
                f"Calendly GET {path} answered HTTP {response.status_code}"
                + (" (check the API token)" if response.status_code in (401, 403) else "")
            )
        try:
            body = response.json()
        except ValueError:
            raise CalendlyError(f"Calendly GET {path} answered non-JSON") from None
        if not isinstance(body, dict):
            raise CalendlyError(f"Calendly GET {path} answered no object")
        return body

    def _collection(self, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        query = dict(params)
        for _ in range(MAX_PAGES):
            body = self._get(path, query)
            page = body.get("collection")
            if not isinstance(page, list):
                raise CalendlyError(f"Calendly GET {path} answered no collection")
            items.extend(i for i in page if isinstance(i, dict))
            token = (body.get("pagination") or {}).get("next_page_token")
            if not token:
                return items
            query["page_token"] = str(token)
        raise CalendlyError(f"Calendly GET {path} paginated past {MAX_PAGES} pages")

    def organization(self) -> str:
        if self._organization is None:
            resource = self._get("/users/me").get("resource") or {}
            org = resource.get("current_organization")
            if not org:
                raise CalendlyError("Calendly /users/me names no organization")
            self._organization = str(org)
        return self._organization

    def invitees_by_email(self, email: str) -> list[Invitee]:
        """Every invitee with this email across the organization's scheduled events."""
        found = []
        events = self._collection(
            "/scheduled_events",
            {"organization": self.organization(), "invitee_email": email, "count": "100"},
        )
        for event in events:
            event_uri = str(event.get("uri") or "")
            if not event_uri:
                continue
            path = "/scheduled_events/" + event_uri.rstrip("/").rsplit("/", 1)[-1] + "/invitees"
            for invitee in self._collection(path, {"email": email, "count": "100"}):
                if not invitee.get("uri"):
                    continue
                found.append(
                    Invitee(
                        uri=str(invitee["uri"]),
                        event_uri=event_uri,
                        status=str(invitee.get("status") or event.get("status") or "active"),
                        start_time=plausible_time(event.get("start_time")),
                        created_at=plausible_time(invitee.get("created_at")),
                    )
                )
        return found
