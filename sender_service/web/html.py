"""What every HTML blueprint shares: error pages and security headers."""

from __future__ import annotations

from flask import render_template
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

# Every asset is the service's own; nothing is fetched from elsewhere (charts are inline SVG).
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
_TITLES = {400: "Request refused", 403: "Not allowed", 404: "Not found"}


def html_error(exc: HTTPException) -> tuple[str, int, dict[str, str]]:
    code = exc.code or 500
    page = render_template(
        "error.html",
        code=code,
        title=_TITLES.get(code, "Something went wrong"),
        detail=exc.description,
    )
    # The exception's own headers (`Allow` on a 405), less the content type of its default body.
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return page, code, headers


def security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response
