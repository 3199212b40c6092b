"""The sandbox in-process: an httpx transport that hands requests to the ASGI app and
stamps each one's arrival when the client sends it, as a socket would."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from casewatch.sandbox.state import ARRIVAL_KEY


class InProcessTransport(httpx.AsyncBaseTransport):
    """``httpx.ASGITransport`` to ``app`` (the sandbox app, or a test's server around
    it), with each request's arrival (``ARRIVAL_KEY``, ``clock`` seconds since the
    epoch) read when httpx hands the request to the transport: in-process, that is the
    network write, and the bytes of a write on loopback reach the server at once.

    Without it the sandbox reads its clock when the request's handler runs, after the
    transport has built the request's scope and Starlette has routed it: a garbage
    collection or the operating system pausing the process on a busy machine in between
    (several milliseconds measured under load) counted as the client sending late, and
    the spike arrest refused requests that were sent the full ``1 / tps`` apart. Served
    over a socket, ``server.arrival_stamping`` gives the same arrival from the kernel's
    receive timestamp. Like httpcore, it calls the request's ``trace`` extension just
    before and after this write (``in_process.send_request_headers.started`` and
    ``.complete``), so a client can space its next send from it
    (``RateLimiter.mark_written``). App exceptions propagate as under
    ``httpx.ASGITransport`` (an in-process ``reset`` fault is an ``httpx.ReadError``).

    Args:
        app: the ASGI app that answers.
        clock: the sandbox's clock (``SandboxConfig.clock``), seconds since the epoch.
    """

    def __init__(self, app: ASGIApp, *, clock: Callable[[], float] = time.time) -> None:
        self.app = app
        self._clock = clock

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer ``request`` with the app, its arrival stamped now, between the trace
        events of a write (the ``trace`` extension, as httpcore calls it)."""
        trace = request.extensions.get("trace")
        info = {"request": request}
        if trace is not None:
            await trace("in_process.send_request_headers.started", info)
        arrival = self._clock()
        if trace is not None:
            await trace("in_process.send_request_headers.complete", info)

        async def stamped(scope: Scope, receive: Receive, send: Send) -> None:
            scope[ARRIVAL_KEY] = arrival
            await self.app(scope, receive, send)

        return await httpx.ASGITransport(app=stamped).handle_async_request(request)
