"""Slack through `slack_sdk.WebClient`: look up the reviewer, open a DM, post, find a post.

The SDK's retry handlers deal with 429 (honouring Retry-After), 5xx and dropped connections,
except that a post is never sent again after a 5xx or a dropped connection: Slack may have
posted it anyway, and only our callers can look in the channel first (`find_message`).
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import SlackResponse

from sender_service import metrics
from sender_service.settings import Settings


class SlackError(RuntimeError):
    """Slack refused or could not be reached after the SDK's retries."""


class SlackRefused(SlackError):
    """Slack answered `ok: false` (e.g. `channel_not_found`): the call surely did nothing."""


def escape(text: str) -> str:
    """Text that did not come from us, made inert in mrkdwn: Slack reads `<...>` as a link or
    a mention (`<!here>`), and asks for exactly these three characters to be escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quote(text: str, limit: int = 1500) -> str:
    """Untrusted text as an escaped mrkdwn block quote, cut at `limit` characters."""
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return "\n".join("> " + escape(line) for line in text.splitlines() or [""])


# Calls whose unknown outcome may have changed Slack: not retried blind (a 429 still is, as
# Slack did nothing then).
_NOT_REPEATED = ("chat.postMessage",)


class _NotForPosts(RetryHandler):
    """A handler's retries, except for the calls in `_NOT_REPEATED`."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if request.url.rstrip("/").endswith(_NOT_REPEATED):
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


class _ServerErrorRetry(_NotForPosts, ServerErrorRetryHandler):
    pass


class _ConnectionErrorRetry(_NotForPosts, ConnectionErrorRetryHandler):
    pass


def make_client(settings: Settings) -> WebClient:
    if not settings.slack_bot_token:
        raise SlackError("SLACK_BOT_TOKEN is not set")
    base_url = settings.slack_api_url.rstrip("/") + "/"
    return WebClient(
        token=settings.slack_bot_token,
        base_url=base_url,
        timeout=10,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=3),
            _ServerErrorRetry(max_retry_count=2),
            _ConnectionErrorRetry(max_retry_count=2),
        ],
    )


def _call(method: str, fn: Any, **kwargs: Any) -> Any:
    try:
        answer = fn(**kwargs)
    except SlackApiError as exc:
        metrics.SLACK_CALLS.labels(method=method, outcome="error").inc()
        refused = SlackRefused if exc.response.status_code == 200 else SlackError
        raise refused(f"{method}: {exc.response.get('error', 'error')}") from None
    except SlackClientError as exc:
        metrics.SLACK_CALLS.labels(method=method, outcome="error").inc()
        raise SlackError(f"{method}: {exc}") from None
    metrics.SLACK_CALLS.labels(method=method, outcome="ok").inc()
    return answer


def auth_test(client: WebClient) -> SlackResponse:
    """Who the token is; the answer's `x-oauth-scopes` header lists the scopes it holds."""
    response: SlackResponse = _call("auth.test", client.auth_test)
    return response


def lookup_user_id(client: WebClient, email: str) -> str:
    """The Slack user id of the account with this email (`users:read.email`)."""
    response = _call("users.lookupByEmail", client.users_lookupByEmail, email=email)
    return str(response["user"]["id"])


def open_dm(client: WebClient, user_id: str) -> str:
    response = _call("conversations.open", client.conversations_open, users=user_id)
    return str(response["channel"]["id"])


def post_message(client: WebClient, channel: str, text: str, blocks: list[dict[str, Any]]) -> str:
    response = _call(
        "chat.postMessage", client.chat_postMessage, channel=channel, text=text, blocks=blocks
    )
    return str(response["ts"])


def find_message(client: WebClient, channel: str, marker: str, oldest: float) -> str | None:
    """The ts of a message in `channel` since `oldest` whose text holds `marker`, if any."""
    response = _call(
        "conversations.history",
        client.conversations_history,
        channel=channel,
        oldest=f"{oldest:.6f}",
        limit=200,
    )
    for message in response.get("messages", []):
        if marker in message.get("text", ""):
            return str(message["ts"])
    return None


def user_email(client: WebClient, user_id: str) -> str | None:
    """The email on a Slack account's profile (`users:read.email`), None when it shows none."""
    response = _call("users.info", client.users_info, user=user_id)
    email = (response["user"].get("profile") or {}).get("email")
    return str(email) if email else None


def update_message(
    client: WebClient, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]
) -> None:
    _call("chat.update", client.chat_update, channel=channel, ts=ts, text=text, blocks=blocks)


def post_ephemeral(client: WebClient, channel: str, user_id: str, text: str) -> None:
    """A message only `user_id` sees, in `channel`."""
    _call("chat.postEphemeral", client.chat_postEphemeral, channel=channel, user=user_id, text=text)


def open_view(client: WebClient, trigger_id: str, view: dict[str, Any]) -> None:
    """Open a modal; Slack honours `trigger_id` for 3 seconds after the click."""
    _call("views.open", client.views_open, trigger_id=trigger_id, view=view)
