"""Message templates: {firstName}, {lastName}, {companyName}, {calendarLink}.

A placeholder that is unknown or has no value leaves the message unsendable: it is reported,
never sent with braces in it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sender_service.booking import get_booking_link
from sender_service.db.models import Lead, Workspace

PLACEHOLDERS = ("firstName", "lastName", "companyName", "calendarLink")
_PLACEHOLDER = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")
# Braces that survive rendering (e.g. "{{x}}" or a stray "{") still make a message unsafe.
_LEFTOVER = re.compile(r"[{}]")


@dataclass(frozen=True)
class Rendered:
    text: str
    unresolved: tuple[str, ...]

    @property
    def sendable(self) -> bool:
        return not self.unresolved


def render(template: str, values: Mapping[str, str | None]) -> Rendered:
    unresolved: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match[1]
        value = values.get(name) if name in PLACEHOLDERS else None
        if not value:
            unresolved.append(name)
            return match[0]
        return value.strip()

    text = _PLACEHOLDER.sub(fill, template)
    if not unresolved and _LEFTOVER.search(text):
        unresolved.append("stray brace")
    return Rendered(text=text, unresolved=tuple(dict.fromkeys(unresolved)))


def lead_values(workspace: Workspace, lead: Lead | None) -> dict[str, str | None]:
    """The placeholder values for a message to `lead` (its booking link per provider)."""
    return {
        "firstName": lead.first_name if lead else None,
        "lastName": lead.last_name if lead else None,
        "companyName": lead.company if lead else None,
        "calendarLink": get_booking_link(workspace, lead) if lead else None,
    }
