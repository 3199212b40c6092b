"""The built-in sandbox: a Starlette app that behaves like the USCIS Case Status API.

Routes (uscis-api.md):

- ``POST /oauth/accesstoken``: OAuth 2.0 client credentials, Apigee-style answers
  ("Authentication: OAuth 2.0 client credentials").
- ``GET /case-status/{receiptNumber}``: token check, spike arrest, daily quota, receipt
  format, then the case ("Case status", "Errors", "Hosts and environments").
- ``GET /__sandbox/stats``: what the sandbox saw, for tests and benchmarks (not in the API).
- ``POST /__sandbox/advance/{receiptNumber}``: move a known case to a plausible next status,
  so that change alerts can be seen and tested (not in the API; see ``advance``).

The ``/__sandbox/*`` routes are the simulator's control plane: they need no token and
ignore ``hours``, faults and rate limits; like everything else they are served on loopback
only, to requests that name the sandbox by a loopback host and its port (DNS rebinding;
see ``guard``). With ``SandboxConfig.evolve_s`` a background task also moves a random case every
``evolve_s`` seconds (see ``create_app``).

Optional hostility (``SandboxConfig``): the USCIS sandbox's opening hours (``hours``), and
injected faults (``faults``): spurious spike arrests, 500s, an HTML 502 from a proxy, the
nested 503, gateway timeouts, a 200 that is not JSON, and connections dropped without an
answer (uscis-api.md, "Errors" and "Case status").

All state lives in ``app.state.sandbox``: two apps in one process share nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import math
import random
import secrets
import socket
import struct
import sys
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from casewatch.sandbox.data import (
    RECEIPT_PATTERN,
    STAGING_RECEIPTS,
    advance_case,
    find_case,
    is_final,
)
from casewatch.uscis.hours import US_EASTERN, sandbox_open

FAULT_KINDS: tuple[str, ...] = ("429", "500", "502", "503", "timeout", "badjson", "reset")
"""The faults ``SandboxConfig.faults`` can inject, in the fixed order in which the single
random draw of a request is mapped onto them (so the order of the mapping never matters).

- ``429``: a spike arrest the client did not earn, ``{"code": 429, "message": "Spike Arrest
  Violation"}`` (uscis-api.md: "even a short burst above that gets a 429").
- ``500``: ``{"code": 500, "message": "Internal Server Error"}`` ("403 and 500 happen too",
  a guess of uscis-api.md, with the flat body of the errors seen).
- ``502``: an HTML page from a proxy ("an HTML page ... can come from any proxy").
- ``503``: the nested, whitespace-led body of the "Errors" table.
- ``timeout``: no answer for ``fault_timeout_s`` seconds, then 504 ``Gateway Timeout``.
- ``badjson``: a 200 whose body is not JSON ("A 200 with a body that is not valid JSON has
  been seen on the sandbox").
- ``reset``: the connection is dropped without any response.
"""

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

_DROP_CONNECTION = "casewatch.sandbox.drop_connection"
"""Scope key of the coroutine function that drops the current connection."""

ARRIVAL_KEY = "casewatch.sandbox.arrival"
"""Scope key of a request's arrival: the sandbox clock's time (seconds since the epoch)
when the server received the request's first bytes (set by ``server``'s protocol). An
app served without it (``httpx.ASGITransport``) reads the clock when the handler runs."""

_DISCONNECT_WAIT_S = 1.0
"""Longest wait, in seconds, for the server to notice a connection the sandbox dropped."""

_CLOCK_TOLERANCE_S = 1e-6
"""Slack for float rounding of epoch seconds (about 0.24 µs today), so that requests
exactly ``1 / tps`` apart pass the spike arrest."""


@dataclass(frozen=True)
class SandboxConfig:
    """How the sandbox behaves.

    Attributes:
        client_id: the consumer key ``/oauth/accesstoken`` accepts.
        client_secret: the consumer secret it accepts.
        tps: spike arrest rate in requests per second; requests must be at least
            ``1 / tps`` seconds apart, with no burst allowance (uscis-api.md, "Hosts and
            environments": production is 10 TPS, the USCIS sandbox 5).
        daily_quota: case-status requests allowed per US Eastern calendar day (production
            150,000, the USCIS sandbox 1,000).
        latency_ms: range, in milliseconds, of the uniform random delay added to each
            case-status response; ``(0, 0)`` for none.
        jitter_ms: network jitter in milliseconds: each case-status request's arrival,
            as the spike arrest, the token check and the quota see it, is delayed by a
            uniform random 0 to ``jitter_ms`` ms (uscis-api.md, "More facts gathered
            later": requests sent 100 ms apart can arrive 90 ms apart); 0 (the
            default) for none. The arrival itself is when the request's first bytes
            reached the server (``ARRIVAL_KEY``), as a gateway judges it, so the
            sandbox's own scheduling does not count as the client's jitter.
        token_lifetime_s: seconds an access token stays valid (uscis-api.md: 30 minutes).
        synthetic: also answer for any well-formed receipt (see ``data.synthetic_case``)
            instead of the 50 staging receipts only.
        hours: keep the USCIS sandbox's hours: outside Monday to Friday 07:00-20:00 US
            Eastern (by ``clock``), every token and case-status request gets the nested 503
            of uscis-api.md ("Hosts and environments", "Errors"). Off by default.
        faults: probability (0 to 1) of each injected fault, keyed by a ``FAULT_KINDS``
            name, such as ``{"429": 0.05, "reset": 0.01}``; the probabilities add up to at
            most 1. Empty (the default): no faults. See ``case_status`` for when they apply.
        fault_timeout_s: seconds the ``timeout`` fault keeps a request waiting before its
            504 (default 60, longer than any sensible client timeout); the wait ends early
            when the client disconnects.
        evolve_s: every this many seconds (of the event loop's monotonic clock), move a
            random non-final known case to its next status, as ``POST
            /__sandbox/advance/{receiptNumber}`` does; ``None`` (the default): cases move
            only when asked. Known cases are the 50 staging receipts, plus, with
            ``synthetic``, every receipt answered or advanced so far.
        seed: seed of the latency, jitter, fault and evolve random streams; ``None`` for
            unpredictable ones.
        clock: wall clock in seconds since the epoch; injectable for tests. It also dates
            the moves of cases (``modifiedDate`` and the new history entry).

    Raises:
        ValueError: ``tps`` is not positive, ``daily_quota`` is negative, ``latency_ms`` is
            not ``(low, high)`` with ``0 <= low <= high``, ``jitter_ms`` is not a finite
            number of 0 or more, ``token_lifetime_s`` is below 1,
            ``faults`` names an unknown fault, has a probability outside 0..1 or adding up
            to more than 1, ``fault_timeout_s`` is negative, or ``evolve_s`` is not a
            finite number above 0; the message names the value.
    """

    client_id: str = "casewatch-demo"
    client_secret: str = "casewatch-demo-secret"
    tps: float = 10.0
    daily_quota: int = 150_000
    latency_ms: tuple[float, float] = (150.0, 400.0)
    jitter_ms: float = 0.0
    token_lifetime_s: int = 1800
    synthetic: bool = False
    hours: bool = False
    faults: Mapping[str, float] = field(default_factory=dict, hash=False)
    fault_timeout_s: float = 60.0
    evolve_s: float | None = None
    seed: int | None = None
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        if not self.tps > 0:
            raise ValueError(f"tps must be positive, got {self.tps}")
        if self.daily_quota < 0:
            raise ValueError(f"daily_quota must not be negative, got {self.daily_quota}")
        low, high = self.latency_ms
        if not 0 <= low <= high:
            raise ValueError(
                f"latency_ms must be (low, high) with 0 <= low <= high, got {low, high}"
            )
        if not (math.isfinite(self.jitter_ms) and self.jitter_ms >= 0):
            raise ValueError(f"jitter_ms must be a finite number, 0 or more, got {self.jitter_ms}")
        if self.token_lifetime_s < 1:
            raise ValueError(f"token_lifetime_s must be at least 1, got {self.token_lifetime_s}")
        if not self.fault_timeout_s >= 0:
            raise ValueError(f"fault_timeout_s must not be negative, got {self.fault_timeout_s}")
        if self.evolve_s is not None and not (math.isfinite(self.evolve_s) and self.evolve_s > 0):
            raise ValueError(f"evolve_s must be a finite number above 0, got {self.evolve_s}")
        # A read-only copy: the validated mapping cannot change behind the config's back.
        object.__setattr__(self, "faults", MappingProxyType(validate_faults(self.faults)))


def validate_faults(faults: Mapping[str, float]) -> dict[str, float]:
    """Check a fault mapping (see ``SandboxConfig.faults``); return it as ``{kind: float}``.

    Raises:
        ValueError: a key is not one of ``FAULT_KINDS``, a value is not a number from 0
            to 1, or the values add up to more than 1; the message names the culprit.
    """
    checked: dict[str, float] = {}
    for kind, probability in faults.items():
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}: the faults are {', '.join(FAULT_KINDS)}")
        if isinstance(probability, bool) or not isinstance(probability, int | float):
            raise ValueError(
                f"fault {kind!r}: probability must be a number from 0 to 1, got {probability!r}"
            )
        if not 0 <= probability <= 1:  # also refuses NaN
            raise ValueError(
                f"fault {kind!r}: probability must be from 0 to 1, got {probability!r}"
            )
        checked[kind] = float(probability)
    total = math.fsum(checked.values())
    if total > 1 + 1e-9:
        raise ValueError(
            f"fault probabilities add up to {total:g}, more than 1: "
            + ", ".join(f"{kind}={p:g}" for kind, p in checked.items())
        )
    return checked


@dataclass
class _State:
    """Everything one sandbox app remembers; times are ``clock`` seconds.

    ``moved`` holds the current payload of every case that moved (receipt -> payload) and
    ``steps`` how many times each moved; ``seen`` the synthetic receipts answered so far
    (an ordered set), which ``evolve_s`` may move too.
    """

    config: SandboxConfig
    latency: random.Random
    jitter: random.Random
    fault_draws: random.Random
    evolve_draws: random.Random
    moved: dict[str, dict[str, Any]] = field(default_factory=dict)
    steps: Counter[str] = field(default_factory=Counter)
    seen: dict[str, None] = field(default_factory=dict)
    advances: int = 0
    evolver: asyncio.Task[None] | None = None
    tokens: dict[str, float] = field(default_factory=dict)  # access token -> expiry (s)
    last_accepted: float | None = None
    quota_day: date | None = None
    quota_used: int = 0
    last_second: deque[float] = field(default_factory=deque)  # accepted in the last second
    requests: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    spike_arrests: int = 0
    tokens_issued: int = 0
    max_requests_per_second: int = 0
    faults: Counter[str] = field(default_factory=Counter)

    def arrival(self, scope: Scope) -> float:
        """When the spike arrest sees a request arrive (``clock`` seconds): when its first
        bytes reached the server (``ARRIVAL_KEY``; the clock now when not served over a
        socket), plus a draw of ``config.jitter_ms`` from the jitter stream."""
        arrived = scope.get(ARRIVAL_KEY)
        now = arrived if isinstance(arrived, float) else self.config.clock()
        if self.config.jitter_ms > 0:
            now += self.jitter.uniform(0, self.config.jitter_ms) / 1000
        return now

    def is_open(self, now: float) -> bool:
        """Whether requests are answered at ``now`` (always, unless ``config.hours``)."""
        return not self.config.hours or sandbox_open(datetime.fromtimestamp(now, US_EASTERN))

    def draw_fault(self) -> str | None:
        """One draw from the fault stream: the fault to inject, or ``None``.

        Exactly one number is drawn per call when faults are configured (none otherwise),
        so with a seed the sequence of faults depends only on how many requests drew.
        """
        if not self.config.faults:
            return None
        draw = self.fault_draws.random()
        bound = 0.0
        for kind in FAULT_KINDS:
            bound += self.config.faults.get(kind, 0.0)
            if draw < bound:
                return kind
        return None

    def token_is_valid(self, authorization: str | None, now: float) -> bool:
        """Whether ``authorization`` is ``Bearer <token>`` for a live token."""
        scheme, _, token = (authorization or "").partition(" ")
        expiry = self.tokens.get(token.strip())
        return scheme.lower() == "bearer" and expiry is not None and now < expiry

    def case(self, receipt: str) -> dict[str, Any] | None:
        """The current payload of a well-formed ``receipt`` (moved or as generated), or
        ``None`` if the sandbox does not know it."""
        moved = self.moved.get(receipt)
        if moved is not None:
            return moved
        case = find_case(receipt, synthetic=self.config.synthetic)
        if case is not None and self.config.synthetic:
            self.seen[receipt] = None
        return case

    def advance(self, receipt: str) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        """Move a well-formed ``receipt`` to a plausible next status (``data.advance_case``),
        dated by ``clock`` in US Eastern time.

        Returns ``None`` for an unknown receipt, else the payloads before and after the
        move; after is ``None`` when the case is final (nothing changes then).
        """
        before = self.case(receipt)
        if before is None:
            return None
        now = datetime.fromtimestamp(self.config.clock(), US_EASTERN).replace(tzinfo=None)
        after = advance_case(before, step=self.steps[receipt], now=now)
        if after is not None:
            self.moved[receipt] = after
            self.steps[receipt] += 1
            self.advances += 1
        return before, after

    def evolve_once(self) -> str | None:
        """Move one random non-final known case (drawn from the evolve stream); return its
        receipt, or ``None`` when every known case is final.

        Known cases are the staging receipts then the ``seen`` synthetic ones, in that
        order, so with a seed the same sequence of calls moves the same cases.
        """
        known = [*STAGING_RECEIPTS, *(r for r in self.seen if r not in STAGING_RECEIPTS)]
        movable = [r for r in known if (case := self.case(r)) is not None and not is_final(case)]
        if not movable:
            return None
        receipt = self.evolve_draws.choice(movable)
        self.advance(receipt)
        return receipt

    async def _evolve(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            self.evolve_once()

    def start_evolving(self) -> None:
        """Start the evolve task on the running event loop, unless ``evolve_s`` is unset or
        it already runs there (a task of a closed loop is replaced)."""
        if self.config.evolve_s is None:
            return
        loop = asyncio.get_running_loop()
        if self.evolver is not None and not self.evolver.done():
            if self.evolver.get_loop() is loop:
                return
            self.evolver.cancel()
        self.evolver = loop.create_task(
            self._evolve(self.config.evolve_s), name="casewatch-sandbox-evolve"
        )

    async def stop_evolving(self) -> None:
        """Cancel the evolve task, if any, and wait for it to end."""
        task, self.evolver = self.evolver, None
        if task is None or task.done():
            return
        task.cancel()
        if task.get_loop() is asyncio.get_running_loop():
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def admit(self, now: float) -> str | None:
        """Apply spike arrest then the daily quota; the 429 message, or ``None`` if accepted.

        Only accepted requests move the spike arrest window and count against the quota.
        """
        interval = 1 / self.config.tps
        if (
            self.last_accepted is not None
            and now - self.last_accepted < interval - _CLOCK_TOLERANCE_S
        ):
            self.spike_arrests += 1
            return SPIKE_ARREST
        today = datetime.fromtimestamp(now, US_EASTERN).date()
        if today != self.quota_day:
            self.quota_day, self.quota_used = today, 0
        if self.quota_used >= self.config.daily_quota:
            return (
                f"Quota Exceeded. The daily quota of {self.config.daily_quota} requests for the "
                "Case Status API has been reached; it resets at midnight US Eastern."
            )
        self.quota_used += 1
        self.last_accepted = now
        self.last_second.append(now)
        while now - self.last_second[0] >= 1 - _CLOCK_TOLERANCE_S:
            self.last_second.popleft()
        self.max_requests_per_second = max(self.max_requests_per_second, len(self.last_second))
        return None


def _state(request: Request) -> _State:
    state: _State = request.app.state.sandbox
    return state


def _oauth_error(status_code: int, error_code: str, error: str) -> JSONResponse:
    return JSONResponse({"ErrorCode": error_code, "Error": error}, status_code=status_code)


def _api_error(status_code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": status_code, "message": message}, status_code=status_code)


def _unavailable() -> Response:
    return Response(UNAVAILABLE_BODY, status_code=503, media_type="application/json")


class _DroppedConnection(Response):
    """Not a response: sending it drops the connection (the ``reset`` fault)."""

    def __init__(self) -> None:
        super().__init__(status_code=499)  # never sent; a placeholder for Starlette

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        drop: Callable[[], Awaitable[None]] | None = scope.get(_DROP_CONNECTION)
        if drop is None:  # the app is mounted inside another one: fail the request instead
            raise httpx.ReadError("[Errno 104] Connection reset by peer")
        await drop()


async def _drop_connection(receive: Receive, send: Send) -> None:
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
        async with asyncio.timeout(_DISCONNECT_WAIT_S):
            while (await receive())["type"] != "http.disconnect":
                pass


async def _sleep_unless_disconnected(request: Request, seconds: float) -> None:
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


def _fault_response(kind: str) -> Response:
    """The response of an injected fault (see ``FAULT_KINDS``)."""
    if kind == "429":
        return _api_error(429, SPIKE_ARREST)
    if kind == "500":
        return _api_error(500, "Internal Server Error")
    if kind == "502":
        return Response(BAD_GATEWAY_BODY, status_code=502, media_type="text/html")
    if kind == "503":
        return _unavailable()
    if kind == "timeout":
        return _api_error(504, "Gateway Timeout")
    if kind == "badjson":
        return Response(TRUNCATED_BODY, status_code=200, media_type="application/json")
    if kind == "reset":
        return _DroppedConnection()
    raise AssertionError(f"unknown fault {kind!r}")


async def access_token(request: Request) -> Response:
    """``POST /oauth/accesstoken``: issue a bearer token for form-encoded client credentials.

    Answers (uscis-api.md, "Authentication"): with ``hours``, the nested 503 outside the
    sandbox's hours ("Hosts and environments"); 400 ``invalid_request`` without
    ``grant_type`` (as when credentials come as HTTP Basic) or with another grant type;
    401 ``invalid_client`` for a missing or wrong client id or secret (never echoed);
    200 with the Apigee body, every value a string, ``expires_in`` one second short of
    the token lifetime.
    """
    state = _state(request)
    config = state.config
    now = config.clock()
    if not state.is_open(now):
        return _unavailable()
    form = await request.form()
    grant_type = form.get("grant_type")
    if not grant_type:
        return _oauth_error(400, "invalid_request", "Required param : grant_type")
    if grant_type != "client_credentials":
        return _oauth_error(400, "invalid_request", f"Unsupported grant type : {grant_type}")
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    if not isinstance(client_id, str) or not client_id:
        return _oauth_error(401, "invalid_client", "Client identifier is required")
    if not (
        isinstance(client_secret, str)
        and hmac.compare_digest(client_id.encode(), config.client_id.encode())
        and hmac.compare_digest(client_secret.encode(), config.client_secret.encode())
    ):
        return _oauth_error(401, "invalid_client", "Invalid client identifier")
    state.tokens = {token: expiry for token, expiry in state.tokens.items() if expiry > now}
    token = secrets.token_urlsafe(24)
    state.tokens[token] = now + config.token_lifetime_s
    state.tokens_issued += 1
    return JSONResponse(
        {
            "refresh_token_expires_in": "0",
            "api_product_list": "[Case Status API - Sandbox]",
            "organization_name": "uscis",
            "token_type": "Bearer",
            "issued_at": str(int(now * 1000)),
            "client_id": client_id,
            "access_token": token,
            "application_name": "casewatch-sandbox",
            "scope": "",
            "expires_in": str(config.token_lifetime_s - 1),
            "refresh_count": "0",
            "status": "approved",
        }
    )


def _decide(state: _State, request: Request, now: float) -> tuple[Response, str | None]:
    """The response to a case-status request, and the injected fault (``None`` if none)."""
    if not state.is_open(now):
        return _unavailable(), None
    if not state.token_is_valid(request.headers.get("authorization"), now):
        return _api_error(401, INVALID_TOKEN), None
    fault = state.draw_fault()
    if fault == "429":  # refused like a real spike arrest: not admitted
        return _fault_response(fault), fault
    refusal = state.admit(now)
    if refusal is not None:  # refused before reaching the backend: the drawn fault is moot
        return _api_error(429, refusal), None
    if fault is not None:  # admitted, then the backend or a proxy failed
        return _fault_response(fault), fault
    receipt: str = request.path_params["receipt_number"]
    if not RECEIPT_PATTERN.fullmatch(receipt):
        return _api_error(422, MALFORMED_RECEIPT), None
    case = state.case(receipt)
    if case is None:
        return _api_error(404, UNKNOWN_RECEIPT), None
    return JSONResponse(case), None


async def case_status(request: Request) -> Response:
    """``GET /case-status/{receiptNumber}``: the case, or the first error that applies.

    Checks, in order (uscis-api.md, "Errors" and "Hosts and environments"):

    1. with ``hours``, the sandbox's hours: the nested 503 outside them;
    2. bearer token (401);
    3. one draw from the fault stream, when ``faults`` are configured;
    4. an injected ``429`` answers now, before admission: like a real spike arrest it
       neither counts against the quota nor moves the spike-arrest window;
    5. spike arrest measured at arrival (429 "Spike Arrest Violation"; the arrival is
       when the request's first bytes reached the server, delayed by the configured
       jitter, and every check here is made as of it), then the daily
       quota per US Eastern day (429); a refused request never reaches a fault;
    6. any other injected fault (500, 502, 503, timeout, badjson, reset) answers now. On
       Apigee the quota and spike-arrest policies run in the proxy before the backend is
       called, so these requests were admitted: they count against the quota and the
       spike arrest, and a client's retries cost quota, as they would at USCIS;
    7. receipt format, not normalized (422), then known receipt (404).

    The response is then delayed by the configured latency (a ``timeout`` fault first
    waits ``fault_timeout_s``, or until the client disconnects). Statistics count faults
    under ``faults`` and in ``by_status`` (``reset`` as ``"reset"``, ``timeout`` as
    ``"504"``, ``badjson`` as ``"200"``).
    """
    state = _state(request)
    response, fault = _decide(state, request, state.arrival(request.scope))
    state.requests += 1
    state.by_status["reset" if fault == "reset" else str(response.status_code)] += 1
    if fault is not None:
        state.faults[fault] += 1
    if fault == "timeout":
        await _sleep_unless_disconnected(request, state.config.fault_timeout_s)
    low, high = state.config.latency_ms
    if high > 0:
        await asyncio.sleep(state.latency.uniform(low, high) / 1000)
    return response


async def stats(request: Request) -> JSONResponse:
    """``GET /__sandbox/stats``: counters of the case-status traffic seen so far.

    ``requests`` (all case-status requests), ``by_status`` (status code string -> count;
    a dropped connection counts as ``"reset"``), ``spike_arrests`` (real ones only: an
    injected 429 is a fault), ``tokens_issued``, ``max_requests_per_second`` (most requests
    accepted by the rate limits within any sliding one-second window), ``faults``
    (injected fault kind -> count) and ``advances`` (cases moved, by ``POST
    /__sandbox/advance`` or ``evolve_s``; a final case that stayed put does not count).
    """
    state = _state(request)
    body: dict[str, Any] = {
        "requests": state.requests,
        "by_status": dict(state.by_status),
        "spike_arrests": state.spike_arrests,
        "tokens_issued": state.tokens_issued,
        "max_requests_per_second": state.max_requests_per_second,
        "faults": dict(state.faults),
        "advances": state.advances,
    }
    return JSONResponse(body)


async def advance(request: Request) -> JSONResponse:
    """``POST /__sandbox/advance/{receiptNumber}``: move a known case to a plausible next status.

    Known: a staging receipt, or with ``synthetic`` any receipt ``data.synthetic_case``
    answers. The next status follows ``data.advance_case`` (received -> biometrics -> in
    review -> interview -> approved -> card produced -> mailed -> delivered; action needed
    -> response received -> in review; ...), chosen deterministically from the receipt and
    how often it moved; ``GET /case-status/{receiptNumber}`` then answers the moved case.

    Answers: 200 ``{"receiptNumber", "previous", "current"}`` (English titles); 409
    ``{"code": 409, "message"}`` when the case is final (denied, withdrawn, card delivered,
    ...: it stays put); 404 and 422 with the API's bodies for an unknown or malformed
    receipt. No token needed; hours, faults and rate limits do not apply.
    """
    state = _state(request)
    receipt: str = request.path_params["receipt_number"]
    if not RECEIPT_PATTERN.fullmatch(receipt):
        return _api_error(422, MALFORMED_RECEIPT)
    moved = state.advance(receipt)
    if moved is None:
        return _api_error(404, UNKNOWN_RECEIPT)
    before, after = moved
    previous = before["case_status"]["current_case_status_text_en"]
    if after is None:
        return _api_error(
            409, f"Case {receipt} is final ({previous}): it does not move any further."
        )
    current = after["case_status"]["current_case_status_text_en"]
    return JSONResponse({"receiptNumber": receipt, "previous": previous, "current": current})


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    """Run the evolve task (``SandboxConfig.evolve_s``) while the server runs."""
    state: _State = app.state.sandbox
    state.start_evolving()
    try:
        yield
    finally:
        await state.stop_evolving()


class _SandboxApp(Starlette):
    """A Starlette app that can drop the connection of the request it is answering."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            # In-process servers (httpx.ASGITransport) run no lifespan: start evolving here.
            self.state.sandbox.start_evolving()
            # Only the outermost app sees the server's own ``send`` (Starlette's middleware
            # wraps it), which is what ``_drop_connection`` needs.
            scope[_DROP_CONNECTION] = functools.partial(_drop_connection, receive, send)
        await super().__call__(scope, receive, send)


def create_app(config: SandboxConfig | None = None) -> Starlette:
    """A new sandbox app with its own tokens, limits, random streams, counters and cases.

    With ``config.evolve_s`` the app moves a random case every ``evolve_s`` seconds in a
    task on the event loop that serves it. Under uvicorn (``serve``, ``running_server``)
    the app's lifespan starts it and stops it at shutdown. ``httpx.ASGITransport`` runs no
    lifespan, so in-process the task starts with the first request and runs until the
    event loop closes; to stop it cleanly, wrap the use in the lifespan:
    ``async with app.router.lifespan_context(app): ...`` (it also starts the task at once).

    Args:
        config: behaviour of the sandbox; ``SandboxConfig()`` when ``None``.
    """
    config = config if config is not None else SandboxConfig()
    app = _SandboxApp(
        routes=[
            Route("/oauth/accesstoken", access_token, methods=["POST"]),
            Route("/case-status/{receipt_number}", case_status, methods=["GET"]),
            Route("/__sandbox/stats", stats, methods=["GET"]),
            Route("/__sandbox/advance/{receipt_number}", advance, methods=["POST"]),
        ],
        lifespan=_lifespan,
    )
    # Streams of their own, so that turning faults or jitter on does not change the
    # latencies drawn; the seeds are strings, which ``random`` hashes the same in every
    # process.
    fault_seed = None if config.seed is None else f"casewatch-sandbox-faults-{config.seed}"
    jitter_seed = None if config.seed is None else f"casewatch-sandbox-jitter-{config.seed}"
    evolve_seed = None if config.seed is None else f"casewatch-sandbox-evolve-{config.seed}"
    app.state.sandbox = _State(
        config=config,
        latency=random.Random(config.seed),
        jitter=random.Random(jitter_seed),
        fault_draws=random.Random(fault_seed),
        evolve_draws=random.Random(evolve_seed),
    )
    return app
