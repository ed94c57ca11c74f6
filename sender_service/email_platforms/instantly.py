"""Instantly's API v2: `{base_url}/api/v2/...`, `Authorization: Bearer <API key>`.

Pages read (Instantly's own documentation, and the OpenAPI file it publishes at
https://api.instantly.ai/openapi/api_v2.json):
- reply: https://developer.instantly.ai/api-reference/email/reply-to-an-email
  (`POST /emails/reply`; `eaccount`, `reply_to_uuid`, `subject`, `body {html, text}` required;
  answers the new Email, whose `id` is in the same id space as the webhook's `email_id`);
- emails: https://developer.instantly.ai/api-reference/email/list-email
  (`GET /emails?lead=&email_type=sent`, `{items, next_starting_after}`; Email `body {text,
  html}`, `to_address_email_list` comma-separated; 20 requests a minute);
- campaigns: https://developer.instantly.ai/api-reference/campaign/list-campaign
  (`GET /campaigns?limit=&starting_after=`, `{items: [{id, name, status}], next_starting_after}`;
  status 0 draft, 1 active, 2 paused, 3 completed, ...).

Instantly's API has no call that stops one lead's sequence in a campaign: a campaign with
`stop_on_reply` (Instantly's default) stops it itself when the lead replies.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import httpx2

from sender_service.email_platforms.base import EmailPlatformError, PlatformCampaign
from sender_service.email_platforms.sending import post_reply, starts_like
from sender_service.providers.http import BearerClient
from sender_service.sending.errors import NotSent
from sender_service.text_format import text_to_html

log = logging.getLogger(__name__)

DEFAULT_URL: Final = "https://api.instantly.ai"
# Every Instantly email (received, campaign-sent, sent by reply) is one `Email` id space.
SOURCE: Final = "instantly"
MAX_PAGES: Final = 1_000
CAMPAIGN_STATUSES: Final = {
    0: "draft",
    1: "active",
    2: "paused",
    3: "completed",
    4: "running subsequences",
    -99: "account suspended",
    -1: "accounts unhealthy",
    -2: "bounce protect",
}


class InstantlyClient(BearerClient):
    source: Final = SOURCE

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 20.0) -> None:
        super().__init__(base_url.rstrip("/") + "/api/v2", api_key, timeout=timeout)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx2.HTTPError as exc:
            raise EmailPlatformError(
                f"Instantly {method} /api/v2{path} failed: {type(exc).__name__}"
            ) from None
        if response.status_code >= 400:
            raise EmailPlatformError(
                f"Instantly {method} /api/v2{path} answered HTTP {response.status_code}"
                + (
                    " (check the API key and its scopes)"
                    if response.status_code in (401, 403)
                    else ""
                )
            )
        try:
            return response.json()
        except ValueError:
            raise EmailPlatformError(
                f"Instantly {method} /api/v2{path} answered non-JSON"
            ) from None

    def _items(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every item of a cursor-paginated list (`starting_after` ← `next_starting_after`)."""
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            page = self._request(
                "GET", path, params={**params, **({"starting_after": cursor} if cursor else {})}
            )
            found = page.get("items") if isinstance(page, dict) else None
            if not isinstance(found, list):
                raise EmailPlatformError(f"Instantly GET /api/v2{path} answered no items list")
            items.extend(i for i in found if isinstance(i, dict))
            cursor = page.get("next_starting_after")
            if not found or not cursor:
                return items
        raise EmailPlatformError(f"Instantly GET /api/v2{path} paginated past {MAX_PAGES} pages")

    def check(self) -> str:
        """One read-only call (the first campaign page): does the platform answer the key?"""
        page = self._request("GET", "/campaigns", params={"limit": 1})
        if not isinstance(page, dict) or not isinstance(page.get("items"), list):
            raise EmailPlatformError("Instantly GET /api/v2/campaigns answered no items list")
        return "Instantly answered GET /api/v2/campaigns"

    def list_campaigns(self) -> list[PlatformCampaign]:
        campaigns = []
        for item in self._items("/campaigns", {"limit": 100}):
            if item.get("id") in (None, ""):
                raise EmailPlatformError("Instantly listed a campaign without an id")
            external_id = str(item["id"])
            name = str(item.get("name") or "").strip() or f"Campaign {external_id}"
            status = item.get("status")
            label = CAMPAIGN_STATUSES.get(status) if isinstance(status, int) else None
            campaigns.append(PlatformCampaign(external_id, name, label))
        return campaigns

    def reply_in_thread(
        self, thread: dict[str, object], body: str, *, subject: str | None = None
    ) -> str | None:
        """Reply to the received email (`reply_to_uuid`) from the mailbox it reached."""
        email_id, account = thread.get("email_id"), thread.get("email_account")
        if not (email_id and account):
            raise NotSent("the thread lacks the email id or the sending account", retryable=False)
        payload = {
            "eaccount": account,
            "reply_to_uuid": email_id,
            # Required by Instantly; the subject of what we answer when ours is unknown.
            "subject": subject or f"Re: {thread.get('subject') or ''}".strip(),
            "body": {"html": text_to_html(body), "text": body},
        }
        response = post_reply(self._http, "Instantly", "/emails/reply", json=payload)
        try:
            answer = response.json()
        except ValueError:
            return None
        new_id = answer.get("id") if isinstance(answer, dict) else None
        return str(new_id) if new_id not in (None, "") else None

    def find_sent_reply(
        self, lead_id: str, to_address: str, body: str, *, thread: dict[str, object]
    ) -> str | None:
        """Instantly names a lead by its email: `lead_id` is that address. One page of the
        newest 100 sent emails: ours is recent, and the endpoint allows 20 calls a minute."""
        params = {"lead": lead_id, "email_type": "sent", "limit": 100, "sort_order": "desc"}
        page = self._request("GET", "/emails", params=params)
        items = page.get("items") if isinstance(page, dict) else None
        if not isinstance(items, list):
            raise EmailPlatformError("Instantly GET /api/v2/emails answered no items list")
        for item in items:
            if not isinstance(item, dict):
                continue
            recipients = str(item.get("to_address_email_list") or "").lower()
            if to_address.lower() not in recipients or item.get("id") in (None, ""):
                continue
            shown = item.get("body")
            if not isinstance(shown, dict):
                continue
            if starts_like(shown.get("text"), shown.get("html"), body):
                return str(item["id"])
        return None

    def stop_future_emails(self, campaign_id: str, lead_id: str) -> bool:
        log.info(
            "Instantly has no per-lead stop: campaign %s's own stop-on-reply setting applies",
            campaign_id,
        )
        return False
