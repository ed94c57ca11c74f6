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
    def list_campaigns(self) -> list[PlatformCampaign]:
        """Every campaign the platform lists for the API key's workspace."""
        ...

    def check(self) -> str:
        """One cheap read-only call; what it found, or EmailPlatformError."""
        ...
