"""The development mode's door: with no platform credentials, the web chat's API and the
unauthenticated Teams (emulator) endpoint trust whoever posts, so they answer only the
page's own origin on a loopback Host.

A browser on the developer's machine visiting a hostile site could otherwise post
commands to `http://127.0.0.1:3978` (cross-site request forgery) or read the answers
through a hostile name that resolves to 127.0.0.1 (DNS rebinding). So, on those paths:
a Host that is not loopback is refused (403) unless remote development was allowed
explicitly; an `Origin` (or `Sec-Fetch-Site: cross-site`) from anywhere but the page
itself is refused (403); a POST that is not `application/json` is refused (415), which
also keeps out the form posts a foreign page can send without a CORS preflight.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

from adapters.loopback import is_loopback_host

log = logging.getLogger(__name__)

GUARDED_PREFIXES = ("/local/api/", "/api/messages")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _host_name(host: str) -> str:
    """The name in a Host header, without its port ("[::1]:3978" → "::1")."""
    try:
        return urlsplit(f"//{host}").hostname or ""
    except ValueError:
        return ""


def refusal(request: web.Request, *, allow_remote: bool) -> web.Response | None:
    """Why a development-mode request is refused, as the response to send; None if it may pass."""
    host = request.headers.get("Host", "")
    if not allow_remote and not is_loopback_host(_host_name(host)):
        return web.json_response({"error": "forbidden"}, status=403)
    origin = request.headers.get("Origin")
    if origin is not None and origin not in (f"http://{host}", f"https://{host}"):
        return web.json_response({"error": "forbidden"}, status=403)
    if request.headers.get("Sec-Fetch-Site", "").lower() == "cross-site":
        return web.json_response({"error": "forbidden"}, status=403)
    if request.method == "POST" and request.content_type != "application/json":
        return web.json_response({"error": "send application/json"}, status=415)
    return None


def dev_guard(*, allow_remote: bool) -> Middleware:
    """An aiohttp middleware applying `refusal` to the trust-anyone paths."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(GUARDED_PREFIXES):
            refused = refusal(request, allow_remote=allow_remote)
            if refused is not None:
                log.info(
                    "refused a development-mode request to %s (%d)", request.path, refused.status
                )
                return refused
        return await handler(request)

    return guard
