"""Smartlead's REST API: `{base_url}/api/v1/...`, the API key in the `api_key` query parameter.

Pages read (Smartlead's own documentation):
- reply in a thread: https://api.smartlead.ai/api-reference/campaigns/reply-email-thread
  (`POST /campaigns/{campaign_id}/reply-email-thread`, `email_stats_id` + `email_body`
  required; answers `{"success": true, "message": ...}` with no id for the new email);
- stop a lead: https://api.smartlead.ai/api-reference/leads/pause
  (`POST /campaigns/{campaign_id}/leads/{lead_id}/pause`: status PAUSED, drafted emails STOPPED);
- campaigns: https://help.smartlead.ai/API-Documentation-a0d223bdd3154a77b3735497aad9419f
  (`GET /campaigns`, a bare list of `{id, name, status, ...}`);
- a lead's thread: https://api.smartlead.ai/api-reference/campaigns/get-lead-history
  (`GET /campaigns/{campaign_id}/leads/{lead_id}/message-history`). Its example answers
  `{"messages": [{id, direction, ...}]}`, while the webhook guide's `history` items carry
  `{stats_id, type, message_id, time, email_body, subject}`; both shapes are read.

Error messages name paths only: the query string holds the key.
"""

from __future__ import annotations

from typing import Any, Final

import httpx2

from sender_service.email_platforms.base import EmailPlatformError, PlatformCampaign
from sender_service.email_platforms.sending import post_reply, starts_like
from sender_service.sending.errors import NotSent
from sender_service.text_format import text_to_html

DEFAULT_URL: Final = "https://server.smartlead.ai"
# Replies and campaign emails are both named by their RFC Message-ID: one id space.
SOURCE: Final = "smartlead"


class SmartleadClient:
    source: Final = SOURCE

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 20.0) -> None:
        self._http = httpx2.Client(
            base_url=base_url.rstrip("/") + "/api/v1",
            params={"api_key": api_key},
            headers={"Accept": "application/json"},
            timeout=timeout,
        )

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx2.HTTPError as exc:
            raise EmailPlatformError(
                f"Smartlead {method} /api/v1{path} failed: {type(exc).__name__}"
            ) from None
        if response.status_code >= 400:
            raise EmailPlatformError(
                f"Smartlead {method} /api/v1{path} answered HTTP {response.status_code}"
                + (" (check the API key)" if response.status_code in (401, 403) else "")
            )
        try:
            return response.json()
        except ValueError:
            raise EmailPlatformError(
                f"Smartlead {method} /api/v1{path} answered non-JSON"
            ) from None

    def check(self) -> str:
        """One read-only call (the campaign list): does the platform answer the key?"""
        return f"Smartlead answered GET /api/v1/campaigns ({len(self.list_campaigns())} campaigns)"

    def list_campaigns(self) -> list[PlatformCampaign]:
        body = self._request("GET", "/campaigns")
        items = body.get("data") if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise EmailPlatformError("Smartlead GET /api/v1/campaigns answered no list")
        campaigns = []
        for item in items:
            if not isinstance(item, dict) or item.get("id") in (None, ""):
                raise EmailPlatformError("Smartlead listed a campaign without an id")
            external_id = str(item["id"])
            name = str(item.get("name") or "").strip() or f"Campaign {external_id}"
            status = item.get("status")
            campaigns.append(PlatformCampaign(external_id, name, str(status) if status else None))
        return campaigns

    def reply_in_thread(
        self, thread: dict[str, object], body: str, *, subject: str | None = None
    ) -> str | None:
        """Reply to the email whose stats id the reply webhook gave; Smartlead returns no id
        for the new email (reconciliation finds it in the thread if it must)."""
        campaign_id, stats_id = thread.get("campaign_id"), thread.get("stats_id")
        if not (campaign_id and stats_id):
            raise NotSent("the thread lacks the campaign or the email stats id", retryable=False)
        payload: dict[str, object] = {"email_stats_id": stats_id, "email_body": text_to_html(body)}
        # Optional, documented: what the reply answers, so the platform threads it.
        if thread.get("reply_message_id"):
            payload["reply_message_id"] = thread["reply_message_id"]
        if thread.get("reply_time"):
            payload["reply_email_time"] = thread["reply_time"]
        post_reply(
            self._http, "Smartlead", f"/campaigns/{campaign_id}/reply-email-thread", json=payload
        )
        return None

    def find_sent_reply(
        self, lead_id: str, to_address: str, body: str, *, thread: dict[str, object]
    ) -> str | None:
        campaign_id = thread.get("campaign_id")
        if not campaign_id:
            raise EmailPlatformError("the thread names no Smartlead campaign to look in")
        found = self._request("GET", f"/campaigns/{campaign_id}/leads/{lead_id}/message-history")
        items = None
        if isinstance(found, dict):
            items = found.get("history", found.get("messages"))
        if not isinstance(items, list):
            raise EmailPlatformError("Smartlead message-history answered no message list")
        for item in items:
            if not isinstance(item, dict) or not _outbound(item):
                continue
            recipient = str(item.get("to") or "").lower()
            if recipient and to_address.lower() not in recipient:
                continue
            html = str(item.get("email_body") or item.get("body") or "")
            found_id = item.get("message_id") or item.get("id")
            if found_id and starts_like(None, html, body):
                return str(found_id)
        return None

    def stop_future_emails(self, campaign_id: str, lead_id: str) -> bool:
        self._request("POST", f"/campaigns/{campaign_id}/leads/{lead_id}/pause")
        return True


def _outbound(item: dict[str, Any]) -> bool:
    kind = str(item.get("type") or item.get("direction") or "").upper()
    return kind in ("SENT", "OUTBOUND")
