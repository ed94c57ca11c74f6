"""Passwords for the pages' sign-in: argon2id hashes, and a limit on failed attempts."""

from __future__ import annotations

import threading
import time
from collections import deque
from datetime import UTC, datetime
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from sender_service.db.models import User
from sender_service.users import find_user

MIN_LENGTH: Final = 12
_hasher = PasswordHasher()
# Verified against when the email is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH: Final = _hasher.hash("not a real password, only here for timing")


class PasswordError(ValueError):
    """A password Replyline will not store; the message says why."""


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise PasswordError(f"a password needs at least {MIN_LENGTH} characters")
    return _hasher.hash(password)


def set_password(session: Session, user: User, password: str) -> None:
    user.password_hash = hash_password(password)
    session.flush()


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user when the password matches (rehashing an outdated hash), else None."""
    user = find_user(session, email)
    stored = user.password_hash if user is not None else None
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or stored is None:
        return None
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    user.last_sign_in_at = datetime.now(UTC)
    return user


class SignInLimiter:
    """At most `limit` failed sign-ins per (email, client address) in a sliding `window`.

    Kept in process memory: no table to clean up and no write per attempt. Each gunicorn
    worker counts on its own, so with W workers a guesser gets at most W x `limit` tries per
    window, still a handful an hour against argon2 hashes. A success clears the count.
    """

    def __init__(self, limit: int = 5, window: float = 15 * 60) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        """The key's failures inside the window; a key with none left is forgotten, so
        guessing many emails does not grow memory beyond the window."""
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)
        return failures

    def retry_after(self, email: str, address: str) -> int:
        """Seconds until another attempt is allowed; 0 when allowed now."""
        key, now = (email.strip().lower(), address), time.monotonic()
        with self._lock:
            failures = self._recent(key, now)
            if len(failures) < self.limit:
                return 0
            return max(1, int(failures[0] + self.window - now))

    def failed(self, email: str, address: str) -> None:
        key, now = (email.strip().lower(), address), time.monotonic()
        with self._lock:
            failures = self._recent(key, now)
            failures.append(now)
            self._failures[key] = failures

    def succeeded(self, email: str, address: str) -> None:
        with self._lock:
            self._failures.pop((email.strip().lower(), address), None)
