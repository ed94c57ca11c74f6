"""What Replyline needs from an email platform; each platform's client implements it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class EmailPlatformError(RuntimeError):
    """The platform could not be reached or answered unusably. Never carries the API key."""


@dataclass(frozen=True)
class PlatformCampaign:
    external_id: str
    name: str
    status: str | None = None


class EmailPlatformClient(Protocol):
    """One workspace's account on its email platform.

    `thread` is the `thread_ref` the platform's webhook reader stored with the lead's reply
    (ids the platform needs to answer in that thread); a send copies it to our own message.
    """

    @property
    def source(self) -> str:
        """The id space of the ids `reply_in_thread` returns (see `MessageInfo.source`)."""
        ...

    def close(self) -> None: ...

    def list_campaigns(self) -> list[PlatformCampaign]:
        """Every campaign the platform lists for the API key's workspace."""
        ...

    def reply_in_thread(
        self, thread: dict[str, object], body: str, *, subject: str | None
    ) -> str | None:
        """Answer in the lead's thread; the platform's id for the new email, if it gives one.

        Raises `NotSent` when the platform certainly did not send (refused, unreachable),
        `OutcomeUnknown` when it may have (timeout, 5xx).
        """
        ...

    def find_sent_reply(
        self, lead_id: str, to_address: str, body: str, *, thread: dict[str, object]
    ) -> str | None:
        """The id of an email we sent to `to_address` in the lead's thread whose text starts
        like `body`, None when the thread does not show one; `EmailPlatformError` when the
        platform cannot be asked (then nobody can tell)."""
        ...

    def stop_future_emails(self, campaign_id: str, lead_id: str) -> bool:
        """Ask the campaign to send this lead nothing more; False when the platform's API
        offers no way to (the campaign's own settings decide)."""
        ...

    def check(self) -> str:
        """One cheap read-only call; what it found, or EmailPlatformError."""
        ...
