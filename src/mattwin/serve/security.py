"""Who may talk to the dashboard: a bind address check and a token every request must carry.

Local addresses (loopback) need no token unless one is given. Any other address needs one
(``--token`` or generated); each request then carries it in the ``X-Mattwin-Token`` header, as
``Authorization: Bearer T``, or once as ``?token=T``, which sets an HttpOnly cookie for the rest of
the session. Without a token (a local bind) only requests addressed to a loopback name
(``Host: localhost``, ``127.0.0.1``, ``[::1]``) are answered, so a web page elsewhere cannot read the
dashboard through DNS rebinding. Every response carries a Content-Security-Policy that allows
scripts, styles and connections from the dashboard's own origin only, so a page cannot load anything
from elsewhere.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Awaitable, Callable

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp

from mattwin.errors import SettingsError

COOKIE = "mattwin_token"
HEADER = "x-mattwin-token"
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def is_local(host: str) -> bool:
    """True for loopback addresses and ``localhost``."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_token(host: str, token: str | None, generate: bool) -> str | None:
    """The token the server requires when bound to ``host``: ``token`` if given; for a non-local host
    without one, a generated token when ``generate``, else :class:`SettingsError`."""
    if token is not None:
        if len(token) < 16 or not token.isprintable() or any(c.isspace() for c in token):
            raise SettingsError(
                "--token: give at least 16 printable characters without spaces (or leave it out on localhost)"
            )
        return token
    if is_local(host):
        return None
    if not generate:
        raise SettingsError(
            f"--host {host}: a non-local address needs a token; give --token T (16+ characters) "
            "or --generate-token"
        )
    return secrets.token_urlsafe(24)


def _host_name(host_header: str) -> str:
    """The name of a Host header without its port: ``[::1]:8765`` -> ``::1``, ``a:1`` -> ``a``."""
    if host_header.startswith("["):
        return host_header[1:].split("]", 1)[0]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


class TokenMiddleware(BaseHTTPMiddleware):
    """Reject requests without the token (401), and without a token requests not addressed to a
    loopback name (400); security headers on every response."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        super().__init__(app)
        self.token = token

    def _ok(self, given: str | None) -> bool:
        return self.token is None or (
            given is not None and secrets.compare_digest(given.encode(), self.token.encode())
        )

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response: Response
        query_token = request.query_params.get("token")
        auth = request.headers.get("authorization", "")
        given = request.headers.get(HEADER) or (auth[7:] if auth.lower().startswith("bearer ") else None)
        if self.token is None and not is_local(_host_name(request.headers.get("host", ""))):
            response = PlainTextResponse(
                "400: this dashboard answers requests to localhost only (start it with --token to serve "
                "other names)",
                status_code=400,
            )
        elif self.token is not None and query_token is not None and self._ok(query_token):
            # the token in the URL once: set the cookie and drop it from the address bar
            params = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            url = (
                request.url.replace_query_params(**dict(params)) if params else request.url.replace(query="")
            )
            response = RedirectResponse(str(url), status_code=303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict")
        elif not (self._ok(given) or self._ok(request.cookies.get(COOKIE))):
            response = PlainTextResponse(
                "401: this dashboard needs its token (header X-Mattwin-Token, or ?token= once)",
                status_code=401,
            )
        else:
            response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response
