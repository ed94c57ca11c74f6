"""Provider-aware booking: the one place that knows GoHighLevel from Calendly (docs/definitions.md).

A workspace books through exactly one provider. Everything else asks this module — whether a
lead has booked, which link to offer — and never compares a provider's name itself.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sender_service.db.models import Lead, Workspace

if TYPE_CHECKING:
    from sender_service.booking_sync.reconcile import Reconciler


@dataclass(frozen=True)
class CredentialGap:
    """Something the workspace's booking provider needs that is not set: a stored secret
    (`secret`, its name) or a workspace setting (`option`, the `workspace update` flag)."""

    what: str
    secret: str | None = None
    option: str | None = None


class _Provider(Protocol):
    @property
    def label(self) -> str: ...

    # GHL matches appointments to leads by its own contact id, so leads need one.
    @property
    def keeps_contacts(self) -> bool: ...

    def credential_gaps(
        self, workspace: Workspace, secrets: Collection[str]
    ) -> list[CredentialGap]: ...

    def has_booking(self, lead: Lead) -> bool: ...

    def booking_link(self, workspace: Workspace, lead: Lead) -> str | None: ...

    def reconciler(self) -> Reconciler: ...


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update({k: v for k, v in params.items() if v})
    return urlunsplit(parts._replace(query=urlencode(query)))


def _full_name(lead: Lead) -> str:
    return " ".join(p for p in (lead.first_name, lead.last_name) if p)


@dataclass(frozen=True)
class _GoHighLevel:
    keeps_contacts: bool = True
    label: str = "GoHighLevel"

    def credential_gaps(
        self, workspace: Workspace, secrets: Collection[str]
    ) -> list[CredentialGap]:
        gaps = []
        if not workspace.ghl_location_id:
            gaps.append(CredentialGap("location id", option="--ghl-location-id ID"))
        if "ghl_api_key" not in secrets:
            gaps.append(CredentialGap("API key", secret="ghl_api_key"))
        return gaps

    def reconciler(self) -> Reconciler:
        from sender_service.booking_sync.reconcile import GHLReconciler

        return GHLReconciler()

    def has_booking(self, lead: Lead) -> bool:
        return bool(lead.ghl_appointment_id)

    def booking_link(self, workspace: Workspace, lead: Lead) -> str | None:
        if not workspace.ghl_booking_url:
            return None
        return _with_query(
            workspace.ghl_booking_url,
            {
                "first_name": lead.first_name or "",
                "last_name": lead.last_name or "",
                "email": lead.email or "",
            },
        )


@dataclass(frozen=True)
class _Calendly:
    keeps_contacts: bool = False
    label: str = "Calendly"

    def credential_gaps(
        self, workspace: Workspace, secrets: Collection[str]
    ) -> list[CredentialGap]:
        # Without the signing key no invitee webhook can be verified, so none is believed.
        if "calendly_signing_key" not in secrets:
            return [CredentialGap("webhook signing key", secret="calendly_signing_key")]
        return []

    def reconciler(self) -> Reconciler:
        from sender_service.booking_sync.reconcile import CalendlyReconciler

        return CalendlyReconciler()

    def has_booking(self, lead: Lead) -> bool:
        return bool(lead.calendly_invitee_uri or lead.calendly_scheduled_event_uri)

    def booking_link(self, workspace: Workspace, lead: Lead) -> str | None:
        if not workspace.calendly_scheduling_url:
            return None
        # utm_content carries our lead reference back in the invitee webhook.
        return _with_query(
            workspace.calendly_scheduling_url,
            {"name": _full_name(lead), "email": lead.email or "", "utm_content": str(lead.id)},
        )


_PROVIDERS: dict[str, _Provider] = {"GHL": _GoHighLevel(), "CALENDLY": _Calendly()}


def _provider(workspace: Workspace) -> _Provider:
    try:
        return _PROVIDERS[workspace.booking_provider]
    except KeyError:
        raise ValueError(f"unknown booking provider {workspace.booking_provider!r}") from None


def is_meeting_booked(lead: Lead, workspace: Workspace) -> bool:
    """Booked by the workspace's own provider, and not canceled (showed / noshow were booked)."""
    if lead.appointment_status == "canceled":
        return False
    return _provider(workspace).has_booking(lead)


def books_through(workspace: Workspace, provider: str) -> bool:
    """Whether `provider` (a `booking_events.provider` value) is the workspace's own.

    A stray event from the other provider is recorded but never moves the lead's status.
    """
    _provider(workspace)
    return workspace.booking_provider == provider


def get_booking_link(workspace: Workspace, lead: Lead) -> str | None:
    """The link offered to the lead, prefilled, or None when the workspace has none set."""
    return _provider(workspace).booking_link(workspace, lead)


def keeps_provider_contacts(workspace: Workspace) -> bool:
    """Whether the workspace's leads need a contact at the provider (GHL) to be matched."""
    return _provider(workspace).keeps_contacts


def reconciler(workspace: Workspace) -> Reconciler:
    """How to ask the workspace's provider about a lead's bookings."""
    return _provider(workspace).reconciler()


def provider_label(workspace: Workspace) -> str:
    """The workspace's booking provider as people name it."""
    return _provider(workspace).label


def credential_gaps(workspace: Workspace, secrets: Collection[str]) -> list[CredentialGap]:
    """What the workspace's provider needs and lacks, given the names of its stored secrets."""
    return _provider(workspace).credential_gaps(workspace, secrets)
