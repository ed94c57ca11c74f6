"""Clients built from a workspace's stored credentials; a missing one is a clear error."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sender_service.credentials import CredentialError, cipher, read_secret
from sender_service.db.models import Workspace
from sender_service.providers.calendly import CalendlyClient
from sender_service.providers.ghl import GHLClient
from sender_service.settings import Settings


class NotConfigured(ValueError):
    """The workspace lacks what the client needs; the message names it."""


def _secret(session: Session, settings: Settings, workspace: Workspace, name: str) -> str:
    try:
        value = read_secret(session, cipher(settings), workspace.id, name)
    except CredentialError as exc:
        raise NotConfigured(str(exc)) from None
    if not value:
        raise NotConfigured(f"the workspace has no {name}")
    return value


def ghl_client(session: Session, settings: Settings, workspace: Workspace) -> GHLClient:
    key = _secret(session, settings, workspace, "ghl_api_key")
    return GHLClient(settings.ghl_base_url, key, workspace.ghl_location_id)


def calendly_client(session: Session, settings: Settings, workspace: Workspace) -> CalendlyClient:
    token = _secret(session, settings, workspace, "calendly_api_token")
    return CalendlyClient(settings.calendly_base_url, token)
