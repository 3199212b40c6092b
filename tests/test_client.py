"""Integration tests of CaseStatusClient against the built-in sandbox.

Most tests talk to the sandbox through uvicorn on a free loopback port (real sockets, a
real connection pool); a few use ``httpx.ASGITransport`` where the test must reach into
the sandbox's state. Nothing here measures wall-clock time: the tests assert on what the
sandbox counted (``GET /__sandbox/stats``) and on the client's own state, and where time
matters the sandbox and the client get injected clocks. Retry back-offs are switched off
with ``stamina.set_testing`` where a test provokes retries.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import pytest
import stamina
from starlette.applications import Starlette

from casewatch.cases import US_EASTERN, CaseStatus
from casewatch.receipts import ReceiptNumber, parse_receipt_number
from casewatch.refresh import Refresher
from casewatch.sandbox import (
    STAGING_RECEIPTS,
    STAGING_RECEIPTS_WITH_HISTORY,
    UNAVAILABLE_BODY,
    InProcessTransport,
    SandboxConfig,
    create_app,
    running_server,
)
from casewatch.sandbox.responses import INVALID_TOKEN, MALFORMED_RECEIPT, UNKNOWN_RECEIPT
from casewatch.uscis.auth import Credentials, Secret
from casewatch.uscis.client import RETRY_ATTEMPTS, CaseStatusClient
from casewatch.uscis.errors import (
    AuthenticationError,
    MalformedReceipt,
    NetworkError,
    QuotaExhausted,
    ReceiptNotRecognized,
    ServiceUnavailable,
)
from casewatch.uscis.limits import LOOPBACK_MARGIN_S, RateLimiter
from casewatch.watchlist import Watchlist
from conftest import Answer, FakeTime, case_status_answer, scripted_uscis

CLIENT_ID = "casewatch-test"
CLIENT_SECRET = "casewatch-test-secret-7f3a"
IN_PROCESS_URL = "http://sandbox.invalid"
UNLIMITED_TPS = 1_000_000.0
"""Sandbox rate for tests that are not about spike arrest: no jitter can trip it."""


def sandbox_config(**overrides: Any) -> SandboxConfig:
    """A latency-free sandbox with the test credentials; ``overrides`` go to SandboxConfig."""
    settings: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "latency_ms": (0.0, 0.0),
        "tps": UNLIMITED_TPS,
        "seed": 1,
    }
    settings.update(overrides)
    return SandboxConfig(**settings)


def make_client(
    host_url: str,
    tmp_path: Path,
    *,
    tps: float = 1000.0,
    daily_quota: int = 10_000,
    secret: str = CLIENT_SECRET,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], float] = time.time,
    sandbox_hours: bool = False,
) -> CaseStatusClient:
    """A client with its own limiter state file under ``tmp_path``."""
    limiter = RateLimiter(tmp_path / "limits.json", tps=tps, daily_quota=daily_quota)
    return CaseStatusClient(
        host_url=host_url,
        credentials=Credentials(CLIENT_ID, Secret(secret)),
        limiter=limiter,
        transport=transport,
        clock=clock,
        sandbox_hours=sandbox_hours,
    )


async def sandbox_stats(
    host_url: str, transport: httpx.AsyncBaseTransport | None = None
) -> dict[str, Any]:
    """What the sandbox has seen so far (``GET /__sandbox/stats``)."""
    async with httpx.AsyncClient(base_url=host_url, transport=transport) as http:
        response = await http.get("/__sandbox/stats")
    response.raise_for_status()
    stats: dict[str, Any] = response.json()
    return stats


def receipt(text: str) -> ReceiptNumber:
    return parse_receipt_number(text)


class SkewedClock:
    """The real clock plus an offset the test moves forward, shared by several parties."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


class SteppingClock:
    """A clock that moves ``step`` seconds forward every time it is read.

    The sandbox reads its clock once per token request and once per case-status request,
    so its decisions depend on the order of requests only, never on how fast they come.
    """

    def __init__(self, step: float, start: float | None = None) -> None:
        self._start = time.time() if start is None else start
        self._step = step
        self._reads = itertools.count()
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._start + next(self._reads) * self._step


class CountingTransport(httpx.AsyncBaseTransport):
    """Records the path of every request handed to the network, sent or not."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner if inner is not None else httpx.AsyncHTTPTransport()
        self.paths: list[str] = []

    def count(self, prefix: str) -> int:
        return sum(path.startswith(prefix) for path in self.paths)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def no_backoff() -> Iterator[None]:
    """Retries without waiting (stamina's test mode), restored afterwards."""
    with stamina.set_testing(True, attempts=RETRY_ATTEMPTS):
        yield
    assert not stamina.is_testing()


@contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound for the test, never listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


# 1. Many receipts at the sandbox's own rate ------------------------------------------


async def test_all_staging_receipts_concurrently_at_the_sandbox_rate(
    tmp_path: Path, no_backoff: None
) -> None:
    # Both sides at 50 TPS. Whether the sandbox counts zero spike arrests here depends on
    # how late each request reaches it: measured arrival jitter on this loopback (server
    # thread and client in one process) is 2-5 ms, above the limiter's 2 ms margin, so
    # this test does not require zero arrests; it requires that every arrest was retried
    # and counted. Zero arrests is checked deterministically in the next test.
    with running_server(sandbox_config(tps=50.0)) as url:
        async with make_client(url, tmp_path, tps=50.0) as client:
            receipts = [receipt(text) for text in STAGING_RECEIPTS]
            results = await asyncio.gather(*(client.get_case_status(r) for r in receipts))
            stats = await sandbox_stats(url)
            usage = client.limiter.usage()
            tokens_fetched = client.auth.tokens_fetched

    assert [case.receipt_number for case in results] == list(STAGING_RECEIPTS)
    for case in results:
        assert isinstance(case, CaseStatus)
        assert case.title_en and case.form_type and case.description_en
        assert bool(case.history) == (case.receipt_number in STAGING_RECEIPTS_WITH_HISTORY)
    approved = results[STAGING_RECEIPTS.index("EAC9999103403")]
    assert (approved.form_type, approved.title_en) == ("I-130", "Case Was Approved")

    assert tokens_fetched == 1
    assert stats["tokens_issued"] == 1
    assert stats["by_status"].get("200") == 50
    assert set(stats["by_status"]) <= {"200", "429"}
    assert stats["spike_arrests"] == stats["requests"] - 50  # every 429 was an arrest, retried
    assert stats["max_requests_per_second"] <= 50
    assert usage.used == stats["requests"]  # every try that was sent was counted


async def test_a_late_wake_up_never_lets_two_requests_out_together(tmp_path: Path) -> None:
    # In-process (no network jitter), client at 2 TPS (502 ms apart), sandbox at 3 TPS
    # (333 ms): 169 ms of slack, so only a real burst can be arrested. The first request
    # that has to wait for its slot wakes up 750 ms late, as on a busy event loop; two
    # others then wait for the same moment, and only one of them may go out at it.
    sleeping = asyncio.Event()
    calls: list[float] = []

    async def late_once(seconds: float) -> None:
        extra = 0.75 if not calls else 0.0
        calls.append(seconds)
        sleeping.set()
        await asyncio.sleep(seconds + extra)

    limiter = RateLimiter(tmp_path / "limits.json", tps=2.0, daily_quota=100, sleep=late_once)
    app = create_app(sandbox_config(tps=3.0))
    transport = httpx.ASGITransport(app=app)
    async with CaseStatusClient(
        host_url=IN_PROCESS_URL,
        credentials=Credentials(CLIENT_ID, Secret(CLIENT_SECRET)),
        limiter=limiter,
        transport=transport,
    ) as client:
        await client.get_case_status(receipt(STAGING_RECEIPTS[0]))
        tasks: list[asyncio.Task[CaseStatus]] = []
        for text in STAGING_RECEIPTS[1:4]:  # each one reserves its slot, then waits for it
            sleeping.clear()
            task = asyncio.create_task(client.get_case_status(receipt(text)))
            waiting = asyncio.create_task(sleeping.wait())
            await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            tasks.append(task)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        stats = await sandbox_stats(IN_PROCESS_URL, transport)

    assert stats["spike_arrests"] == 0
    assert all(isinstance(result, CaseStatus) for result in results)


class PausedBeforeTheWrite(InProcessTransport):
    """The in-process sandbox on ``clock``, with the client's process paused for
    ``pause_s`` seconds between the claim of the first case-status send and its write,
    as the operating system pauses it for other processes on a busy machine."""

    def __init__(self, app: Starlette, *, clock: FakeTime, pause_s: float) -> None:
        super().__init__(app, clock=clock)
        self.clock = clock
        self.pause_s = pause_s

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.pause_s and request.url.path.startswith("/case-status/"):
            self.clock.now += self.pause_s
            self.pause_s = 0.0
        return await super().handle_async_request(request)


async def test_a_send_paused_before_its_write_spaces_the_next_from_the_write(
    tmp_path: Path, no_backoff: None
) -> None:
    # Both sides at production's 10 TPS, the client with the loopback margin (0.5 ms),
    # on one clock that only the client's waits and the pause move. The first request
    # is written 5 ms after its send was claimed; the sandbox judges arrivals at the
    # write, so the next send must be spaced from the write, not from the claim (100.5
    # ms after the claim would arrive 95.5 ms after the first).
    clock = FakeTime(datetime(2026, 11, 30, 10, 0, tzinfo=US_EASTERN).timestamp())
    app = create_app(sandbox_config(tps=10.0, clock=clock))
    limiter = RateLimiter(
        tmp_path / "limits.json",
        tps=10.0,
        daily_quota=100,
        initial_margin_s=LOOPBACK_MARGIN_S,
        clock=clock,
        sleep=clock.sleep,
    )
    transport = PausedBeforeTheWrite(app, clock=clock, pause_s=0.005)
    async with CaseStatusClient(
        host_url=IN_PROCESS_URL,
        credentials=Credentials(CLIENT_ID, Secret(CLIENT_SECRET)),
        limiter=limiter,
        transport=transport,
        clock=clock,
    ) as client:
        results = [await client.get_case_status(receipt(text)) for text in STAGING_RECEIPTS[:3]]
        stats = await sandbox_stats(IN_PROCESS_URL, transport)

    assert transport.pause_s == 0.0  # the pause happened
    assert [case.receipt_number for case in results] == list(STAGING_RECEIPTS[:3])
    assert stats["spike_arrests"] == 0
    assert limiter.usage().used == 3  # no quota spent on a retry


# 2. Token renewal ---------------------------------------------------------------------


async def test_token_is_renewed_shortly_before_expiry_never_per_request(
    tmp_path: Path,
) -> None:
    # The client and the sandbox share one clock that the test moves forward by whole
    # minutes at once, instead of sleeping through a token's life.
    clock = SkewedClock()
    # Default lifetime: 1800 s; expires_in "1799"; renewal min(60, 179.9) = 60 s early.
    with running_server(sandbox_config(clock=clock)) as url:
        async with make_client(url, tmp_path, clock=clock) as client:
            first = receipt("EAC9999103403")
            for _ in range(3):
                await client.get_case_status(first)
            assert client.auth.tokens_fetched == 1

            clock.offset = 1700.0  # 39 s before renewal is due: the token is still used
            await asyncio.gather(*(client.get_case_status(first) for _ in range(3)))
            assert client.auth.tokens_fetched == 1
            assert (await sandbox_stats(url))["tokens_issued"] == 1

            clock.offset = 1745.0  # inside the last minute: one renewal, shared by all
            await asyncio.gather(*(client.get_case_status(first) for _ in range(5)))
            assert client.auth.tokens_fetched == 2

            clock.offset = 1790.0  # the new token is fresh: no further token request
            for _ in range(3):
                await client.get_case_status(first)
            stats = await sandbox_stats(url)
            tokens_fetched = client.auth.tokens_fetched

    assert tokens_fetched == 2
    assert stats["tokens_issued"] == 2
    # Renewed before the sandbox expired the first token: no request was ever refused.
    assert stats["by_status"] == {"200": 14}


async def test_a_client_clock_ahead_of_uscis_does_not_fetch_a_token_per_request(
    tmp_path: Path,
) -> None:
    # The sandbox's clock is an hour behind this machine's (a PC clock set an hour ahead).
    # Its tokens are valid for 30 minutes from when it issued them, by its own clock.
    app = create_app(sandbox_config(clock=lambda: time.time() - 3600))
    transport = httpx.ASGITransport(app=app)
    async with make_client(IN_PROCESS_URL, tmp_path, transport=transport) as client:
        for _ in range(5):
            await client.get_case_status(receipt("EAC9999103403"))
        tokens_fetched = client.auth.tokens_fetched

    assert tokens_fetched == 1


async def test_five_second_tokens_at_five_requests_a_second_never_expire_in_the_queue(
    tmp_path: Path,
) -> None:
    # issue 10, point 4: tokens that live 5 s (expires_in "4"), 80 cases through the
    # refresher at 5 requests per second, 10 workers: each request waits up to 2 s for its
    # send slot. The token is chosen after that wait, so the sandbox, which checks the
    # token on arrival, never answers 401.
    watchlist = Watchlist(tmp_path / "watchlist.toml")
    added_at = datetime.now(US_EASTERN)
    for serial in range(1, 81):
        watchlist.add(receipt(f"EAC{2612000000 + serial:010d}"), added_at=added_at)
    with running_server(sandbox_config(token_lifetime_s=5, synthetic=True)) as url:
        async with make_client(url, tmp_path, tps=5.0) as client:
            progress = await Refresher(client, watchlist).refresh()
            stats = await sandbox_stats(url)
            tokens_fetched = client.auth.tokens_fetched

    assert (progress.done, progress.failed, progress.stopped_by) == (80, 0, None)
    assert all(case.status is not None for case in watchlist.cases.values())
    assert stats["by_status"] == {"200": 80}  # not one 401
    assert stats["tokens_issued"] == tokens_fetched
    print(f"tokens fetched for 80 requests in 16 s: {tokens_fetched}")


# 3. A token the server no longer knows ------------------------------------------------


async def test_token_expired_on_the_server_gets_one_retry_with_a_new_token(
    tmp_path: Path,
) -> None:
    # Only the sandbox's clock jumps: the client believes its token is fresh, the sandbox
    # has expired it (a skewed clock, or a token revoked early).
    server_clock = SkewedClock()
    with running_server(sandbox_config(clock=server_clock)) as url:
        async with make_client(url, tmp_path) as client:
            first = await client.get_case_status(receipt("EAC9999103403"))
            server_clock.offset = 1800.0
            second = await client.get_case_status(receipt("EAC9999103402"))
            third = await client.get_case_status(receipt("LIN9999106498"))
            stats = await sandbox_stats(url)
            tokens_fetched = client.auth.tokens_fetched
            used = client.limiter.usage().used

    assert [first.receipt_number, second.receipt_number, third.receipt_number] == [
        "EAC9999103403",
        "EAC9999103402",
        "LIN9999106498",
    ]
    assert second.title_en == "Case Approval Was Affirmed"
    assert tokens_fetched == 2
    assert stats["tokens_issued"] == 2
    assert stats["by_status"] == {"200": 3, "401": 1}
    assert used == 4  # the refused try was sent, so it counts against the quota


async def test_sandbox_restart_forgets_tokens_concurrent_requests_share_one_new_token(
    tmp_path: Path,
) -> None:
    app = create_app(sandbox_config())
    transport = httpx.ASGITransport(app=app)
    async with make_client(IN_PROCESS_URL, tmp_path, transport=transport) as client:
        await client.get_case_status(receipt("EAC9999103403"))
        app.state.sandbox.tokens.clear()  # what a restarted server remembers
        receipts = [receipt(text) for text in STAGING_RECEIPTS[:5]]
        results = await asyncio.gather(*(client.get_case_status(r) for r in receipts))
        stats = await sandbox_stats(IN_PROCESS_URL, transport)
        tokens_fetched = client.auth.tokens_fetched

    assert [case.receipt_number for case in results] == list(STAGING_RECEIPTS[:5])
    assert tokens_fetched == 2
    assert stats["tokens_issued"] == 2
    refused = stats["by_status"].get("401", 0)
    assert 1 <= refused <= 5  # each request was refused at most once
    assert stats["by_status"]["200"] == 6


async def test_a_second_401_with_a_fresh_token_is_an_error_without_a_retry_storm(
    tmp_path: Path, no_backoff: None
) -> None:
    # Every read of the sandbox's clock jumps 2,000 s and tokens live 1,800 s: each
    # token is dead on arrival, while the client's clock says it is fresh.
    config = sandbox_config(token_lifetime_s=1800, clock=SteppingClock(2000.0))
    app = create_app(config)
    transport = httpx.ASGITransport(app=app)
    async with make_client(IN_PROCESS_URL, tmp_path, transport=transport) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.get_case_status(receipt("EAC9999103403"))
        stats = await sandbox_stats(IN_PROCESS_URL, transport)

    assert caught.value.status == 401
    assert INVALID_TOKEN in caught.value.message
    assert stats["tokens_issued"] == 2  # the first token, and one renewal after the 401
    assert stats["by_status"] == {"401": 2}  # AuthenticationError is not retried


async def test_a_token_is_chosen_after_the_wait_for_the_send_slot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tokens live 20 s. The client and the sandbox share a clock; every wait for a send
    # slot ends 30 s later than it began (a long queue, a busy machine), so a token
    # attached before the wait would arrive expired. It is chosen after the wait: each
    # request goes out with a token renewed after its wait, and none is refused.
    clock = SkewedClock()
    app = create_app(sandbox_config(token_lifetime_s=20, clock=clock))
    transport = httpx.ASGITransport(app=app)
    async with make_client(IN_PROCESS_URL, tmp_path, transport=transport, clock=clock) as client:
        take_slot = client.limiter.take_slot

        async def long_wait() -> None:
            await take_slot()
            clock.offset += 30.0

        monkeypatch.setattr(client.limiter, "take_slot", long_wait)
        answers = [await client.get_case_status(receipt(text)) for text in STAGING_RECEIPTS[:3]]
        stats = await sandbox_stats(IN_PROCESS_URL, transport)

    assert [answer.receipt_number for answer in answers] == list(STAGING_RECEIPTS[:3])
    assert stats["by_status"] == {"200": 3}
    # The first token is fetched before the first wait (refused credentials would spend
    # no slot), then each request's wait outlives the token it started with.
    assert stats["tokens_issued"] == 4


# 4. Wrong credentials ------------------------------------------------------------------


async def test_wrong_credentials_raise_authentication_error_once_and_hide_the_secret(
    tmp_path: Path,
) -> None:
    wrong_secret = "wrong-secret-do-not-print-91c2"
    counting = CountingTransport()
    with running_server(sandbox_config()) as url:
        async with make_client(url, tmp_path, secret=wrong_secret, transport=counting) as client:
            with pytest.raises(AuthenticationError) as caught:
                await client.get_case_status(receipt("EAC9999103403"))
            stats = await sandbox_stats(url)
            texts = [repr(client.auth), repr(vars(client.auth))]
            tokens_fetched = client.auth.tokens_fetched
            used = client.limiter.usage().used

    error = caught.value
    assert error.status == 401
    assert error.code == "invalid_client"
    assert error.message == "Invalid client identifier"
    assert "Invalid client identifier" in str(error)
    assert counting.count("/oauth/accesstoken") == 1  # no retry storm
    assert counting.count("/case-status/") == 0
    assert stats["tokens_issued"] == 0
    assert stats["requests"] == 0
    assert tokens_fetched == 0
    assert used == 0  # nothing was sent, nothing counted

    credentials = Credentials(CLIENT_ID, Secret(wrong_secret))
    texts += [
        str(error),
        repr(error),
        repr(error.args),
        error.message,
        "".join(traceback.format_exception(error)),
        repr(credentials),
        str(credentials),
        str(credentials.client_secret),
    ]
    for text in texts:
        assert wrong_secret not in text
        assert CLIENT_SECRET not in text


# 5. Receipts USCIS does not know, or calls malformed -----------------------------------


async def test_unknown_receipt_is_not_recognized_with_uscis_message(tmp_path: Path) -> None:
    with running_server(sandbox_config()) as url:
        async with make_client(url, tmp_path) as client:
            with pytest.raises(ReceiptNotRecognized) as unknown:
                await client.get_case_status(receipt("EAC9999100001"))
            # Valid locally (the older masked form), well-formed for USCIS, but not a
            # staging receipt: the sandbox answers 404, not 422.
            masked = receipt("EAC*999103403")
            assert masked.masked
            with pytest.raises(ReceiptNotRecognized) as unknown_masked:
                await client.get_case_status(masked)
            stats = await sandbox_stats(url)

    for error in (unknown.value, unknown_masked.value):
        assert error.status == 404
        assert error.code == "404"
        assert error.message == UNKNOWN_RECEIPT
        assert "does not recognize the receipt number" in str(error)
    assert stats["by_status"] == {"404": 2}  # a 404 is not retried
    assert stats["requests"] == 2


async def test_receipt_the_server_calls_malformed_is_malformed_receipt(tmp_path: Path) -> None:
    # parse_receipt_number would refuse this (12 characters), so it never reaches USCIS in
    # the product; built directly, it checks how the client maps USCIS's own 422.
    malformed = ReceiptNumber("EAC999910340")
    with running_server(sandbox_config()) as url:
        async with make_client(url, tmp_path) as client:
            with pytest.raises(MalformedReceipt) as caught:
                await client.get_case_status(malformed)
            stats = await sandbox_stats(url)

    assert caught.value.status == 422
    assert caught.value.message == MALFORMED_RECEIPT
    assert not isinstance(caught.value, ReceiptNotRecognized)
    assert stats["by_status"] == {"422": 1}


# 6. The daily quota, counted on either side ---------------------------------------------


async def test_local_quota_stops_the_sixth_call_before_it_is_sent(tmp_path: Path) -> None:
    with running_server(sandbox_config(daily_quota=1000)) as url:
        async with make_client(url, tmp_path, daily_quota=5) as client:
            for text in STAGING_RECEIPTS[:5]:
                await client.get_case_status(receipt(text))
            with pytest.raises(QuotaExhausted) as caught:
                await client.get_case_status(receipt(STAGING_RECEIPTS[5]))
            stats = await sandbox_stats(url)
            usage = client.limiter.usage()

    assert "5 of 5 requests used" in caught.value.message
    assert caught.value.status is None  # the local ledger said so, not USCIS
    assert stats["requests"] == 5
    assert stats["by_status"] == {"200": 5}
    assert (usage.used, usage.remaining) == (5, 0)


async def test_quota_exhausted_at_uscis_carries_its_message_and_is_not_retried(
    tmp_path: Path,
) -> None:
    with running_server(sandbox_config(daily_quota=3)) as url:
        async with make_client(url, tmp_path, daily_quota=10_000) as client:
            for text in STAGING_RECEIPTS[:3]:
                await client.get_case_status(receipt(text))
            with pytest.raises(QuotaExhausted) as caught:
                await client.get_case_status(receipt(STAGING_RECEIPTS[3]))
            stats = await sandbox_stats(url)
            used = client.limiter.usage().used

    error = caught.value
    assert error.status == 429
    assert error.message.startswith("Quota Exceeded.")
    assert "daily quota of 3 requests" in error.message
    assert stats["requests"] == 4  # one 429, no retry
    assert stats["by_status"] == {"200": 3, "429": 1}
    assert stats["spike_arrests"] == 0
    assert used == 4


# 7. Spike arrest ----------------------------------------------------------------------


async def test_spike_arrests_are_retried_and_every_answer_arrives(
    tmp_path: Path, no_backoff: None
) -> None:
    # Client at 1,000 TPS, sandbox at 5 TPS (one request per 200 ms). The sandbox's clock
    # moves 100 ms per read, so whatever the machine's speed, a try that follows an
    # accepted one is arrested and the next try is accepted.
    config = sandbox_config(tps=5.0, clock=SteppingClock(0.1))
    receipts = [receipt(text) for text in STAGING_RECEIPTS[:6]]
    with running_server(config) as url:
        async with make_client(url, tmp_path, tps=1000.0) as client:
            results = [await client.get_case_status(r) for r in receipts]
            stats = await sandbox_stats(url)
            used = client.limiter.usage().used

    assert [case.receipt_number for case in results] == [r.value for r in receipts]
    assert all(case.title_en for case in results)
    # The first receipt went through; each later one was arrested once, then accepted.
    assert stats["spike_arrests"] == len(receipts) - 1
    assert stats["by_status"] == {"200": len(receipts), "429": len(receipts) - 1}
    assert used == stats["requests"] == 2 * len(receipts) - 1


APIGEE_SPIKE_ARREST = (
    b'{"fault":{"faultstring":"Spike arrest violation. Allowed rate : 10ps",'
    b'"detail":{"errorcode":"policies.ratelimit.SpikeArrestViolation"}}}'
)


async def test_a_429_with_retry_after_holds_the_retry_at_least_that_long(
    tmp_path: Path, no_backoff: None
) -> None:
    # stamina's own backoff is off: only USCIS's Retry-After can hold the retry.
    target = "EAC9999103403"
    arrest = Answer(429, APIGEE_SPIKE_ARREST, headers=(("Retry-After", "2"),))
    with scripted_uscis({target: [arrest, case_status_answer(target)]}) as uscis:
        async with make_client(uscis.url, tmp_path) as client:
            status = await client.get_case_status(receipt(target))
    assert status.receipt_number == target
    assert len(uscis.arrivals) == 2
    assert uscis.arrivals[1] - uscis.arrivals[0] >= 1.9


async def test_a_503_with_an_http_date_holds_every_process_sharing_the_ledger(
    tmp_path: Path,
) -> None:
    # Retry-After as an HTTP date, at least 2 s ahead (whole seconds); the server sends
    # the Date it is measured from.
    first, second = "EAC9999103403", "EAC9999103404"
    until = formatdate(int(time.time()) + 3, usegmt=True)
    outage = Answer(503, UNAVAILABLE_BODY, headers=(("Retry-After", until),))
    with scripted_uscis({first: outage, second: case_status_answer(second)}) as uscis:
        async with (
            make_client(uscis.url, tmp_path) as client,
            make_client(uscis.url, tmp_path) as other,
        ):
            with stamina.set_testing(True, attempts=1), pytest.raises(ServiceUnavailable):
                await client.get_case_status(receipt(first))
            held = other.limiter.usage().held_until
            # Another process on the same ledger waits for the hold too.
            status = await other.get_case_status(receipt(second))
    assert held is not None
    assert held.timestamp() >= uscis.arrivals[0] + 1.9
    assert status.receipt_number == second
    assert uscis.arrivals[1] - uscis.arrivals[0] >= 1.9


# 8. No server at all -----------------------------------------------------------------


async def test_closed_port_is_a_network_error_after_the_retries(
    tmp_path: Path, no_backoff: None
) -> None:
    with closed_port() as port:
        counting = CountingTransport()
        async with make_client(f"http://127.0.0.1:{port}", tmp_path, transport=counting) as client:
            with pytest.raises(NetworkError) as caught:
                await client.get_case_status(receipt("EAC9999103403"))
            tokens_fetched = client.auth.tokens_fetched
            used = client.limiter.usage().used

    assert caught.value.retryable
    assert caught.value.status is None
    assert "ConnectError" in caught.value.message
    # Every try stopped at the token request; no case-status request was counted.
    assert counting.paths == ["/oauth/accesstoken"] * RETRY_ATTEMPTS
    assert tokens_fetched == 0
    assert used == 0


# 9. In-process and loopback give the same answer ---------------------------------------


async def test_in_process_transport_gives_the_same_case_as_the_loopback_server(
    tmp_path: Path,
) -> None:
    target = receipt("EAC9999103403")
    config = sandbox_config()
    with running_server(config) as url:
        async with make_client(url, tmp_path / "loopback") as client:
            over_loopback = await client.get_case_status(target)
        async with httpx.AsyncClient(base_url=url) as http:
            raw_loopback = await raw_case(http, target)

    transport = InProcessTransport(create_app(config))
    async with make_client(IN_PROCESS_URL, tmp_path / "in-process", transport=transport) as client:
        in_process = await client.get_case_status(target)
    async with httpx.AsyncClient(base_url=IN_PROCESS_URL, transport=transport) as http:
        raw_in_process = await raw_case(http, target)

    assert in_process == over_loopback
    assert in_process.receipt_number == "EAC9999103403"
    assert in_process.history
    assert raw_in_process == raw_loopback


async def raw_case(http: httpx.AsyncClient, target: ReceiptNumber) -> Any:
    """The decoded 200 body for ``target``, fetched with a token of its own."""
    token = await http.post(
        "/oauth/accesstoken",
        data={
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    response = await http.get(f"/case-status/{target.value}", headers=headers)
    assert response.status_code == 200
    return response.json()


# Refused credentials, token URL failures, sandbox hours ---------------------------------


async def test_refused_credentials_are_asked_once_however_many_requests_wait(
    tmp_path: Path,
) -> None:
    token_requests = 0
    app = create_app(sandbox_config())

    async def counting(scope: Any, receive: Any, send: Any) -> None:
        nonlocal token_requests
        token_requests += scope.get("path") == "/oauth/accesstoken"
        await app(scope, receive, send)

    transport = httpx.ASGITransport(app=counting)
    async with make_client(IN_PROCESS_URL, tmp_path, secret="wrong", transport=transport) as c:
        results = await asyncio.gather(
            *(c.get_case_status(receipt(r)) for r in STAGING_RECEIPTS[:10]),
            return_exceptions=True,
        )
        later = await asyncio.gather(
            c.get_case_status(receipt("EAC9999103403")), return_exceptions=True
        )
    assert all(isinstance(result, AuthenticationError) for result in [*results, *later])
    assert token_requests == 1


async def test_a_token_url_outage_is_not_taken_for_refused_credentials(tmp_path: Path) -> None:
    answers = iter([503, 200])
    app = create_app(sandbox_config())

    async def flaky_token_url(scope: Any, receive: Any, send: Any) -> None:
        if scope.get("path") == "/oauth/accesstoken" and next(answers) == 503:
            body = UNAVAILABLE_BODY
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    transport = httpx.ASGITransport(app=flaky_token_url)
    with stamina.set_testing(True, attempts=3):
        async with make_client(IN_PROCESS_URL, tmp_path, transport=transport) as client:
            status = await client.get_case_status(receipt("EAC9999103403"))
    assert status.title_en == "Case Was Approved"


async def test_a_503_outside_sandbox_hours_says_when_the_sandbox_opens(tmp_path: Path) -> None:
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=US_EASTERN).timestamp()
    app = create_app(sandbox_config(hours=True, clock=lambda: saturday))
    transport = httpx.ASGITransport(app=app)
    with stamina.set_testing(True, attempts=1):
        async with make_client(
            IN_PROCESS_URL,
            tmp_path,
            transport=transport,
            clock=lambda: saturday,
            sandbox_hours=True,
        ) as client:
            with pytest.raises(ServiceUnavailable) as caught:
                await client.get_case_status(receipt("EAC9999103403"))
    assert "opens again Monday 07:00 ET" in str(caught.value)
    assert "The Case Status API Sandbox is unavailable" in str(caught.value)
