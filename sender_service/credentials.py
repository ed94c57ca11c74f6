"""Per-workspace credentials, encrypted at rest with REPLYLINE_SECRET_KEY (Fernet).

Values go in and out of this module only; nothing here logs or formats a value into a message.
"""

from __future__ import annotations

import uuid

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from sender_service.db.models import SECRET_NAMES, WorkspaceSecret
from sender_service.settings import Settings


class CredentialError(ValueError):
    """The key is missing or wrong, or a name is unknown; the message names what to fix."""


def cipher(settings: Settings) -> Fernet:
    """The Fernet cipher for REPLYLINE_SECRET_KEY, or a clear error when it is unusable."""
    if not settings.secret_key:
        raise CredentialError(
            "REPLYLINE_SECRET_KEY is not set; generate one with: python -c "
            '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
        )
    try:
        return Fernet(settings.secret_key.encode())
    except ValueError:
        raise CredentialError(
            "REPLYLINE_SECRET_KEY is not a Fernet key (32 url-safe base64-encoded bytes)"
        ) from None


def _check_name(name: str) -> None:
    if name not in SECRET_NAMES:
        raise CredentialError(f"unknown secret name {name!r}; one of: {', '.join(SECRET_NAMES)}")


def store_secret(
    session: Session, fernet: Fernet, workspace_id: uuid.UUID, name: str, value: str
) -> None:
    """Insert or replace one credential of a workspace."""
    _check_name(name)
    ciphertext = fernet.encrypt(value.encode())
    session.execute(
        insert(WorkspaceSecret)
        .values(workspace_id=workspace_id, name=name, ciphertext=ciphertext)
        .on_conflict_do_update(
            index_elements=["workspace_id", "name"], set_={"ciphertext": ciphertext}
        )
    )


def read_secret(session: Session, fernet: Fernet, workspace_id: uuid.UUID, name: str) -> str | None:
    """The decrypted credential, or None when the workspace has none by that name."""
    _check_name(name)
    ciphertext = session.execute(
        select(WorkspaceSecret.ciphertext).where(
            WorkspaceSecret.workspace_id == workspace_id, WorkspaceSecret.name == name
        )
    ).scalar_one_or_none()
    if ciphertext is None:
        return None
    try:
        return fernet.decrypt(ciphertext).decode()
    except InvalidToken:
        raise CredentialError(
            f"the stored {name} cannot be decrypted with the current REPLYLINE_SECRET_KEY; "
            "set it again"
        ) from None
