"""What keeps a web page from driving the sandbox served on loopback (issue 11, point 11).

Binding to loopback keeps other machines out, not the browser of the machine's user: a
page can point its own host name at 127.0.0.1 (DNS rebinding) and then call the sandbox
as if it were its own site, or post to ``http://127.0.0.1:PORT/...`` from its own origin.
So every request the served sandbox answers must name it by a loopback host and the
port it is bound to in its ``Host`` header, and a request a browser marks with a foreign
``Origin`` is refused. This holds for every route, the control routes (``/__sandbox/...``,
which move cases and need no token) and the API routes alike: casewatch itself reaches a
plain-HTTP server by a loopback address only (``config.is_loopback_host``), so one rule
costs it nothing, and a page cannot spend the sandbox's quota or skew its counters
either. In-process use (``httpx.ASGITransport``) has no browser and is not guarded.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from casewatch.config import is_loopback_host

REFUSED_STATUS = 403
"""The status of a refused request: forbidden, whatever its route."""


def host_and_port(value: str) -> tuple[str, int | None] | None:
    """``("127.0.0.1", 8765)`` from ``"127.0.0.1:8765"`` (a ``Host`` header) or
    ``"http://127.0.0.1:8765"`` (an ``Origin`` header): the host name lower-cased and
    unbracketed, the port or None when there is none; None when ``value`` is not a host
    and port. Never raises."""
    try:
        parts = urlsplit(value if "//" in value else f"//{value}")
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number, an unbalanced bracket
        return None
    return (host, port) if host else None


def refusal(headers: dict[str, str], port: int) -> str | None:
    """Why a request with these ``headers`` (lower-case names) to the sandbox bound to
    loopback ``port`` is refused, or None when it may be answered.

    It may be when its ``Host`` is ``localhost`` or a loopback IP address (127.0.0.1,
    ``[::1]``, ...) with ``port`` (no port: 80), and it has no ``Origin`` header or one
    whose host is a loopback one (a page served on this machine's loopback). Never
    raises.
    """
    host = headers.get("host", "")
    named = host_and_port(host)
    if named is None or not is_loopback_host(named[0]) or (named[1] or 80) != port:
        return (
            f"this sandbox answers requests addressed to 127.0.0.1:{port}, "
            f"localhost:{port} or [::1]:{port} only, not to Host {host!r} "
            "(a web page whose name points at this machine cannot use it: DNS rebinding)"
        )
    origin = headers.get("origin")
    if origin is not None:
        page = host_and_port(origin)
        if page is None or not is_loopback_host(page[0]):
            return f"this sandbox answers no request from a web page of {origin!r}"
    return None


class LoopbackOnly:
    """ASGI middleware around the sandbox served on a loopback socket: a request that
    :func:`refusal` refuses, for the port of the socket it came in by (the ASGI scope's
    ``server``), gets :data:`REFUSED_STATUS` with the API's error body (``{"code": 403,
    "message": ...}``) naming the reason, and never reaches ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {
                name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]
            }
            why = refusal(headers, scope["server"][1])
            if why is not None:
                refused = JSONResponse({"code": REFUSED_STATUS, "message": why}, REFUSED_STATUS)
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)
