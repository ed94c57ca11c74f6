"""Email-platform clients (EmailBison, Smartlead, Instantly) behind one interface; see `base`."""

from __future__ import annotations

from typing import Final

from sender_service.email_platforms import instantly, smartlead
from sender_service.email_platforms.base import (
    EmailPlatformClient,
    EmailPlatformError,
    PlatformCampaign,
)
from sender_service.email_platforms.emailbison import EmailBisonClient
from sender_service.email_platforms.instantly import InstantlyClient
from sender_service.email_platforms.smartlead import SmartleadClient

__all__ = [
    "DEFAULT_URLS",
    "EmailBisonClient",
    "EmailPlatformClient",
    "EmailPlatformError",
    "InstantlyClient",
    "PlatformCampaign",
    "SmartleadClient",
    "client_for",
]

# Hosted platforms have one API address; each EmailBison instance has its own.
DEFAULT_URLS: Final[dict[str, str]] = {
    "smartlead": smartlead.DEFAULT_URL,
    "instantly": instantly.DEFAULT_URL,
}


def client_for(
    platform: str, base_url: str, api_key: str, *, timeout: float = 20.0
) -> EmailPlatformClient:
    """The client for a workspace's `email_platform`."""
    if platform == "emailbison":
        return EmailBisonClient(base_url, api_key, timeout=timeout)
    if platform == "smartlead":
        return SmartleadClient(base_url, api_key, timeout=timeout)
    if platform == "instantly":
        return InstantlyClient(base_url, api_key, timeout=timeout)
    raise EmailPlatformError(f"no client for email platform {platform!r}")
