"""Which provider answers a lead on a channel, built from the workspace's stored credentials."""

from __future__ import annotations

from sender_service.credentials import CredentialError, cipher, read_secret
from sender_service.db.engine import session_scope
from sender_service.db.models import Workspace
from sender_service.email_platforms import EmailPlatformClient, EmailPlatformError, client_for
from sender_service.providers.factory import NotConfigured, ghl_client
from sender_service.sending.errors import NotSent
from sender_service.sending.system_sender import ThreadReplier
from sender_service.settings import Settings


class Repliers:
    """The `ReplierFactory` of the running service: credentials read fresh for each send.

    Email goes through the workspace's email platform, SMS through GoHighLevel.
    """

    def __init__(self, url: str, settings: Settings, *, timeout: float = 20.0) -> None:
        self._url = url
        self._settings = settings
        self._timeout = timeout

    def __call__(self, workspace: Workspace, channel: str) -> ThreadReplier:
        if channel == "sms":
            return self._sms(workspace)
        if channel != "email":
            raise NotSent(f"no provider configured for {channel}", retryable=False)
        return self.email_platform(workspace)

    def email_platform(self, workspace: Workspace) -> EmailPlatformClient:
        """The client for the workspace's email platform (EmailBison, Smartlead or Instantly);
        `NotSent` (not retryable) if unconfigured."""
        if not workspace.email_platform_url:
            raise NotSent("the workspace has no email platform URL", retryable=False)
        try:
            with session_scope(self._url) as session:
                key = read_secret(
                    session, cipher(self._settings), workspace.id, "email_platform_api_key"
                )
        except CredentialError as exc:
            raise NotSent(str(exc), retryable=False) from None
        if not key:
            raise NotSent("the workspace has no email platform API key", retryable=False)
        try:
            return client_for(
                workspace.email_platform, workspace.email_platform_url, key, timeout=self._timeout
            )
        except EmailPlatformError as exc:
            raise NotSent(str(exc), retryable=False) from None

    def _sms(self, workspace: Workspace) -> ThreadReplier:
        try:
            with session_scope(self._url) as session:
                return ghl_client(session, self._settings, workspace)
        except NotConfigured as exc:
            raise NotSent(f"cannot send SMS: {exc}", retryable=False) from None
