"""What every platform client does around a send: read the HTTP answer as sent, not sent or
unknown, and recognise our own reply in a thread."""

from __future__ import annotations

from typing import Any

import httpx2

from sender_service.sending.errors import NotSent, OutcomeUnknown
from sender_service.text_format import html_to_text


def post_reply(http: httpx2.Client, platform: str, path: str, **kwargs: Any) -> httpx2.Response:
    """POST a reply; the 2xx answer, else `NotSent` (refused, unreachable, rate-limited) or
    `OutcomeUnknown` (timeout mid-request, 5xx). Messages name the path, never the query
    string (Smartlead's API key travels in it)."""
    try:
        response = http.post(path, **kwargs)
    except (httpx2.ConnectError, httpx2.ConnectTimeout) as exc:
        raise NotSent(f"{platform} unreachable: {type(exc).__name__}", retryable=True) from None
    except httpx2.HTTPError as exc:
        raise OutcomeUnknown(f"{platform} POST {path}: {type(exc).__name__}") from None
    status = response.status_code
    if status == 429:
        raise NotSent(f"{platform} rate-limited the send", retryable=True)
    if 400 <= status < 500:
        raise NotSent(f"{platform} refused the send: HTTP {status}", retryable=False)
    if status >= 500:
        raise OutcomeUnknown(f"{platform} POST {path} answered HTTP {status}")
    return response


def normalise(text: str) -> str:
    return " ".join(text.split())


def starts_like(sent_text: str | None, sent_html: str | None, body: str) -> bool:
    """Whether an email the platform shows begins with the text we sent (it may add a
    signature or quote the thread below it)."""
    wanted = normalise(body)[:200]
    shown = normalise(sent_text or html_to_text(sent_html or ""))
    return bool(wanted) and shown.startswith(wanted)
