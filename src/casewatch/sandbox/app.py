"""The built-in sandbox: a Starlette app that behaves like the USCIS Case Status API.

Routes (uscis-api.md):

- ``POST /oauth/accesstoken``: OAuth 2.0 client credentials, Apigee-style answers
  ("Authentication: OAuth 2.0 client credentials").
- ``GET /case-status/{receiptNumber}``: token check, spike arrest, daily quota, receipt
  format, then the case ("Case status", "Errors", "Hosts and environments").
- ``GET /__sandbox/stats``: what the sandbox saw, for tests and benchmarks (not in the API).
- ``POST /__sandbox/advance/{receiptNumber}``: move a known case to a plausible next status,
  so that change alerts can be seen and tested (not in the API).

The ``/__sandbox/*`` routes are the simulator's control plane (``control``): they need no
token and ignore ``hours``, faults and rate limits; like everything else they are served
on loopback only, to requests that name the sandbox by a loopback host and its port (DNS
rebinding; see ``guard``). With ``SandboxConfig.evolve_s`` a background task also moves a
random case every ``evolve_s`` seconds (see ``create_app``).

Optional hostility (``SandboxConfig``): the USCIS sandbox's opening hours (``hours``), and
injected faults (``faults``): spurious spike arrests, 500s, an HTML 502 from a proxy, the
nested 503, gateway timeouts, a 200 that is not JSON, and connections dropped without an
answer (uscis-api.md, "Errors" and "Case status"); their bodies are in ``responses``.

All state lives in ``app.state.sandbox`` (``state.SandboxState``): two apps in one
process share nothing. ``config`` holds ``SandboxConfig``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import random
import secrets
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from casewatch.sandbox.config import SandboxConfig
from casewatch.sandbox.control import advance, stats
from casewatch.sandbox.data import RECEIPT_PATTERN
from casewatch.sandbox.responses import (
    DROP_CONNECTION,
    INVALID_TOKEN,
    MALFORMED_RECEIPT,
    UNKNOWN_RECEIPT,
    api_error,
    drop_connection,
    fault_response,
    oauth_error,
    sleep_unless_disconnected,
    unavailable,
)
from casewatch.sandbox.state import SandboxState, state_of


async def access_token(request: Request) -> Response:
    """``POST /oauth/accesstoken``: issue a bearer token for form-encoded client credentials.

    Answers (uscis-api.md, "Authentication"): with ``hours``, the nested 503 outside the
    sandbox's hours ("Hosts and environments"); 400 ``invalid_request`` without
    ``grant_type`` (as when credentials come as HTTP Basic) or with another grant type;
    401 ``invalid_client`` for a missing or wrong client id or secret (never echoed);
    200 with the Apigee body, every value a string, ``expires_in`` one second short of
    the token lifetime.
    """
    state = state_of(request)
    config = state.config
    now = config.clock()
    if not state.is_open(now):
        return unavailable()
    form = await request.form()
    grant_type = form.get("grant_type")
    if not grant_type:
        return oauth_error(400, "invalid_request", "Required param : grant_type")
    if grant_type != "client_credentials":
        return oauth_error(400, "invalid_request", f"Unsupported grant type : {grant_type}")
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    if not isinstance(client_id, str) or not client_id:
        return oauth_error(401, "invalid_client", "Client identifier is required")
    if not (
        isinstance(client_secret, str)
        and hmac.compare_digest(client_id.encode(), config.client_id.encode())
        and hmac.compare_digest(client_secret.encode(), config.client_secret.encode())
    ):
        return oauth_error(401, "invalid_client", "Invalid client identifier")
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


def _decide(state: SandboxState, request: Request, now: float) -> tuple[Response, str | None]:
    """The response to a case-status request, and the injected fault (``None`` if none)."""
    if not state.is_open(now):
        return unavailable(), None
    if not state.token_is_valid(request.headers.get("authorization"), now):
        return api_error(401, INVALID_TOKEN), None
    fault = state.draw_fault()
    if fault == "429":  # refused like a real spike arrest: not admitted
        return fault_response(fault), fault
    refusal = state.admit(now)
    if refusal is not None:  # refused before reaching the backend: the drawn fault is moot
        return api_error(429, refusal), None
    if fault is not None:  # admitted, then the backend or a proxy failed
        return fault_response(fault), fault
    receipt: str = request.path_params["receipt_number"]
    if not RECEIPT_PATTERN.fullmatch(receipt):
        return api_error(422, MALFORMED_RECEIPT), None
    case = state.case(receipt)
    if case is None:
        return api_error(404, UNKNOWN_RECEIPT), None
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
    state = state_of(request)
    response, fault = _decide(state, request, state.arrival(request.scope))
    state.requests += 1
    state.by_status["reset" if fault == "reset" else str(response.status_code)] += 1
    if fault is not None:
        state.faults[fault] += 1
    if fault == "timeout":
        await sleep_unless_disconnected(request, state.config.fault_timeout_s)
    low, high = state.config.latency_ms
    if high > 0:
        await asyncio.sleep(state.latency.uniform(low, high) / 1000)
    return response


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    """Run the evolve task (``SandboxConfig.evolve_s``) while the server runs."""
    state: SandboxState = app.state.sandbox
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
            # wraps it), which is what ``drop_connection`` needs.
            scope[DROP_CONNECTION] = functools.partial(drop_connection, receive, send)
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
    app.state.sandbox = SandboxState(
        config=config,
        latency=random.Random(config.seed),
        jitter=random.Random(jitter_seed),
        fault_draws=random.Random(fault_seed),
        evolve_draws=random.Random(evolve_seed),
    )
    return app
