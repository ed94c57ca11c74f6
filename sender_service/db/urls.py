"""libpq URLs as operators write them, turned into what SQLAlchemy and psycopg need."""

from __future__ import annotations

from urllib.parse import SplitResult, urlsplit, urlunsplit

_SCHEMES = ("postgresql", "postgres")


class DatabaseURLError(ValueError):
    """The URL is not a libpq `postgresql://` URL."""


def _split(url: str) -> SplitResult:
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        raise DatabaseURLError(
            "DATABASE_URL must be a libpq URL such as postgresql://user:pass@host:5432/db "
            f"(got scheme {parts.scheme or 'none'!r})"
        )
    if not parts.path.strip("/"):
        raise DatabaseURLError("DATABASE_URL must name a database, e.g. postgresql://host/db")
    return parts


def sqlalchemy_url(url: str) -> str:
    """The same URL with the psycopg 3 driver chosen for SQLAlchemy."""
    parts = _split(url)
    return urlunsplit(parts._replace(scheme="postgresql+psycopg"))


def libpq_url(url: str) -> str:
    """Validate and return the URL in the plain form psycopg.connect accepts."""
    parts = _split(url)
    return urlunsplit(parts._replace(scheme="postgresql"))


def mask_password(url: str) -> str:
    """The URL with any password replaced by ***, safe to print or log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def database_name(url: str) -> str:
    return _split(url).path.strip("/")


def with_database(url: str, name: str) -> str:
    """The same server and credentials, another database."""
    return urlunsplit(_split(url)._replace(path=f"/{name}"))
