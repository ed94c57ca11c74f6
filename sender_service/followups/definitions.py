"""Sequences declared per workspace in YAML, applied as a whole; and listed.

    sequences:
      - name: Positive reply, then silence
        active: true            # at most one active sequence per workspace (the one entered)
        steps:                  # in order; delay counts from the reply that enrolled the lead
          - delay: 2d           # 90s, 30m, 4h, 2d, 1w
            channel: email      # email (in the lead's thread) | sms (through GoHighLevel)
            template: "Hi {firstName}, any questions? Grab a time: {calendarLink}"
          - delay: 5d
            channel: sms
            template: "{firstName}, still keen to talk? {calendarLink}"

Sequences of the workspace missing from the file are deactivated (their history stays).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from sender_service.db.models import FollowupSequence, FollowupStep
from sender_service.templates import PLACEHOLDERS

_DELAY: Final = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_PLACEHOLDER: Final = re.compile(r"\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")


class SequenceFileError(ValueError):
    """The file is not a valid declaration; the message names the place."""


def parse_delay(value: str | int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = _DELAY.match(str(value))
    if not match:
        raise ValueError(f"delay must look like 90s, 30m, 4h, 2d or 1w, not {value!r}")
    return int(match[1]) * _UNITS[match[2]]


class StepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    delay: Annotated[int, Field(ge=0)]
    channel: Literal["email", "sms"]
    template: Annotated[str, Field(min_length=1)]
    subject: str | None = None

    @field_validator("delay", mode="before")
    @classmethod
    def _delay(cls, value: Any) -> int:
        return parse_delay(value)

    @field_validator("template")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        unknown = sorted({m for m in _PLACEHOLDER.findall(value) if m not in PLACEHOLDERS})
        if unknown:
            raise ValueError(
                f"unknown placeholder(s) {', '.join(unknown)}; use {', '.join(PLACEHOLDERS)}"
            )
        return value


class SequenceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1)]
    active: bool = True
    steps: Annotated[list[StepSpec], Field(min_length=1)]

    @field_validator("steps")
    @classmethod
    def _ordered(cls, steps: list[StepSpec]) -> list[StepSpec]:
        if any(b.delay < a.delay for a, b in zip(steps, steps[1:], strict=False)):
            raise ValueError("step delays count from enrollment, so they must not decrease")
        return steps


class SequenceFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sequences: list[SequenceSpec]


def load(text: str) -> SequenceFile:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SequenceFileError(f"not YAML: {exc}".splitlines()[0]) from None
    try:
        spec = SequenceFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise SequenceFileError(f"{where}: {first['msg']}") from None
    names = [s.name for s in spec.sequences]
    if len(set(names)) != len(names):
        raise SequenceFileError("sequence names must be unique in the file")
    if sum(s.active for s in spec.sequences) > 1:
        raise SequenceFileError("at most one sequence may be active (the one leads enter)")
    return spec


@dataclass(frozen=True)
class Applied:
    created: list[str]
    updated: list[str]
    deactivated: list[str]


def apply(session: Session, workspace_id: uuid.UUID, spec: SequenceFile) -> Applied:
    """Make the workspace's sequences what the file says, in the caller's transaction."""
    existing = {
        s.name: s
        for s in session.execute(
            select(FollowupSequence).where(FollowupSequence.workspace_id == workspace_id)
        ).scalars()
    }
    created, updated = [], []
    for item in spec.sequences:
        sequence = existing.pop(item.name, None)
        if sequence is None:
            sequence = FollowupSequence(workspace_id=workspace_id, name=item.name)
            session.add(sequence)
            created.append(item.name)
        else:
            updated.append(item.name)
        sequence.active = item.active
        session.flush()
        # Enrollments keep only a step number, so steps can be replaced wholesale.
        session.execute(delete(FollowupStep).where(FollowupStep.sequence_id == sequence.id))
        for number, step in enumerate(item.steps, start=1):
            session.add(
                FollowupStep(
                    sequence_id=sequence.id,
                    step_number=number,
                    delay_seconds=step.delay,
                    channel=step.channel,
                    template=step.template,
                    subject=step.subject,
                )
            )
    if existing:
        session.execute(
            update(FollowupSequence)
            .where(FollowupSequence.id.in_([s.id for s in existing.values()]))
            .values(active=False)
        )
    session.flush()
    return Applied(created, updated, sorted(existing))


def describe(session: Session, workspace_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """Every sequence (of one workspace, or all) with its steps, for `sequences list`."""
    query = select(FollowupSequence).order_by(FollowupSequence.workspace_id, FollowupSequence.name)
    if workspace_id is not None:
        query = query.where(FollowupSequence.workspace_id == workspace_id)
    result = []
    for sequence in session.execute(query).scalars():
        steps = session.execute(
            select(FollowupStep)
            .where(FollowupStep.sequence_id == sequence.id)
            .order_by(FollowupStep.step_number)
        ).scalars()
        result.append(
            {
                "id": str(sequence.id),
                "workspace_id": str(sequence.workspace_id),
                "name": sequence.name,
                "active": sequence.active,
                "steps": [
                    {
                        "step": s.step_number,
                        "delay_seconds": s.delay_seconds,
                        "channel": s.channel,
                        "template": s.template,
                        "subject": s.subject,
                    }
                    for s in steps
                ],
            }
        )
    return result
