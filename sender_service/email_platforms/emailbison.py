"""EmailBison's REST API: `{base_url}/api/...`, bearer API key, Laravel-style pagination.

List endpoints answer `{"data": [...], "links": {"next": ...}, "meta": {"current_page",
"last_page"}}`; some instances answer a bare list. Add endpoints as methods on the client.
"""

from __future__ import annotations

from typing import Any, Final

import httpx2

from sender_service.email_platforms.base import EmailPlatformError, PlatformCampaign
from sender_service.providers.http import BearerClient
from sender_service.sending.errors import NotSent, OutcomeUnknown
from sender_service.text_format import html_to_text, text_to_html

# A platform's reply ids and its sent-email ids are different id spaces (docs/data-model.md).
REPLY_SOURCE: Final = "emailbison_reply"
SENT_EMAIL_SOURCE: Final = "emailbison_sent_email"

# Stops a server whose pagination never ends from looping us forever.
MAX_PAGES: Final = 1_000


class EmailBisonClient(BearerClient):
    # Our replies become platform replies: the id space a webhook echoing them would use.
    source: Final = REPLY_SOURCE

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 20.0) -> None:
        # The workspace stores the instance's base URL; the API lives under /api.
        super().__init__(base_url.rstrip("/") + "/api", api_key, timeout=timeout)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One call; the JSON body, or EmailPlatformError naming the status (not the key)."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx2.HTTPError as exc:
            raise EmailPlatformError(
                f"EmailBison {method} /api{path} failed: {type(exc).__name__}: {exc}"
            ) from None
        if response.status_code >= 400:
            raise EmailPlatformError(
                f"EmailBison {method} /api{path} answered HTTP {response.status_code}"
                + (" (check the API key)" if response.status_code in (401, 403) else "")
            )
        try:
            return response.json()
        except ValueError:
            raise EmailPlatformError(f"EmailBison {method} /api{path} answered non-JSON") from None

    def _paginate(self, path: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            body = self._request("GET", path, params={"page": page})
            if isinstance(body, list):
                return items + body
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                raise EmailPlatformError(f"EmailBison GET /api{path} answered no data list")
            items.extend(data)
            if not data or not _has_next_page(body):
                return items
        raise EmailPlatformError(f"EmailBison GET /api{path} paginated past {MAX_PAGES} pages")

    def list_campaigns(self) -> list[PlatformCampaign]:
        campaigns = []
        for item in self._paginate("/campaigns"):
            if not isinstance(item, dict) or item.get("id") in (None, ""):
                raise EmailPlatformError("EmailBison listed a campaign without an id")
            external_id = str(item["id"])
            name = str(item.get("name") or "").strip() or f"Campaign {external_id}"
            status = item.get("status")
            campaigns.append(PlatformCampaign(external_id, name, str(status) if status else None))
        return campaigns

    def check(self) -> str:
        """One read-only call (the first page of campaigns): does the platform answer the key?"""
        body = self._request("GET", "/campaigns", params={"page": 1})
        data = (
            body if isinstance(body, list) else body.get("data") if isinstance(body, dict) else None
        )
        if not isinstance(data, list):
            raise EmailPlatformError("EmailBison GET /api/campaigns answered no data list")
        return f"EmailBison answered GET /api/campaigns ({len(data)} on the first page)"

    def reply_in_thread(
        self, thread: dict[str, object], body: str, *, subject: str | None = None
    ) -> str | None:
        """Answer in the lead's thread (`POST /api/replies/{reply_id}/reply`); the new id.

        Raises `NotSent` when the platform certainly did not send (refused, unreachable),
        `OutcomeUnknown` when it may have (timeout, 5xx).
        """
        reply_id, sender_id, to = (
            thread.get("reply_id"),
            thread.get("sender_email_id"),
            thread.get("lead_email"),
        )
        if not (reply_id and sender_id and to):
            raise NotSent("the thread lacks the reply, mailbox or lead address", retryable=False)
        path = f"/replies/{reply_id}/reply"
        # HTML built from the text, so paragraphs and line breaks survive whatever the
        # platform's default content type is; the text itself is what Replyline stores.
        payload = {
            "message": text_to_html(body),
            "content_type": "html",
            "sender_email_id": sender_id,
            "to_emails": [{"name": None, "email_address": to}],
            "inject_previous_email_body": False,
        }
        try:
            response = self._http.post(path, json=payload)
        except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
            raise NotSent(f"EmailBison unreachable: {type(exc).__name__}", retryable=True) from None
        except httpx2.HTTPError as exc:
            raise OutcomeUnknown(f"EmailBison POST /api{path}: {type(exc).__name__}") from None
        status = response.status_code
        if status == 429:
            raise NotSent("EmailBison rate-limited the send", retryable=True)
        if 400 <= status < 500:
            raise NotSent(f"EmailBison refused the send: HTTP {status}", retryable=False)
        if status >= 500:
            raise OutcomeUnknown(f"EmailBison POST /api{path} answered HTTP {status}")
        return _new_reply_id(response)

    def find_sent_reply(
        self, lead_id: str, to_address: str, body: str, *, thread: dict[str, object]
    ) -> str | None:
        """The id of a reply we sent to `to_address` whose text starts like `body`, if any.

        Reads the lead's sent folder (`GET /api/leads/{lead_id}/replies`); raises
        `EmailPlatformError` when the platform cannot be asked (then nobody can tell).
        """
        found = self._request(
            "GET", f"/leads/{lead_id}/replies", params={"filters[folder]": "sent"}
        )
        items = found.get("data") if isinstance(found, dict) else found
        if not isinstance(items, list):
            raise EmailPlatformError(f"EmailBison GET /api/leads/{lead_id}/replies: no data list")
        wanted = _normalise(body)[:200]
        for item in items:
            if not isinstance(item, dict) or item.get("id") in (None, ""):
                continue
            recipients = {
                str(r.get("address") or r.get("email_address") or "").lower()
                for r in item.get("to") or []
                if isinstance(r, dict)
            } | {str(item.get("primary_to_email_address") or "").lower()}
            text = _normalise(
                str(item.get("text_body") or html_to_text(str(item.get("html_body") or "")))
            )
            if to_address.lower() in recipients and wanted and text.startswith(wanted):
                return str(item["id"])
        return None

    def stop_future_emails(self, campaign_id: str, lead_id: str) -> bool:
        """Ask the campaign to send this lead nothing more (`.../leads/stop-future-emails`)."""
        self._request(
            "POST",
            f"/campaigns/{campaign_id}/leads/stop-future-emails",
            json={"lead_ids": [int(lead_id) if lead_id.isdigit() else lead_id]},
        )
        return True


def _normalise(text: str) -> str:
    return " ".join(text.split())


def _new_reply_id(response: httpx2.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    data = body.get("data", body) if isinstance(body, dict) else {}
    if isinstance(data, dict):
        reply = data.get("reply", data)
        if isinstance(reply, dict) and reply.get("id") not in (None, ""):
            return str(reply["id"])
    return None


def _has_next_page(body: dict[str, Any]) -> bool:
    links, meta = body.get("links"), body.get("meta")
    if isinstance(meta, dict) and "current_page" in meta and "last_page" in meta:
        return int(meta["current_page"]) < int(meta["last_page"])
    if isinstance(links, dict):
        return bool(links.get("next"))
    return False
