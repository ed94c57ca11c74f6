"""Headcount and industry from a platform's custom variables, under whatever name they came.

A workspace may name its own variable (`replyline workspace set-fields`); it is read first,
then the usual names. Names match ignoring case, spaces, underscores and dashes; a blank or a
placeholder (`-`, `n/a`, `none`, `unknown`) is no value, so the next name is tried. The value
is kept raw: bucketing is the warehouse's (and `definitions.headcount_bucket`'s) job.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from sender_service.definitions import is_placeholder
from sender_service.ingest.events import Event

HEADCOUNT_NAMES: Final[tuple[str, ...]] = (
    "headcount",
    "employee_headcount",
    "company_size",
    "employees",
    "# Employees",
    "number_of_employees",
    "employee_count",
)
INDUSTRY_NAMES: Final[tuple[str, ...]] = ("industry", "company_industry")


def name_key(name: str) -> str:
    """`Employee Headcount`, `employee_headcount` and `EMPLOYEE-HEADCOUNT` are one name."""
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


@dataclass(frozen=True)
class FieldNames:
    """A workspace's own variable names for headcount and industry; None: the usual ones."""

    headcount: str | None = None
    industry: str | None = None


def pick(variables: Mapping[str, str], names: Iterable[str]) -> str | None:
    """The first real value among `names`, trimmed; None when every one is blank or absent."""
    by_key: dict[str, list[str]] = {}
    for name, value in variables.items():
        by_key.setdefault(name_key(name), []).append(value)
    for name in names:
        for value in by_key.get(name_key(name), []):
            if not is_placeholder(value):
                return value.strip()
    return None


def headcount(variables: Mapping[str, str], fields: FieldNames) -> str | None:
    own = (fields.headcount,) if fields.headcount else ()
    return pick(variables, (*own, *HEADCOUNT_NAMES))


def industry(variables: Mapping[str, str], fields: FieldNames) -> str | None:
    own = (fields.industry,) if fields.industry else ()
    return pick(variables, (*own, *INDUSTRY_NAMES))


def apply_field_names(event: Event, fields: FieldNames) -> Event:
    """The event with headcount and industry read again under the workspace's own names."""
    lead = event.lead
    if lead is None or not lead.custom_variables or fields == FieldNames():
        return event  # the parser already read the usual names
    variables = lead.custom_variables
    return dataclasses.replace(
        event,
        lead=dataclasses.replace(
            lead, headcount=headcount(variables, fields), industry=industry(variables, fields)
        ),
    )
