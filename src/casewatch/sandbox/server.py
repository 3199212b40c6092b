"""Serving the built-in sandbox over HTTP, on loopback only."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from casewatch.sandbox.app import SandboxConfig, create_app

_STARTUP_TIMEOUT_S = 10.0


def _bind_loopback(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` (port 0: a free port chosen by the system).

    Raises:
        ValueError: ``host`` is not ``localhost`` or a loopback IP address.
        OSError: the port cannot be bound.
    """
    address = "127.0.0.1" if host == "localhost" else host
    try:
        loopback = ipaddress.ip_address(address).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
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


def _server(config: SandboxConfig, sock: socket.socket) -> uvicorn.Server:
    host, port = sock.getsockname()[:2]
    app = create_app(config)
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))


def serve(config: SandboxConfig, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve the sandbox on ``host``:``port`` until interrupted (Ctrl+C).

    Prints the base URL, the token URL, the case-status URL pattern and the accepted
    client id and secret (they are sandbox credentials, not secrets).

    Args:
        config: behaviour of the sandbox.
        host: ``localhost`` or a loopback IP address; nothing else is ever served.
        port: TCP port; 0 picks a free one.

    Raises:
        ValueError: ``host`` is not a loopback host.
        OSError: the port cannot be bound.
    """
    sock = _bind_loopback(host, port)
    base = _base_url(host, sock)
    print(f"casewatch sandbox on {base}")
    print(f"  token URL:        {base}/oauth/accesstoken")
    print(f"  case status URL:  {base}/case-status/{{receiptNumber}}")
    print(f"  client id:        {config.client_id}")
    print(f"  client secret:    {config.client_secret}")
    with sock:
        _server(config, sock).run(sockets=[sock])


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
    sock = _bind_loopback(host, port)
    with sock:
        server = _server(config, sock)
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
