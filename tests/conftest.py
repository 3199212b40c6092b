"""Shared test set-up: isolated user directories, a fixed zone, animations off; a
scripted loopback server that answers as USCIS, a proxy or a cache would."""

from __future__ import annotations

import http.server
import io
import json
import logging
import os
import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

# Before Textual is imported: its constants are read once.
os.environ["TEXTUAL_ANIMATIONS"] = "none"
os.environ["TZ"] = "America/New_York"
time.tzset()

from casewatch.cases import US_EASTERN  # noqa: E402
from casewatch.config import fast_demo_settings  # noqa: E402
from casewatch.sandbox import SandboxConfig, synthetic_case  # noqa: E402
from casewatch.watchlist import open_watchlist  # noqa: E402

FROZEN_NOW = datetime(2026, 11, 29, 9, 30, tzinfo=US_EASTERN).timestamp()
"""The fixed clock of snapshot tests: 09:30 US Eastern, 2026-11-29."""


class FakeTime:
    """A clock (Unix seconds) whose sleep advances it, so spacing is checked without
    waiting: give it to a ``RateLimiter`` as ``clock`` and ``sleep``, and to a sandbox."""

    def __init__(self, start: float) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data, state, config and cache directories."""
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    for name in (
        "CASEWATCH_ENV",
        "CASEWATCH_CONFIG",
        "CASEWATCH_CLIENT_ID",
        "CASEWATCH_CLIENT_SECRET",
        "NO_COLOR",
    ):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture(autouse=True)
def no_log_file_left() -> Iterator[None]:
    """The log file handler a test's ``main()`` adds (casewatch.logs) goes with the test,
    so later tests never write to its directory."""
    yield
    casewatch_log = logging.getLogger("casewatch")
    for handler in list(casewatch_log.handlers):
        casewatch_log.removeHandler(handler)
        handler.close()


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., object]:
    """Build a dashboard on a fast demo sandbox with a frozen clock."""
    from casewatch.tui.app import CaseWatchApp

    def build(clock: Callable[[], float] = lambda: FROZEN_NOW, **sandbox: object) -> CaseWatchApp:
        config = SandboxConfig(latency_ms=(0.0, 0.0), tps=1_000_000.0, **sandbox)  # type: ignore[arg-type]
        settings = fast_demo_settings(tmp_path, config)
        return CaseWatchApp(settings, open_watchlist(settings, clock), clock=clock)

    return build


@dataclass(frozen=True)
class Received:
    """The request a scripted answer answers: its headers and its body (the token
    request's form)."""

    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Answer:
    """One scripted answer: an HTTP status, a body, its content type and other headers
    (such as ``(("Retry-After", "2"),)``). The body is bytes, or a function of the
    request (:class:`Received`) giving the body's chunks: sent as they come, without a
    ``Content-Length``, the connection closed at the end (a server that echoes the
    request, or streams more than a test should hold in memory). With ``drip_s``, the
    whole answer (status line, headers, a body of bytes) is sent one byte at a time,
    ``drip_s`` seconds before each: a server that drips its answer, or (a long
    ``drip_s``) never answers."""

    status: int
    body: bytes | Callable[[Received], Iterable[bytes]]
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    drip_s: float = 0.0


SCRIPTED_TOKEN = {"access_token": "scripted-token", "expires_in": "1799", "token_type": "Bearer"}

TOKEN_ANSWER = Answer(200, json.dumps(SCRIPTED_TOKEN).encode())
"""The token endpoint's answer to any credentials."""

NOT_RECOGNIZED = Answer(
    404,
    b'{"code": 404, "message": "Case Status Online does not recognize the receipt number '
    b'entered."}',
)
"""USCIS's own 404 (uscis-api.md, "Errors")."""


def case_status_answer(receipt: str, *, about: str | None = None, **fields: object) -> Answer:
    """A 200 with the sandbox's case status of ``about`` (default: ``receipt`` itself;
    another receipt number is what a caching proxy or a server bug could send), with
    these ``case_status`` fields replaced (``message``: the top-level message)."""
    payload = synthetic_case(about or receipt)
    if "message" in fields:
        payload["message"] = fields.pop("message")
    payload["case_status"].update(fields)
    return Answer(200, json.dumps(payload).encode())


LINKED_DESCRIPTION = (
    "As of today, we are reviewing your case. If you move, go to "
    '<a href="https://www.uscis.gov/addresschange" target="_blank">Change of Address</a>.'
)
"""The description of :func:`broken_quotes_answer`, as USCIS meant it."""


def broken_quotes_answer(receipt: str) -> Answer:
    """A 200 as the live USCIS sandbox sent one (uscis-api.md, "More facts gathered
    later"): the case status of ``receipt`` whose description, :data:`LINKED_DESCRIPTION`,
    holds a link with its quotes not escaped (``"…go to <a href="https://…">…</a>…"``),
    so the body is not valid JSON."""
    payload = synthetic_case(receipt)
    payload["case_status"]["current_case_status_desc_en"] = LINKED_DESCRIPTION
    text = json.dumps(payload).replace(json.dumps(LINKED_DESCRIPTION), f'"{LINKED_DESCRIPTION}"')
    return Answer(200, text.encode())


@dataclass(frozen=True)
class ScriptedUSCIS:
    """What :func:`scripted_uscis` serves: ``url`` (``http://127.0.0.1:PORT``), the
    case-status requests it answered, counted per receipt number (``requests``), when
    each reached it (``arrivals``: Unix times in seconds, in order), and ``listen``,
    which starts answering a server made with ``listening=False``."""

    url: str
    requests: Counter[str]
    arrivals: list[float]
    listen: Callable[[], None]


@contextmanager
def scripted_uscis(
    answers: Mapping[str, Answer | Sequence[Answer]],
    *,
    listening: bool = True,
    token: Answer = TOKEN_ANSWER,
) -> Iterator[ScriptedUSCIS]:
    """Serve on a free loopback port, in a thread: ``token`` (a token for any
    credentials) at ``POST /oauth/accesstoken``, and at ``GET /case-status/{receipt}``
    the answer ``answers`` gives for that receipt number (USCIS's own 404 for the
    others); for a sequence of answers, the next at each request, the last one
    repeated. With ``listening`` False the port is bound but refuses every connection,
    as when USCIS cannot be reached, until ``listen()``."""
    requests: Counter[str] = Counter()
    arrivals: list[float] = []
    closing = threading.Event()  # ends the drips when the server closes

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self, answer: Answer, body: bytes = b"") -> None:
            if callable(answer.body):
                self._stream(answer, answer.body(Received(self.headers, body)))
                return
            wire = self.wfile
            if answer.drip_s:
                self.wfile = buffer = io.BytesIO()
            self.send_response(answer.status)
            for name, value in answer.headers:
                self.send_header(name, value)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
            if answer.drip_s:
                self.wfile, self.close_connection = wire, True
                for byte in buffer.getvalue():
                    if closing.wait(answer.drip_s):
                        return
                    try:
                        wire.write(bytes([byte]))
                    except OSError:  # the client gave up
                        return

        def _stream(self, answer: Answer, chunks: Iterable[bytes]) -> None:
            self.close_connection = True
            self.send_response(answer.status)
            for name, value in answer.headers:
                self.send_header(name, value)
            self.send_header("Content-Type", answer.content_type)
            self.end_headers()
            for chunk in chunks:
                if closing.is_set():
                    return
                try:
                    self.wfile.write(chunk)
                except OSError:  # the client gave up
                    return

        def do_POST(self) -> None:
            self._answer(token, self.rfile.read(int(self.headers.get("Content-Length", 0))))

        def do_GET(self) -> None:
            arrivals.append(time.time())
            receipt = self.path.removeprefix("/case-status/")
            requests[receipt] += 1
            answer = answers.get(receipt, NOT_RECOGNIZED)
            if not isinstance(answer, Answer):
                answer = answer[min(requests[receipt], len(answer)) - 1]
            self._answer(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
    server.server_bind()
    thread = threading.Thread(target=server.serve_forever, daemon=True)

    def listen() -> None:
        server.server_activate()
        thread.start()

    if listening:
        listen()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        yield ScriptedUSCIS(url, requests, arrivals, listen)
    finally:
        closing.set()
        if thread.is_alive():
            server.shutdown()
            thread.join()
        server.server_close()


class RedisServer:
    """A ``redis-server`` on a free loopback port, its data in memory only: ``url`` to
    reach it, ``stop()`` to make it go away as a server that crashed would."""

    def __init__(self, tmp_path: Path, password: str | None = None) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        self.port = closed_port()
        arguments = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        arguments += ["--appendonly", "no", "--dir", str(tmp_path)]
        if password:
            arguments += ["--requirepass", password]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            arguments, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("redis-server did not start within 10 seconds") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (it answers nothing more)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A ``redis-server`` on a free loopback port for the test (skipped, with the reason,
    when Debian's ``redis-server`` is not installed)."""
    server = RedisServer(tmp_path)
    yield server
    server.stop()


def closed_port() -> int:
    """A loopback TCP port nothing listens on (free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def subprocess_env(tmp_path: Path) -> dict[str, str]:
    """os.environ with the user directories in ``tmp_path`` and no CASEWATCH_* settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEWATCH_")}
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        env[name] = str(tmp_path / name.lower())
    return env
