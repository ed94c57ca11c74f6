"""Email-platform clients (EmailBison first) behind one small interface; see `base`."""

from __future__ import annotations

from sender_service.email_platforms.base import (
    EmailPlatformClient,
    EmailPlatformError,
    PlatformCampaign,
)
from sender_service.email_platforms.emailbison import EmailBisonClient

__all__ = [
    "EmailBisonClient",
    "EmailPlatformClient",
    "EmailPlatformError",
    "PlatformCampaign",
    "client_for",
]


def client_for(platform: str, base_url: str, api_key: str) -> EmailPlatformClient:
    """The client for a workspace's `email_platform`."""
    if platform == "emailbison":
        return EmailBisonClient(base_url, api_key)
    raise EmailPlatformError(f"no client for email platform {platform!r}")
