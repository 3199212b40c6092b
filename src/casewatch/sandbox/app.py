"""The built-in sandbox: a Starlette app that behaves like the USCIS Case Status API.

Routes (uscis-api.md):

- ``POST /oauth/accesstoken``: OAuth 2.0 client credentials, Apigee-style answers
  ("Authentication: OAuth 2.0 client credentials").
- ``GET /case-status/{receiptNumber}``: token check, spike arrest, daily quota, receipt
  format, then the case ("Case status", "Errors", "Hosts and environments").
- ``GET /__sandbox/stats``: what the sandbox saw, for tests and benchmarks (not in the API).

All state lives in ``app.state.sandbox``: two apps in one process share nothing.
"""

from __future__ import annotations

import asyncio
import hmac
import random
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from casewatch.sandbox.data import RECEIPT_PATTERN, find_case

US_EASTERN = ZoneInfo("America/New_York")
"""The zone of the daily quota's day (uscis-api.md, "Hosts and environments")."""

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
        token_lifetime_s: seconds an access token stays valid (uscis-api.md: 30 minutes).
        synthetic: also answer for any well-formed receipt (see ``data.synthetic_case``)
            instead of the 50 staging receipts only.
        seed: seed of the latency random stream; ``None`` for an unpredictable one.
        clock: wall clock in seconds since the epoch; injectable for tests.

    Raises:
        ValueError: ``tps`` is not positive, ``daily_quota`` is negative, ``latency_ms`` is
            not ``(low, high)`` with ``0 <= low <= high``, or ``token_lifetime_s`` is below 1.
    """

    client_id: str = "casewatch-demo"
    client_secret: str = "casewatch-demo-secret"
    tps: float = 10.0
    daily_quota: int = 150_000
    latency_ms: tuple[float, float] = (150.0, 400.0)
    token_lifetime_s: int = 1800
    synthetic: bool = False
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
        if self.token_lifetime_s < 1:
            raise ValueError(f"token_lifetime_s must be at least 1, got {self.token_lifetime_s}")


@dataclass
class _State:
    """Everything one sandbox app remembers; times are ``clock`` seconds."""

    config: SandboxConfig
    latency: random.Random
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

    def token_is_valid(self, authorization: str | None, now: float) -> bool:
        """Whether ``authorization`` is ``Bearer <token>`` for a live token."""
        scheme, _, token = (authorization or "").partition(" ")
        expiry = self.tokens.get(token.strip())
        return scheme.lower() == "bearer" and expiry is not None and now < expiry

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


async def access_token(request: Request) -> JSONResponse:
    """``POST /oauth/accesstoken``: issue a bearer token for form-encoded client credentials.

    Answers (uscis-api.md, "Authentication"): 400 ``invalid_request`` without
    ``grant_type`` (as when credentials come as HTTP Basic) or with another grant type;
    401 ``invalid_client`` for a missing or wrong client id or secret (never echoed);
    200 with the Apigee body, every value a string, ``expires_in`` one second short of
    the token lifetime.
    """
    state = _state(request)
    config = state.config
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
    now = config.clock()
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


def _decide(state: _State, request: Request, now: float) -> JSONResponse:
    if not state.token_is_valid(request.headers.get("authorization"), now):
        return _api_error(401, INVALID_TOKEN)
    refusal = state.admit(now)
    if refusal is not None:
        return _api_error(429, refusal)
    receipt: str = request.path_params["receipt_number"]
    if not RECEIPT_PATTERN.fullmatch(receipt):
        return _api_error(422, MALFORMED_RECEIPT)
    case = find_case(receipt, synthetic=state.config.synthetic)
    if case is None:
        return _api_error(404, UNKNOWN_RECEIPT)
    return JSONResponse(case)


async def case_status(request: Request) -> JSONResponse:
    """``GET /case-status/{receiptNumber}``: the case, or the first error that applies.

    Checks, in order (uscis-api.md, "Errors" and "Hosts and environments"): bearer token
    (401), spike arrest measured at arrival (429 "Spike Arrest Violation"), daily quota
    per US Eastern day (429), receipt format, not normalized (422), known receipt (404).
    The response is then delayed by the configured latency.
    """
    state = _state(request)
    response = _decide(state, request, state.config.clock())
    state.requests += 1
    state.by_status[str(response.status_code)] += 1
    low, high = state.config.latency_ms
    if high > 0:
        await asyncio.sleep(state.latency.uniform(low, high) / 1000)
    return response


async def stats(request: Request) -> JSONResponse:
    """``GET /__sandbox/stats``: counters of the case-status traffic seen so far.

    ``requests`` (all case-status requests), ``by_status`` (status code string -> count),
    ``spike_arrests``, ``tokens_issued`` and ``max_requests_per_second`` (most requests
    accepted by the rate limits within any sliding one-second window).
    """
    state = _state(request)
    body: dict[str, Any] = {
        "requests": state.requests,
        "by_status": dict(state.by_status),
        "spike_arrests": state.spike_arrests,
        "tokens_issued": state.tokens_issued,
        "max_requests_per_second": state.max_requests_per_second,
    }
    return JSONResponse(body)


def create_app(config: SandboxConfig | None = None) -> Starlette:
    """A new sandbox app with its own tokens, limits and counters.

    Args:
        config: behaviour of the sandbox; ``SandboxConfig()`` when ``None``.
    """
    config = config if config is not None else SandboxConfig()
    app = Starlette(
        routes=[
            Route("/oauth/accesstoken", access_token, methods=["POST"]),
            Route("/case-status/{receipt_number}", case_status, methods=["GET"]),
            Route("/__sandbox/stats", stats, methods=["GET"]),
        ]
    )
    app.state.sandbox = _State(config=config, latency=random.Random(config.seed))
    return app
