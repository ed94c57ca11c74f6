"""Sign-in for the pages: Flask-Login sessions, Flask-WTF CSRF, hardened cookies, sign-out.

The session remembers the user's id and a fingerprint of their password hash, so setting a
new password signs every other browser out.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, login_user, logout_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from sender_service.db.engine import session_scope
from sender_service.db.models import User
from sender_service.passwords import SignInLimiter, authenticate
from sender_service.settings import Settings
from sender_service.web.html import html_error, security_headers

log = logging.getLogger(__name__)

login_manager = LoginManager()
csrf = CSRFProtect()
limiter = SignInLimiter()

bp = Blueprint("auth", __name__, template_folder="pages/templates")


@dataclass(frozen=True)
class SignedInUser(UserMixin):  # type: ignore[misc]
    user_id: uuid.UUID
    email: str
    fingerprint: str

    def get_id(self) -> str:
        return f"{self.user_id}:{self.fingerprint}"


def _fingerprint(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


def _signed_in(user: User) -> SignedInUser:
    return SignedInUser(user.id, user.email, _fingerprint(user.password_hash))


def _load_user(session_id: str) -> SignedInUser | None:
    raw_id, _, fingerprint = session_id.partition(":")
    try:
        user_id = uuid.UUID(raw_id)
    except ValueError:
        return None
    with session_scope(current_app.config["DATABASE_URL"]) as session:
        user = session.get(User, user_id)
        if user is None or user.password_hash is None:
            return None
        signed_in = _signed_in(user)
    return signed_in if hmac.compare_digest(signed_in.fingerprint, fingerprint) else None


def _session_key(settings: Settings) -> str:
    """Derived from REPLYLINE_SECRET_KEY so every worker and restart shares it."""
    if settings.secret_key:
        return hmac.new(settings.secret_key.encode(), b"flask-session", "sha256").hexdigest()
    log.warning("REPLYLINE_SECRET_KEY is not set: sign-ins last until this process restarts")
    return secrets.token_hex(32)


def init_app(app: Flask, settings: Settings) -> None:
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _session_key(settings)
    https = settings.public_base_url.startswith("https://")
    app.config.update(
        SESSION_COOKIE_NAME="replyline_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=12 * 3600,
        WTF_CSRF_SSL_STRICT=https,
    )
    login_manager.user_loader(_load_user)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = ""
    login_manager.session_protection = "strong"
    login_manager.init_app(app)
    csrf.init_app(app)


def _safe_next(target: str | None) -> str:
    """Only a path on this site, never another host (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("pages.dashboard")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    error = None
    status = 200
    email = request.form.get("email", "").strip()
    if request.method == "POST":
        address = request.remote_addr or "?"
        wait = limiter.retry_after(email, address)
        if "\x00" in email:
            # Postgres text cannot hold NUL: refused here, before any lookup, not a 500 there.
            error = "Email: an address cannot contain a NUL character."
            status = 400
            email = email.replace("\x00", "")
        elif wait:
            error = f"Too many failed attempts. Try again in {max(1, wait // 60)} minute(s)."
            status = 429
        else:
            with session_scope(current_app.config["DATABASE_URL"]) as session:
                user = authenticate(session, email, request.form.get("password", ""))
                signed_in = _signed_in(user) if user is not None else None
            if signed_in is None:
                limiter.failed(email, address)
                error = "That email and password do not match."
                status = 401
            else:
                limiter.succeeded(email, address)
                login_user(signed_in)
                return redirect(_safe_next(request.args.get("next")))
    page = render_template("sign_in.html", error=error, email=email)
    return page, status


@bp.post("/sign-out")
def sign_out() -> Response:
    logout_user()
    return redirect(url_for("auth.sign_in"))


bp.register_error_handler(HTTPException, html_error)
bp.after_request(security_headers)
