"""The sandbox's answers that are not a case: the API's error bodies (uscis-api.md,
"Errors" and "Authentication") and the injected faults' responses (``config.FAULT_KINDS``),
a dropped connection included."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import sys
from collections.abc import Awaitable, Callable

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

INVALID_TOKEN = "Invalid Access Token"
SPIKE_ARREST = "Spike Arrest Violation"
MALFORMED_RECEIPT = (
    "The application receipt number is not formatted correctly, It should be total of 13 "
    "characters (3 character prefix followed by 10 digits). Please check that your receipt "
    "number is correct."
)
UNKNOWN_RECEIPT = (
    "Case Status Online does not recognize the receipt number entered. Please check that your "
    "receipt number is correct. If you have further questions, please contact the USCIS "
    "Contact Center."
)

SANDBOX_UNAVAILABLE = (
    "The Case Status API Sandbox is unavailable at this time. Please retry during the hours "
    "of M-F 7:00AM EST - 8:00 PM EST"
)
UNAVAILABLE_BODY = (
    '\n\n  {"error": {"code": "503", "message": "' + SANDBOX_UNAVAILABLE + '"}}'
).encode()
"""The 503 body of uscis-api.md ("Errors"), byte for byte: two newlines and two spaces,
then an ``error`` object whose ``code`` is the string ``"503"``."""

BAD_GATEWAY_BODY = (
    b"<html><head><title>502 Bad Gateway</title></head><body>"
    b"<center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
)
"""What a proxy in front of the API answers when the backend is unreachable (uscis-api.md,
"Errors": "an HTML page ... can come from any proxy")."""

TRUNCATED_BODY = b'{"case_status": {"receiptNumber": '
"""The ``badjson`` fault's 200 body: JSON cut short (uscis-api.md, "Case status")."""

DROP_CONNECTION = "casewatch.sandbox.drop_connection"
"""Scope key of the coroutine function that drops the current connection."""

DISCONNECT_WAIT_S = 1.0
"""Longest wait, in seconds, for the server to notice a connection the sandbox dropped."""


def oauth_error(status_code: int, error_code: str, error: str) -> JSONResponse:
    return JSONResponse({"ErrorCode": error_code, "Error": error}, status_code=status_code)


def api_error(status_code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": status_code, "message": message}, status_code=status_code)


def unavailable() -> Response:
    return Response(UNAVAILABLE_BODY, status_code=503, media_type="application/json")


class DroppedConnection(Response):
    """Not a response: sending it drops the connection (the ``reset`` fault)."""

    def __init__(self) -> None:
        super().__init__(status_code=499)  # never sent; a placeholder for Starlette

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        drop: Callable[[], Awaitable[None]] | None = scope.get(DROP_CONNECTION)
        if drop is None:  # the app is mounted inside another one: fail the request instead
            raise httpx.ReadError("[Errno 104] Connection reset by peer")
        await drop()


async def drop_connection(receive: Receive, send: Send) -> None:
    """Drop the current connection without a response, with a TCP reset where possible.

    ASGI has no message for this, so under uvicorn the sandbox reaches the connection's
    transport through the server's ``send`` (a bound method of uvicorn's per-request
    cycle, whose ``transport`` attribute is the asyncio transport); it sets ``SO_LINGER``
    to 0 so that closing sends a RST rather than a FIN, aborts the transport, and waits
    for uvicorn to notice the disconnect, so uvicorn neither logs an error nor tries to
    answer 500. A client then sees ``httpx.ReadError`` (connection reset) or
    ``httpx.RemoteProtocolError`` (closed without a response), both ``httpx.TransportError``.

    In-process, under ``httpx.ASGITransport`` (or any server without such a transport),
    nothing can be dropped, so this raises ``httpx.ReadError``: ``ASGITransport``
    propagates app exceptions unchanged (with its default ``raise_app_exceptions=True``),
    so the client sees the same ``httpx.TransportError`` as over the network. With
    ``raise_app_exceptions=False`` it sees a 500 instead.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    abort = getattr(transport, "abort", None)  # asyncio's and uvloop's transports have it
    if not callable(abort):
        raise httpx.ReadError("[Errno 104] Connection reset by peer")
    get_extra_info = getattr(transport, "get_extra_info", None)
    sock = get_extra_info("socket") if callable(get_extra_info) else None
    if sock is not None:
        linger = struct.pack("HH" if sys.platform == "win32" else "ii", 1, 0)
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
    abort()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(DISCONNECT_WAIT_S):
            while (await receive())["type"] != "http.disconnect":
                pass


async def sleep_unless_disconnected(request: Request, seconds: float) -> None:
    """Sleep ``seconds``, or less if the client disconnects first (it gave up waiting)."""

    async def disconnected() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.ensure_future(disconnected())
    try:
        await asyncio.wait({watcher}, timeout=seconds)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


def fault_response(kind: str) -> Response:
    """The response of an injected fault (see ``FAULT_KINDS``)."""
    if kind == "429":
        return api_error(429, SPIKE_ARREST)
    if kind == "500":
        return api_error(500, "Internal Server Error")
    if kind == "502":
        return Response(BAD_GATEWAY_BODY, status_code=502, media_type="text/html")
    if kind == "503":
        return unavailable()
    if kind == "timeout":
        return api_error(504, "Gateway Timeout")
    if kind == "badjson":
        return Response(TRUNCATED_BODY, status_code=200, media_type="application/json")
    if kind == "reset":
        return DroppedConnection()
    raise AssertionError(f"unknown fault {kind!r}")
