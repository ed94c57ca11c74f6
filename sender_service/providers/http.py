"""What every provider's HTTP client shares: a bearer-authenticated httpx2 client that closes
with the `with` block, and the providers' ISO 8601 timestamps."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

import httpx2


class BearerClient:
    def __init__(self, base_url: str, token: str, *, timeout: float = 20.0) -> None:
        self._http = httpx2.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=timeout,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def parse_time(value: Any) -> datetime | None:
    """A provider's ISO 8601 time ('Z' included), or None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
