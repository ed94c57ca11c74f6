"""Finding the rows a command names, failing with one line when they are not there."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from sender_service.cli.common import CommandError
from sender_service.db.models import Workspace


def parse_uuid(raw: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw.strip())
    except ValueError:
        raise CommandError(f"{what} must be a UUID, not {raw!r}") from None


def workspace_or_fail(session: Session, raw_id: str) -> Workspace:
    workspace = session.get(Workspace, parse_uuid(raw_id, "--workspace"))
    if workspace is None:
        raise CommandError(f"no workspace {raw_id}")
    return workspace
