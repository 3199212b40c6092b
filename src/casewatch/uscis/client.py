"""CaseStatusClient: one call asks USCIS for the status of one receipt number."""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

import filelock
import httpx
import stamina

from casewatch.cases import US_EASTERN, CaseStatus
from casewatch.receipts import ReceiptNumber
from casewatch.uscis.answers import case_status_from_answer
from casewatch.uscis.auth import ClientCredentialsAuth, Credentials
from casewatch.uscis.bodies import ACCEPTED_ENCODINGS, bound_body
from casewatch.uscis.errors import (
    DeadlineExceeded,
    NetworkError,
    ServiceUnavailable,
    SpikeArrest,
    TokenUnanswered,
    USCISError,
    error_from_response,
    parse_retry_after,
)
from casewatch.uscis.hours import next_sandbox_opening, sandbox_open
from casewatch.uscis.limits import WRITE_ALLOWANCE_S, RateLimiter
from casewatch.uscis.traffic import TrafficLog

RETRY_ATTEMPTS = 3
"""Tries per receipt for errors that a later try can cure (spike arrest, 5xx, network)."""

HOLDING_STATUSES = frozenset({429, 503})
"""Answers whose ``Retry-After`` holds every request sharing the ledger (``uscis-api.md``,
"More facts gathered later": Apigee sends it with some 429s, 503s may carry it)."""

TIMEOUT_S = 30.0
"""Seconds to wait for USCIS before a request counts as a network error: for the
connection, and for each read."""

REQUEST_DEADLINE_S = 60.0
"""Seconds one request (a token's or a case status's) may take in all, from its send to
the last byte of its body; the wait for the send slot is not counted. :data:`TIMEOUT_S`
bounds each read only: a server that sends a byte every few seconds would keep a check
alive forever, and a cron ``refresh`` would hold the refresher lease (issue 11, point 1).
Twice :data:`TIMEOUT_S`: an answer of a few kB that is slow but coming still arrives."""


@dataclass(slots=True)
class _Exchange:
    # The deadline of the request in flight, and whether it is the token request.
    deadline: asyncio.Timeout
    token: bool = False


_exchange: ContextVar[_Exchange] = ContextVar("casewatch_exchange")
# The exchange the current task is making (CaseStatusClient.get_case_status).

KEEPALIVE_S = 2.0
"""Seconds an idle connection is kept: well under common server keep-alive timeouts
(uvicorn's is 5 s), so a request never goes out on a connection the server is closing."""


def _retryable(error: Exception) -> bool:
    # Each error type says whether a later try can cure it (USCISError.retryable).
    return isinstance(error, USCISError) and error.retryable


def _asks_case_status(request: httpx.Request) -> bool:
    # A case-status request (counted against the quota), not the token request.
    return request.url.path.startswith("/case-status/")


@dataclass(frozen=True, slots=True)
class TokenProbe:
    """One token request's outcome (``casewatch diagnose --probe``): its HTTP status,
    ``latency_s`` from send to the last byte (seconds), and ``clock_offset_s``, how far
    the server's ``Date`` header is ahead of this machine's clock (seconds, to within a
    second: the header counts whole seconds), None when it sent none."""

    status: int
    latency_s: float
    clock_offset_s: float | None


class CaseStatusClient:
    """Asks ``GET {api_url}/case-status/{receiptNumber}`` through a :class:`RateLimiter`.

    ``host_url`` is the environment's origin (``https://api.uscis.gov``, or the built-in
    sandbox); the token comes from ``{host_url}/oauth/accesstoken``. ``transport`` lets
    the built-in sandbox run in-process (:class:`casewatch.sandbox.InProcessTransport`).
    ``traffic_log`` counts each case-status response (the USCIS sandbox's readiness
    log); ``sandbox_hours`` adds to a 503 when the USCIS sandbox opens again. ``clock``
    gives Unix time in seconds (token expiry, sandbox hours). ``deadline_s`` bounds each
    request, its body included, in seconds (:data:`REQUEST_DEADLINE_S` when None). Use as
    an async context manager, or call :meth:`aclose`.
    """

    def __init__(
        self,
        *,
        host_url: str,
        credentials: Credentials,
        limiter: RateLimiter,
        transport: httpx.AsyncBaseTransport | None = None,
        traffic_log: TrafficLog | None = None,
        sandbox_hours: bool = False,
        clock: Callable[[], float] = time.time,
        deadline_s: float | None = None,
    ) -> None:
        self.limiter = limiter
        self.deadline_s = REQUEST_DEADLINE_S if deadline_s is None else deadline_s
        self._token_silent_until = 0.0  # event loop time
        # httpx's own transport, over httpcore, calls the trace extension just before
        # and after it writes the request; others claim the send before they get it.
        self._claim_at_write = transport is None
        self.traffic_log = traffic_log
        self.sandbox_hours = sandbox_hours
        self._clock = clock
        self.auth = ClientCredentialsAuth(
            f"{host_url}/oauth/accesstoken",
            credentials,
            wait_to_send=self._take_send_slot,
            clock=clock,
            timeout_s=TIMEOUT_S,
        )
        self._http = httpx.AsyncClient(
            base_url=host_url,
            auth=self.auth,
            transport=transport,
            timeout=TIMEOUT_S,
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_S),
            headers={"Accept": "application/json", "Accept-Encoding": ACCEPTED_ENCODINGS},
            event_hooks={
                "request": [self._claim_send],
                "response": [self._bound_body, self._log_response],
            },
        )

    async def _take_send_slot(self, request: httpx.Request) -> None:
        # The auth flow waits here for each try's send slot, then chooses its token: a
        # token never ages in the queue (ClientCredentialsAuth). The wait is no part of
        # any request's deadline: a token request's has ended, the next starts at its send.
        if (exchange := _exchange.get(None)) is not None:
            exchange.deadline.reschedule(None)
        if _asks_case_status(request):
            await self.limiter.take_slot()

    async def _claim_send(self, request: httpx.Request) -> None:
        # An httpx request hook runs after the auth flow, right before the request goes
        # out: the spacing holds however long a token request made this one wait. Over
        # the network, the send is claimed later still, by httpcore's trace callback
        # just before the request line is written; other transports claim it here. Any
        # transport that traces its write as httpcore does (the in-process sandbox's
        # casewatch.sandbox.InProcessTransport) has it marked written.
        token = not _asks_case_status(request)
        if token and asyncio.get_running_loop().time() < self._token_silent_until:
            # A token URL silent for a whole deadline is not asked again by the requests
            # that waited for its token meanwhile: each would wait as long.
            raise self._token_unanswered()
        self._start_deadline(token=token)
        if token:
            return
        request.extensions["trace"] = self._trace
        if not self._claim_at_write:
            await self.limiter.claim_send()
            self._start_deadline(token=False)

    async def _trace(self, event: str, info: dict[str, object]) -> None:
        if event.endswith(".send_request_headers.started") and self._claim_at_write:
            await self.limiter.claim_send()
            self._start_deadline(token=False)
        elif event.endswith(".send_request_headers.complete"):
            # httpcore reports its write late (WRITE_ALLOWANCE_S); a transport that
            # claims at the hook reports it as it happens.
            self.limiter.mark_written(WRITE_ALLOWANCE_S if self._claim_at_write else 0.0)

    def _start_deadline(self, *, token: bool) -> None:
        # The current request's deadline starts now: at its send, and again once its
        # send is claimed (the wait for the spacing after other processes' sends is no
        # part of it).
        if (exchange := _exchange.get(None)) is not None:
            exchange.deadline.reschedule(asyncio.get_running_loop().time() + self.deadline_s)
            exchange.token = token

    async def _bound_body(self, response: httpx.Response) -> None:
        # Every body is read with a bound, the token's and an error's too (issue 11,
        # point 5): casewatch.uscis.bodies.
        bound_body(response, token=not _asks_case_status(response.request))

    async def _log_response(self, response: httpx.Response) -> None:
        if self.traffic_log is None or not _asks_case_status(response.request):
            return
        # The readiness log counts what it can; the request itself went well.
        with contextlib.suppress(OSError, filelock.Timeout):
            await asyncio.to_thread(self.traffic_log.record, response.status_code)

    async def _hold_as_asked(self, response: httpx.Response) -> None:
        # USCIS's word on when to come back holds every process sharing the ledger; the
        # retry then waits for its send slot, which comes after the hold.
        value = response.headers.get("retry-after")
        if response.status_code not in HOLDING_STATUSES or value is None:
            return
        seconds = parse_retry_after(
            value, now=self._clock(), server_date=response.headers.get("date")
        )
        if seconds:
            await asyncio.to_thread(self.limiter.hold, seconds)

    def _token_unanswered(self) -> TokenUnanswered:
        return TokenUnanswered(
            f"the token URL gave no complete answer within {self.deadline_s:g} s"
        )

    def _explain(self, error: USCISError) -> USCISError:
        if isinstance(error, SpikeArrest):
            self.limiter.record_spike_arrest()
        now = datetime.fromtimestamp(self._clock(), US_EASTERN)
        if isinstance(error, ServiceUnavailable) and self.sandbox_hours and not sandbox_open(now):
            opens = next_sandbox_opening(now)
            return ServiceUnavailable(
                f"{error.message} (The USCIS sandbox is open Monday to Friday, 07:00-20:00 "
                f"US Eastern; it opens again {opens:%A %H:%M} ET.)",
                status=error.status,
                code=error.code,
            )
        return error

    async def probe_token(self) -> TokenProbe:
        """Ask the token URL once for a token, to see whether it answers, how fast, and
        whether the clocks agree. Counts no request against the quota; the token is not
        kept. Raises :class:`DeadlineExceeded` past :attr:`deadline_s` seconds,
        :class:`NetworkError` when the host cannot be reached, and the typed errors of
        :mod:`casewatch.uscis.bodies` for an oversized answer."""
        sent_at = self._clock()
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self.deadline_s):
                response = await self._http.send(self.auth.token_request(), auth=None)
        except TimeoutError:
            raise DeadlineExceeded(f"no complete answer within {self.deadline_s:g} s") from None
        except httpx.TransportError as exc:
            raise NetworkError(type(exc).__name__) from None
        latency = time.perf_counter() - started
        offset = None
        with contextlib.suppress(TypeError, ValueError, IndexError):
            server = email.utils.parsedate_to_datetime(response.headers.get("date", ""))
            offset = server.timestamp() - (sent_at + latency / 2)
        return TokenProbe(response.status_code, latency, offset)

    async def __aenter__(self) -> CaseStatusClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    @stamina.retry(on=_retryable, attempts=RETRY_ATTEMPTS, wait_initial=0.2, wait_max=5.0)
    async def get_case_status(self, receipt: ReceiptNumber) -> CaseStatus:
        """The current status of ``receipt``, as USCIS reports it.

        Each try waits for a send slot and counts against the daily quota. Spike arrest,
        5xx, a network failure or a 200 whose body is not JSON are tried again
        (:data:`RETRY_ATTEMPTS` tries in all, exponential backoff with jitter, by stamina);
        a 429 or 503 with ``Retry-After`` holds the next try, and every other request
        sharing the ledger, at least that long (:meth:`RateLimiter.hold`), and a spike
        arrest widens the shared spacing margin (:meth:`RateLimiter.record_spike_arrest`).
        Raises a :class:`~casewatch.uscis.errors.USCISError` subclass carrying USCIS's
        message: :class:`~casewatch.uscis.errors.ReceiptNotRecognized` for a 404 that
        USCIS sent, :class:`~casewatch.uscis.errors.QuotaExhausted` when the quota is
        spent, :class:`~casewatch.uscis.errors.UnexpectedAnswer` for an answer that is not
        the case status of ``receipt`` (see
        :func:`~casewatch.uscis.answers.case_status_from_answer`),
        :class:`~casewatch.uscis.errors.DeadlineExceeded` (not retried) when the
        case-status request has no complete answer within :attr:`deadline_s` seconds of
        its send, :class:`~casewatch.uscis.errors.TokenUnanswered` when the token
        request has none, ...
        """
        try:
            async with asyncio.timeout(None) as deadline:
                exchange = _Exchange(deadline)
                held = _exchange.set(exchange)
                try:
                    response = await self._http.get(f"/case-status/{receipt.value}")
                finally:
                    _exchange.reset(held)
        except TimeoutError:
            if exchange.token:
                self._token_silent_until = asyncio.get_running_loop().time() + self.deadline_s
                raise self._token_unanswered() from None
            raise DeadlineExceeded(f"no complete answer within {self.deadline_s:g} s") from None
        except httpx.TransportError as exc:
            raise NetworkError(type(exc).__name__) from None
        except USCISError as exc:  # from the token URL
            raise self._explain(exc) from None
        if response.status_code != 200:
            await self._hold_as_asked(response)
            raise self._explain(error_from_response(response.status_code, response.content))
        return case_status_from_answer(receipt, response.content)
