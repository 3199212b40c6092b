"""Serving the built-in sandbox over HTTP, on loopback only."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from casewatch.config import is_loopback_host
from casewatch.sandbox.app import create_app
from casewatch.sandbox.config import FAULT_KINDS, SandboxConfig
from casewatch.sandbox.guard import LoopbackOnly
from casewatch.sandbox.state import ARRIVAL_KEY

_STARTUP_TIMEOUT_S = 10.0


def _bind_loopback(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` (port 0: a free port chosen by the system).

    Raises:
        ValueError: ``host`` is not ``localhost`` or a loopback IP address.
        OSError: the port cannot be bound.
    """
    address = "127.0.0.1" if host == "localhost" else host
    if not is_loopback_host(host):
        raise ValueError(
            f"the sandbox serves on loopback only (127.0.0.1, ::1 or localhost), not {host!r}"
        )
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
    except OSError:
        sock.close()
        raise
    return sock


def _base_url(host: str, sock: socket.socket) -> str:
    port = sock.getsockname()[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


_SO_TIMESTAMPNS = 35
"""Linux's socket option (and control message type) for kernel receive timestamps in
nanoseconds, on the system's real-time clock (socket(7)); Python does not name it."""


class _KernelStampedSocket:
    """A connected socket whose ``recv`` also reads when the kernel received the data.

    asyncio's selector transport reads with ``recv``; this reads with ``recvmsg`` and
    keeps the timestamp of the ``SO_TIMESTAMPNS`` control message in ``received_at``
    (Unix time, seconds). Everything else goes to the socket itself.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.received_at: float | None = None

    def recv(self, size: int) -> bytes:
        data, ancillary, _, _ = self._sock.recvmsg(size, socket.CMSG_SPACE(16))
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(payload) >= 16:
                seconds, nanoseconds = struct.unpack("qq", payload[:16])
                self.received_at = seconds + nanoseconds / 1e9
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _stamp_in_kernel(transport: asyncio.BaseTransport) -> _KernelStampedSocket | None:
    """Have the kernel timestamp what ``transport`` receives, when it is asyncio's
    selector transport on Linux (it reads its ``_sock`` with ``recv``); None elsewhere
    (another event loop or system), where ``data_received`` reads the clock instead."""
    sock = getattr(transport, "_sock", None)
    if sys.platform != "linux" or not isinstance(sock, socket.socket):
        return None
    try:
        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    except OSError:
        return None
    stamped = _KernelStampedSocket(sock)
    transport._sock = stamped  # type: ignore[attr-defined]
    return stamped


def arrival_stamping(clock: Callable[[], float]) -> type[asyncio.Protocol]:
    """uvicorn's h11 HTTP protocol, stamping each request's scope with its arrival.

    The arrival (``ARRIVAL_KEY``, ``clock`` seconds) is when the request's first bytes
    reached the server, as a gateway's spike arrest judges it. With the real clock
    (``time.time``) on Linux it is the kernel's receive timestamp of those bytes, so
    neither a busy event loop nor the sandbox process's own wake-up counts as the
    client's jitter. Otherwise (an injected clock, another system) it is ``clock`` read
    when the bytes are handed to the protocol (``data_received``), before the request's
    task is created and long before its handler runs. Bytes that arrive while the
    previous request's response is still being made (pipelining) are stamped when the
    request they start is parsed.
    """

    class ArrivalStampingProtocol(H11Protocol):
        _first_bytes: float | None = None
        _kernel: _KernelStampedSocket | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            if clock is time.time:
                self._kernel = _stamp_in_kernel(transport)
            super().connection_made(transport)

        def data_received(self, data: bytes) -> None:
            kernel = None if self._kernel is None else self._kernel.received_at
            received = clock() if kernel is None else kernel
            before = getattr(self, "cycle", None)
            if self._first_bytes is None and (before is None or before.response_complete):
                self._first_bytes = received
            super().data_received(data)
            after = getattr(self, "cycle", None)
            if after is not None and after is not before:
                first = self._first_bytes
                after.scope[ARRIVAL_KEY] = received if first is None else first
                self._first_bytes = None

    return ArrivalStampingProtocol


def _server(app: ASGIApp, clock: Callable[[], float], sock: socket.socket) -> uvicorn.Server:
    host, port = sock.getsockname()[:2]
    if clock is time.time and sys.platform == "linux":
        # Set on the listening socket too: accepted connections inherit it, so bytes that
        # arrive before the server accepts their connection are stamped on arrival (the
        # kernel stamps packets only once some socket has asked for it).
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    protocol = arrival_stamping(clock)
    return uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", http=protocol)
    )


def _number(value: float) -> str:
    return f"{value:g}"


def banner(config: SandboxConfig, base_url: str) -> list[str]:
    """The lines ``serve`` prints: where the sandbox listens and how it behaves.

    Args:
        config: behaviour of the sandbox.
        base_url: ``http://host:port`` it listens on.
    """
    low, high = config.latency_ms
    latency = _number(low) if low == high else f"{_number(low)}-{_number(high)}"
    if config.jitter_ms:
        jitter = f"each arrival delayed 0-{_number(config.jitter_ms)} ms at random"
    else:
        jitter = "none (--jitter-ms N delays each arrival by 0-N ms, as over the Internet)"
    if config.hours:
        hours = "Mon-Fri 07:00-20:00 US Eastern, 503 outside (like the USCIS sandbox)"
    else:
        hours = "always open (--hours keeps the USCIS sandbox's Mon-Fri 07:00-20:00 ET)"
    if config.faults:
        faults = ", ".join(
            f"{kind}={_number(config.faults[kind])}"
            for kind in FAULT_KINDS
            if kind in config.faults
        )
        if "timeout" in config.faults:
            faults += f" (a timeout waits {_number(config.fault_timeout_s)} s)"
    else:
        faults = "none"
    if config.synthetic:
        receipts = "the 50 staging receipts and any well-formed receipt (synthetic)"
    else:
        receipts = "the 50 staging receipts"
    if config.evolve_s is None:
        evolve = "off (--evolve SECONDS moves a random case now and then)"
    else:
        evolve = f"a random case moves every {_number(config.evolve_s)} s"
    seed = "random" if config.seed is None else str(config.seed)
    return [
        f"casewatch sandbox on {base_url}",
        f"  token URL:        {base_url}/oauth/accesstoken",
        f"  case status URL:  {base_url}/case-status/{{receiptNumber}}",
        f"  client id:        {config.client_id}",
        f"  client secret:    {config.client_secret}",
        f"  limits:           {_number(config.tps)} requests/s (spike arrest), "
        f"{config.daily_quota} requests per US Eastern day",
        f"  latency:          {latency} ms; tokens live {config.token_lifetime_s} s",
        f"  jitter:           {jitter}",
        f"  hours:            {hours}",
        f"  faults:           {faults}",
        f"  receipts:         {receipts}",
        f"  advance URL:      POST {base_url}/__sandbox/advance/{{receiptNumber}} (moves a case)",
        f"  evolve:           {evolve}",
        f"  seed:             {seed}",
    ]


def _served_sandbox(config: SandboxConfig) -> ASGIApp:
    # The sandbox as a socket serves it: only to requests that name it by a loopback host
    # and its port, and to no foreign web page (guard.py: DNS rebinding).
    return LoopbackOnly(create_app(config))


def serve(config: SandboxConfig, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve the sandbox on ``host``:``port`` until interrupted (Ctrl+C).

    Prints ``banner``: the URLs, the accepted client id and secret (they are sandbox
    credentials, not secrets) and the behaviour (limits, hours, faults, receipts, evolve).

    Args:
        config: behaviour of the sandbox.
        host: ``localhost`` or a loopback IP address; nothing else is ever served.
        port: TCP port; 0 picks a free one.

    Raises:
        ValueError: ``host`` is not a loopback host.
        OSError: the port cannot be bound.
    """
    sock = _bind_loopback(host, port)
    print("\n".join(banner(config, _base_url(host, sock))), flush=True)
    with sock:
        _server(_served_sandbox(config), config.clock, sock).run(sockets=[sock])


@contextmanager
def running_server(config: SandboxConfig, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run the sandbox in a background thread; yields its base URL (``http://host:port``).

    Returns once the server accepts connections, and stops it on exit.

    Args:
        config: behaviour of the sandbox.
        host: ``localhost`` or a loopback IP address.
        port: TCP port; 0 (the default) picks a free one.

    Raises:
        ValueError: ``host`` is not a loopback host.
        OSError: the port cannot be bound.
        RuntimeError: the server did not start within 10 seconds.
    """
    app = _served_sandbox(config)
    with running_app(app, clock=config.clock, host=host, port=port) as url:
        yield url


@contextmanager
def running_app(
    app: ASGIApp,
    *,
    clock: Callable[[], float] = time.time,
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[str]:
    """Serve any ASGI ``app`` as ``running_server`` serves the sandbox (a scripted server
    that wraps the sandbox app, say); ``clock`` (seconds since the epoch) stamps each
    request's arrival (see ``arrival_stamping``). Yields the base URL; raises as
    ``running_server``.
    """
    sock = _bind_loopback(host, port)
    with sock:
        server = _server(app, clock, sock)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="casewatch-sandbox", daemon=True
        )
        thread.start()
        try:
            deadline = time.monotonic() + _STARTUP_TIMEOUT_S
            while not server.started:
                if not thread.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError("the sandbox server did not start")
                time.sleep(0.01)
            yield _base_url(host, sock)
        finally:
            server.should_exit = True
            thread.join()
