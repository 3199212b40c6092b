"""``casewatch serve``: the dashboard in a browser, through textual-serve (issue 15, point
1), for the colleague who does not live in a terminal, reached over
``ssh -L 8000:localhost:8000 host``.

textual-serve answers the page and, for each browser that opens it, runs
``python -m casewatch [OPTIONS] dashboard`` with Textual's web driver and relays its
screen over a WebSocket. The page has no login and shows clients' cases, so:

- it binds to loopback only unless ``--i-know-this-is-public`` is given;
- it answers a request only when its ``Host`` names the machine by a loopback name (a web
  page whose own name points at 127.0.0.1, DNS rebinding, is refused) and it comes from
  the served page itself (a WebSocket opened by another site's page is refused: browsers
  let any page open one);
- the page (``serve_page/app_index.html``) loads nothing from outside the machine:
  textual-serve's own page fetches its font from a public CDN, which would tell a third
  party who is looking at immigration cases; ours takes the font textual-serve ships.

No heavy imports at the top: textual-serve and aiohttp are imported when ``serve`` runs,
and ``casewatch check`` starts fast.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from casewatch.cli_common import fail, settings_of
from casewatch.config import is_loopback_host
from casewatch.config_file import ConfigError

if TYPE_CHECKING:
    from aiohttp import web

WEB_DRIVER = "textual.drivers.web_driver:WebDriver"
"""The value textual-serve gives ``TEXTUAL_DRIVER`` in the environment of the dashboard it
runs (``textual_serve.app_service.AppService._build_environment``); Textual then talks
its packet protocol on standard input and output, which are pipes."""

PAGE_FOLDER = Path(__file__).with_name("serve_page")
"""The folder of the page template (``app_index.html``) given to textual-serve."""

DEFAULT_PORT = 8000

SESSION_STOP_S = 10.0
"""Seconds the dashboards of open pages get to quit when ``serve`` stops."""

_OWN_OPTIONS = frozenset({"command", "host", "port", "i_know_this_is_public"})
"""The destinations of ``serve``'s own options: every other parsed option is the
dashboard's and passes through."""


def under_web_driver(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether this process is a dashboard that textual-serve runs (``TEXTUAL_DRIVER`` is
    :data:`WEB_DRIVER`): then standard input and output are pipes and are meant to be."""
    return environ.get("TEXTUAL_DRIVER") == WEB_DRIVER


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65_535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: give one from 1 to 65535")
    return port


def add_serve_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
    add_dashboard_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    """``serve``: the global options of ``common`` and the dashboard's own
    (``add_dashboard_options``, such as ``--theme``) pass through to the dashboard, then
    ``--host``, ``--port`` and ``--i-know-this-is-public``."""
    serve = commands.add_parser(
        "serve",
        parents=[common],
        help="serve the dashboard to a web browser on loopback (reach it over ssh -L)",
        description="Serve the dashboard as a web page: each browser that opens it gets "
        "its own dashboard, with the same options (--env, --watchlist, --theme, ...). The "
        "page has no login and shows your clients' cases, so it is served on loopback only; "
        f"from another computer, forward the port: ssh -L {DEFAULT_PORT}:localhost:"
        f"{DEFAULT_PORT} host, then open http://localhost:{DEFAULT_PORT}. The page loads "
        "nothing from outside this machine. Exit status: 2 a bad setting, an address that "
        "is not loopback, or a port that cannot be listened on; 130 stopped with Ctrl-C.",
    )
    add_dashboard_options(serve)
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        metavar="ADDRESS",
        help="the address to listen on (default 127.0.0.1; 127.0.0.1, ::1 or localhost)",
    )
    serve.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        metavar="N",
        help=f"the port to listen on (default {DEFAULT_PORT})",
    )
    serve.add_argument(
        "--i-know-this-is-public",
        action="store_true",
        help="listen on an address that is not loopback: anyone who reaches it sees and "
        "changes the watchlist, with no login",
    )


def dashboard_command(args: argparse.Namespace, python: str = sys.executable) -> str:
    """The shell command textual-serve runs for each browser: ``python -m casewatch``, the
    dashboard options given to ``serve`` (every parsed option but ``serve``'s own; the
    options default to ``argparse.SUPPRESS``, so only those given are there) and
    ``dashboard``, each word quoted with :func:`shlex.quote`."""
    words = [python, "-m", "casewatch"]
    for name, value in vars(args).items():
        if name not in _OWN_OPTIONS:
            words += [f"--{name.replace('_', '-')}", str(value)]
    return shlex.join([*words, "dashboard"])


def refusal(headers: Mapping[str, str], public: bool) -> str | None:
    """Why a request with these ``headers`` (lower-case names) is refused, or None.

    Refused: a ``Host`` that is not a loopback name (``localhost``, 127.0.0.1, ``[::1]``;
    any name with ``public``), against DNS rebinding; an ``Origin`` other than the
    ``Host`` (a page of another site opening the WebSocket). The port is not compared
    with the one served: ``ssh -L 9000:localhost:8000`` shows the page as
    ``localhost:9000``. Rules of :mod:`casewatch.sandbox.guard`, which the sandbox follows.
    Never raises."""
    from casewatch.sandbox.guard import host_and_port

    host = headers.get("host", "")
    named = host_and_port(host)
    if named is None or not (public or is_loopback_host(named[0])):
        return (
            f"casewatch serve answers requests to localhost, 127.0.0.1 or [::1] only, not to "
            f"Host {host!r} (a web page whose name points at this machine cannot use it)"
        )
    origin = headers.get("origin")
    if origin is not None and host_and_port(origin) != named:
        return f"casewatch serve answers no request from a page of {origin!r}"
    return None


def _serve(args: argparse.Namespace) -> int:
    """Run ``casewatch serve`` until Ctrl-C (then :class:`KeyboardInterrupt`, so ``main``
    says "interrupted" and exits 130) or SIGTERM (exit status 0)."""
    if not is_loopback_host(args.host):
        if not args.i_know_this_is_public:
            return fail(
                f"serve: {args.host} is not a loopback address: anyone who reaches it would "
                "see and change your clients' cases, with no login. Serve on 127.0.0.1 (the "
                "default) and forward the port from your own computer: ssh -L "
                f"{args.port}:localhost:{args.port} host, then open "
                f"http://localhost:{args.port} there (or add --i-know-this-is-public)"
            )
        print(
            f"casewatch: warning: serving the dashboard on {args.host}, not loopback: anyone "
            "who reaches it sees and changes your clients' cases, with no login",
            file=sys.stderr,
        )
    try:
        settings_of(args)  # a bad setting is said once, here, not in every browser
    except ConfigError as exc:
        return fail(exc)
    server = _dashboard_server(dashboard_command(args), args.host, args.port)
    try:
        server.serve()
    except OSError as exc:  # asyncio's words name the address again: the errno's alone
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        return fail(f"serve: cannot listen on {args.host} port {args.port}: {why}")
    if server.interrupted:
        raise KeyboardInterrupt
    print("casewatch: serve stopped", file=sys.stderr)
    return 0


class _Serving(Protocol):
    """What :func:`_dashboard_server` gives: ``serve()`` blocks until a signal, then
    ``interrupted`` tells whether it was Ctrl-C."""

    interrupted: bool

    def serve(self) -> None: ...


def _dashboard_server(command: str, host: str, port: int) -> _Serving:
    # textual-serve's Server, with our page, the guard of `refusal`, no Rich logging (its
    # tracebacks show local values, and the dashboard's environment holds the credentials)
    # and our own signals: Ctrl-C and SIGTERM are told apart.
    import asyncio
    import signal

    from aiohttp import web
    from aiohttp.typedefs import Handler
    from aiohttp.web_runner import GracefulExit
    from textual_serve.server import Server

    public = not is_loopback_host(host)

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        why = refusal({name.lower(): value for name, value in request.headers.items()}, public)
        if why is not None:
            raise web.HTTPForbidden(text=why)
        return await handler(request)

    class DashboardServer(Server):
        interrupted = False
        sessions: set[asyncio.Task[object]] = set()  # a class per server: its own set

        async def _make_app(self) -> web.Application:
            app: web.Application = await super()._make_app()
            app.middlewares.append(guard)
            return app

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            # A browser's session: its dashboard runs until the page closes.
            session = asyncio.current_task()
            assert session is not None
            self.sessions.add(session)
            try:
                response: web.WebSocketResponse = await super().handle_websocket(request)
                return response
            finally:
                self.sessions.discard(session)

        async def on_shutdown(self, app: web.Application) -> None:
            # Before aiohttp waits for the open requests: each session closes its page and
            # tells its dashboard to quit (textual-serve's AppService.stop), which saves.
            for session in self.sessions:
                session.cancel()
            if self.sessions:
                await asyncio.wait(self.sessions, timeout=SESSION_STOP_S)

        async def on_startup(self, app: web.Application) -> None:
            pass  # textual-serve prints its logo here; `listening` says where, once it is

        def listening(self, *_: object) -> None:
            address = f"[{host}]" if ":" in host else host
            print(
                f"casewatch: serving the dashboard on http://{address}:{port}/ (Ctrl-C stops it)",
                file=sys.stderr,
                flush=True,
            )

        def _interrupt(self) -> None:
            self.interrupted = True
            raise GracefulExit

        def serve(self, debug: bool = False) -> None:
            loop = asyncio.new_event_loop()
            loop.add_signal_handler(signal.SIGINT, self._interrupt)
            loop.add_signal_handler(signal.SIGTERM, self.request_exit)
            web.run_app(
                self._make_app(),
                host=host,
                port=port,
                loop=loop,
                handle_signals=False,
                print=self.listening,  # once listening
                access_log=None,
            )

    server: _Serving = DashboardServer(
        command, host=host, port=port, title="casewatch", templates_path=PAGE_FOLDER
    )
    return server


SERVE_VERBS: dict[str, Callable[[argparse.Namespace], int]] = {"serve": _serve}
"""The command of ``serve``: parsed arguments in, exit status out."""
