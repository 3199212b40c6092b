"""Tests of the sandbox's hostility: the USCIS sandbox's hours, injected faults, and the
``casewatch sandbox`` options (uscis-api.md, "Hosts and environments" and "Errors").

In-process tests drive a fake clock; the few tests over a loopback server assert what
the client sees (exception types, bytes), never how long anything took.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

import casewatch.sandbox.app as sandbox_app
from casewatch.sandbox import (
    FAULT_KINDS,
    UNAVAILABLE_BODY,
    SandboxConfig,
    create_app,
    running_server,
    staging_case,
)
from casewatch.sandbox.options import add_sandbox_arguments, sandbox_config_from_arguments
from casewatch.sandbox.server import banner, running_app
from casewatch.sandbox.state import ARRIVAL_KEY
from casewatch.uscis.hours import US_EASTERN, next_sandbox_opening, sandbox_open

EASTERN = ZoneInfo("America/New_York")
CREDENTIALS = {
    "grant_type": "client_credentials",
    "client_id": "casewatch-demo",
    "client_secret": "casewatch-demo-secret",
}
RECEIPT = "EAC9999103403"
EXPECTED_503 = (
    b'\n\n  {"error": {"code": "503", "message": "The Case Status API Sandbox is unavailable at '
    b'this time. Please retry during the hours of M-F 7:00AM EST - 8:00 PM EST"}}'
)
TUESDAY_9AM = datetime(2026, 3, 10, 9, 0, tzinfo=EASTERN)


def eastern(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=EASTERN)


@dataclass
class FakeClock:
    """Wall-clock seconds that move only when a test says so."""

    now: float = TUESDAY_9AM.timestamp()

    def __call__(self) -> float:
        return self.now


class ScriptedDraws:
    """Stands in for the fault stream's ``random.Random``: returns the given numbers."""

    def __init__(self, *draws: float) -> None:
        self.draws = list(draws)

    def random(self) -> float:
        return self.draws.pop(0)


class Box:
    """An in-process sandbox app with a fake clock and an httpx client on it."""

    def __init__(self, **overrides: Any) -> None:
        self.clock = FakeClock(overrides.pop("start", TUESDAY_9AM.timestamp()))
        overrides.setdefault("latency_ms", (0.0, 0.0))
        self.app = create_app(SandboxConfig(clock=self.clock, **overrides))
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://sandbox"
        )

    async def token(self) -> str:
        response = await self.client.post("/oauth/accesstoken", data=CREDENTIALS)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    async def case(
        self, token: str | None, receipt: str = RECEIPT, *, wait: float = 1.0
    ) -> httpx.Response:
        """GET a case ``wait`` seconds after the previous step (clear of spike arrest)."""
        self.clock.now += wait
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return await self.client.get(f"/case-status/{receipt}", headers=headers)

    async def outcome(self, token: str, *, wait: float = 1.0) -> str:
        """The status code of a case request as a string, or ``"reset"``."""
        try:
            return str((await self.case(token, wait=wait)).status_code)
        except httpx.ReadError:
            return "reset"

    async def stats(self) -> dict[str, Any]:
        body: dict[str, Any] = (await self.client.get("/__sandbox/stats")).json()
        return body

    def script(self, *draws: float) -> None:
        self.app.state.sandbox.fault_draws = ScriptedDraws(*draws)


# --- sandbox hours, the pure functions (uscis-api.md, "Hosts and environments") ---


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (eastern(2026, 3, 14, 12, 0), False),  # Saturday noon
        (eastern(2026, 3, 15, 12, 0), False),  # Sunday noon
        (eastern(2026, 3, 10, 6, 59, 59), False),
        (eastern(2026, 3, 10, 7, 0), True),
        (eastern(2026, 3, 10, 19, 59, 59), True),
        (eastern(2026, 3, 10, 20, 0), False),
        (eastern(2026, 3, 13, 19, 59), True),  # Friday evening
        (eastern(2026, 3, 13, 20, 0), False),
        (eastern(2026, 3, 16, 7, 0), True),  # Monday morning
        # The same UTC hour is 07:00 EDT in summer, 06:00 EST in winter.
        (datetime(2026, 7, 14, 11, 0, tzinfo=UTC), True),
        (datetime(2026, 1, 13, 11, 0, tzinfo=UTC), False),
        (datetime(2026, 1, 13, 12, 0, tzinfo=UTC), True),
        # 20:00 EDT is midnight UTC (next day), 20:00 EST is 01:00 UTC.
        (datetime(2026, 7, 15, 0, 0, tzinfo=UTC), False),
        (datetime(2026, 1, 14, 0, 59, tzinfo=UTC), True),
        (datetime(2026, 1, 14, 1, 0, tzinfo=UTC), False),
        # Around the DST changes (Sunday 2026-03-08 and Sunday 2026-11-01).
        (eastern(2026, 3, 9, 7, 0), True),
        (eastern(2026, 3, 9, 6, 30), False),
        (eastern(2026, 11, 2, 7, 0), True),
        (eastern(2026, 11, 1, 12, 0), False),
    ],
)
def test_sandbox_open(moment: datetime, is_open: bool) -> None:
    assert sandbox_open(moment) is is_open
    assert (next_sandbox_opening(moment) == moment) is is_open


@pytest.mark.parametrize(
    ("moment", "opening"),
    [
        (eastern(2026, 3, 13, 20, 0), eastern(2026, 3, 16, 7, 0)),  # Friday 20:00 -> Monday
        (eastern(2026, 3, 14, 3, 0), eastern(2026, 3, 16, 7, 0)),  # Saturday
        (eastern(2026, 3, 15, 23, 59), eastern(2026, 3, 16, 7, 0)),  # Sunday night
        (eastern(2026, 3, 10, 6, 59), eastern(2026, 3, 10, 7, 0)),  # same day
        (eastern(2026, 3, 10, 0, 0), eastern(2026, 3, 10, 7, 0)),
        (eastern(2026, 3, 10, 20, 0), eastern(2026, 3, 11, 7, 0)),  # next day
        (eastern(2026, 3, 10, 23, 59), eastern(2026, 3, 11, 7, 0)),
        # Across DST: Friday EST to Monday EDT, Friday EDT to Monday EST.
        (eastern(2026, 3, 6, 20, 0), eastern(2026, 3, 9, 7, 0)),
        (eastern(2026, 10, 30, 20, 0), eastern(2026, 11, 2, 7, 0)),
        # Given in UTC: Friday 2026-07-17 20:00 EDT is Saturday 00:00 UTC.
        (datetime(2026, 7, 18, 0, 0, tzinfo=UTC), eastern(2026, 7, 20, 7, 0)),
    ],
)
def test_next_sandbox_opening(moment: datetime, opening: datetime) -> None:
    found = next_sandbox_opening(moment)
    assert found == opening
    assert found.tzinfo is US_EASTERN
    assert (found.hour, found.minute, found.weekday() < 5) == (7, 0, True)
    assert f"{found:%A %H:%M}" == f"{opening:%A} 07:00"


def test_next_opening_across_dst_counts_real_hours() -> None:
    def elapsed(moment: datetime) -> timedelta:  # in the same zone, "-" gives wall time
        return next_sandbox_opening(moment).astimezone(UTC) - moment.astimezone(UTC)

    spring, autumn = elapsed(eastern(2026, 3, 6, 20, 0)), elapsed(eastern(2026, 10, 30, 20, 0))
    assert spring == timedelta(hours=58)  # 59 hours of wall clock, one of them skipped
    assert autumn == timedelta(hours=60)  # and one repeated
    assert next_sandbox_opening(eastern(2026, 3, 6, 20, 0)).utcoffset() == timedelta(hours=-4)
    assert next_sandbox_opening(eastern(2026, 10, 30, 20, 0)).utcoffset() == timedelta(hours=-5)


# Weeks without a DST change, and with one (Sundays 2026-03-08 and 2026-11-01).
@pytest.mark.parametrize(
    "monday", [eastern(2026, 1, 5), eastern(2026, 3, 2), eastern(2026, 10, 26)]
)
def test_next_opening_is_the_first_open_instant(monday: datetime) -> None:
    """A week in 15-minute steps: the opening is open, not before, and nothing between."""
    start = monday.astimezone(UTC)  # real 15 minutes, not wall-clock ones
    steps = [start + timedelta(minutes=15 * n) for n in range(7 * 24 * 4 + 8)]
    for index, moment in enumerate(steps[:-100]):
        opening = next_sandbox_opening(moment)
        assert opening >= moment
        assert sandbox_open(opening)
        between = [m for m in steps[index:] if m < opening]
        assert not any(sandbox_open(m) for m in between)


def test_hours_refuse_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sandbox_open(datetime(2026, 3, 10, 9, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        next_sandbox_opening(datetime(2026, 3, 10, 9, 0))


def test_hours_module_is_standard_library_only() -> None:
    import ast
    import sys
    from pathlib import Path

    import casewatch.uscis.hours as hours

    tree = ast.parse(Path(hours.__file__).read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert {name.split(".")[0] for name in imported} <= set(sys.stdlib_module_names) | {
        "__future__"
    }


# --- sandbox hours, served (SandboxConfig.hours) ---


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert response.content == EXPECTED_503 == UNAVAILABLE_BODY
    assert json.loads(response.content) == {
        "error": {
            "code": "503",
            "message": "The Case Status API Sandbox is unavailable at this time. Please retry "
            "during the hours of M-F 7:00AM EST - 8:00 PM EST",
        }
    }


async def test_closed_on_saturday() -> None:
    box = Box(hours=True, start=eastern(2026, 3, 14, 12, 0).timestamp())
    async with box.client:
        assert_unavailable(await box.client.post("/oauth/accesstoken", data=CREDENTIALS))
        assert_unavailable(await box.case("any-token"))
        assert_unavailable(await box.case(None, "not-a-receipt"))  # before the token check
        stats = await box.stats()
        assert stats["by_status"] == {"503": 2}
        assert stats["tokens_issued"] == 0


async def test_always_open_without_hours() -> None:
    box = Box(start=eastern(2026, 3, 14, 12, 0).timestamp())
    async with box.client:
        assert (await box.case(await box.token())).status_code == 200


@pytest.mark.parametrize("month", [1, 7])  # EST and EDT
async def test_weekday_opening_and_closing(month: int) -> None:
    box = Box(hours=True, start=eastern(2026, month, 13, 6, 59).timestamp())
    async with box.client:
        assert_unavailable(await box.client.post("/oauth/accesstoken", data=CREDENTIALS))
        box.clock.now = eastern(2026, month, 13, 7, 0).timestamp()
        token = await box.token()
        assert (await box.case(token, wait=0)).status_code == 200
        box.clock.now = eastern(2026, month, 13, 19, 59, 59).timestamp()
        token = await box.token()  # the first lived 30 minutes
        assert (await box.case(token, wait=0)).status_code == 200
        box.clock.now = eastern(2026, month, 13, 20, 0).timestamp()
        assert_unavailable(await box.case(token, wait=0))  # a live token does not help
        assert_unavailable(await box.client.post("/oauth/accesstoken", data=CREDENTIALS))


async def test_closed_hours_do_not_spend_quota() -> None:
    box = Box(hours=True, daily_quota=1, start=eastern(2026, 3, 10, 6, 0).timestamp())
    async with box.client:
        for _ in range(3):
            assert_unavailable(await box.case("no-token"))
        box.clock.now = eastern(2026, 3, 10, 7, 0).timestamp()
        assert (await box.case(await box.token())).status_code == 200
        assert (await box.case(await box.token())).status_code == 429  # the quota of 1


# --- injected faults, in-process (SandboxConfig.faults) ---


async def test_fault_429_is_a_spike_arrest_body() -> None:
    box = Box(faults={"429": 1.0})
    async with box.client:
        response = await box.case(await box.token())
        assert response.status_code == 429
        assert response.json() == {"code": 429, "message": "Spike Arrest Violation"}
        stats = await box.stats()
        assert stats["faults"] == {"429": 1}
        assert stats["by_status"] == {"429": 1}
        assert stats["spike_arrests"] == 0  # real ones only


async def test_fault_500() -> None:
    box = Box(faults={"500": 1.0})
    async with box.client:
        response = await box.case(await box.token())
        assert response.status_code == 500
        assert response.json() == {"code": 500, "message": "Internal Server Error"}
        assert (await box.stats())["faults"] == {"500": 1}


async def test_fault_502_is_an_html_page() -> None:
    box = Box(faults={"502": 1.0})
    async with box.client:
        response = await box.case(await box.token())
        assert response.status_code == 502
        assert response.headers["content-type"].startswith("text/html")
        assert response.text.startswith("<html><head><title>502 Bad Gateway</title></head><body>")
        assert response.text.endswith("</body></html>")
        with pytest.raises(json.JSONDecodeError):
            response.json()
        assert (await box.stats())["by_status"] == {"502": 1}


async def test_fault_503_is_the_nested_body() -> None:
    box = Box(faults={"503": 1.0})
    async with box.client:
        assert_unavailable(await box.case(await box.token()))
        assert (await box.stats())["faults"] == {"503": 1}


async def test_fault_timeout_waits_then_answers_504(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    real_wait = sandbox_app.sleep_unless_disconnected

    async def recorded(request: Any, seconds: float) -> None:
        waits.append(seconds)
        await real_wait(request, 0.0)

    monkeypatch.setattr("casewatch.sandbox.app.sleep_unless_disconnected", recorded)
    box = Box(faults={"timeout": 1.0}, fault_timeout_s=42.5)
    async with box.client:
        response = await box.case(await box.token())
        assert response.status_code == 504
        assert response.json() == {"code": 504, "message": "Gateway Timeout"}
        stats = await box.stats()
        assert stats["by_status"] == {"504": 1}
        assert stats["faults"] == {"timeout": 1}
    assert waits == [42.5]


async def test_fault_timeout_with_a_short_wait_in_process() -> None:
    box = Box(faults={"timeout": 1.0}, fault_timeout_s=0.0)
    async with box.client:
        assert (await box.case(await box.token())).status_code == 504


async def test_fault_badjson_is_a_200_that_is_not_json() -> None:
    box = Box(faults={"badjson": 1.0})
    async with box.client:
        response = await box.case(await box.token())
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.content.startswith(b'{"case_status": ')
        with pytest.raises(json.JSONDecodeError):
            response.json()
        stats = await box.stats()
        assert stats["by_status"] == {"200": 1}
        assert stats["faults"] == {"badjson": 1}


async def test_fault_reset_in_process_is_a_transport_error() -> None:
    box = Box(faults={"reset": 1.0})
    async with box.client:
        token = await box.token()
        with pytest.raises(httpx.ReadError) as caught:
            await box.case(token)
        assert isinstance(caught.value, httpx.TransportError)
        assert caught.value.request.url.path == f"/case-status/{RECEIPT}"
        with pytest.raises(httpx.TransportError):
            await box.case(token)
        stats = await box.stats()
        assert stats["by_status"] == {"reset": 2}
        assert stats["faults"] == {"reset": 2}


async def test_faults_come_after_the_token_check() -> None:
    box = Box(faults={"500": 1.0})
    async with box.client:
        assert (await box.case(None)).status_code == 401
        assert (await box.case("Bearer nope")).status_code == 401
        assert (await box.stats())["faults"] == {}


async def test_injected_429_is_not_admitted_other_faults_are() -> None:
    """Decision: an injected 429 is a spike arrest, so like a real one it neither moves the
    spike-arrest window nor spends quota; backend faults come after Apigee admitted the
    request, so they do both (uscis-api.md, "Hosts and environments")."""
    box = Box(faults={"429": 0.25, "500": 0.25, "reset": 0.25})
    async with box.client:
        token = await box.token()
        box.script(0.9, 0.1, 0.9, 0.3, 0.9, 0.6, 0.9)
        assert (await box.case(token)).status_code == 200  # t0
        assert (await box.case(token, wait=0.1)).status_code == 429  # injected at t0 + 0.1
        assert (await box.case(token, wait=0.05)).status_code == 200  # window still at t0
        assert (await box.case(token, wait=0.1)).status_code == 500  # admitted: moves it
        refused = await box.case(token, wait=0.05)  # too soon after the 500
        assert refused.status_code == 429
        stats = await box.stats()
        assert stats["spike_arrests"] == 1
        with pytest.raises(httpx.ReadError):
            await box.case(token, wait=0.1)  # admitted, then dropped: moves the window too
        assert (await box.case(token, wait=0.05)).status_code == 429
        stats = await box.stats()
        assert stats["spike_arrests"] == 2
        assert stats["faults"] == {"429": 1, "500": 1, "reset": 1}
        assert stats["by_status"] == {"200": 2, "429": 3, "500": 1, "reset": 1}
        assert box.app.state.sandbox.quota_used == 4  # 2 x 200, the 500 and the reset


async def test_faulted_requests_spend_the_daily_quota() -> None:
    box = Box(daily_quota=2, faults={"429": 0.25, "500": 0.25})
    async with box.client:
        token = await box.token()
        box.script(0.1, 0.3, 0.9, 0.9, 0.1)
        assert (await box.case(token)).status_code == 429  # injected: free
        assert (await box.case(token)).status_code == 500  # spends 1
        assert (await box.case(token)).status_code == 200  # spends 1
        quota = await box.case(token)
        assert quota.status_code == 429
        assert quota.json()["message"].startswith("Quota Exceeded.")
        # A refused request still drew: the injected 429 answers before the quota.
        assert (await box.case(token)).json()["message"] == "Spike Arrest Violation"
        assert (await box.stats())["faults"] == {"429": 2, "500": 1}


async def test_a_refused_request_draws_but_gets_no_backend_fault() -> None:
    box = Box(daily_quota=1, faults={"500": 0.5})
    async with box.client:
        token = await box.token()
        box.script(0.9, 0.1, 0.9)
        assert (await box.case(token)).status_code == 200
        assert (await box.case(token)).json()["message"].startswith("Quota Exceeded.")
        assert (await box.stats())["faults"] == {}
        assert box.app.state.sandbox.fault_draws.draws == [0.9]  # one draw each


async def test_faults_apply_to_any_receipt() -> None:
    box = Box(faults={"500": 1.0})
    async with box.client:
        token = await box.token()
        for receipt in ("EAC9999999999", "not-a-receipt"):
            assert (await box.case(token, receipt)).status_code == 500


# --- the fault stream is seeded and deterministic ---


async def fault_sequence(seed: int | None, *, wait: float = 1.0, n: int = 300) -> list[str]:
    faults = {"429": 0.1, "500": 0.1, "502": 0.05, "503": 0.05, "badjson": 0.05, "reset": 0.05}
    box = Box(faults=faults, seed=seed)
    async with box.client:
        token = await box.token()
        return [await box.outcome(token, wait=wait) for _ in range(n)]


async def test_fault_stream_is_deterministic_with_a_seed() -> None:
    first = await fault_sequence(7)
    assert first == await fault_sequence(7)
    assert first == await fault_sequence(7, wait=0.5)  # spacing does not matter
    assert first != await fault_sequence(8)
    assert set(first) == {"200", "429", "500", "502", "503", "reset"}
    assert 0.55 < first.count("200") / len(first) < 0.85  # badjson is a 200 too


async def test_fault_probabilities_are_honoured() -> None:
    box = Box(faults={"500": 0.2}, seed=1, tps=1000.0)
    async with box.client:
        token = await box.token()
        for _ in range(1000):
            await box.case(token, wait=0.01)
        faults = (await box.stats())["faults"]
    assert 150 < faults["500"] < 250


async def test_faults_do_not_change_the_latencies(monkeypatch: pytest.MonkeyPatch) -> None:
    async def run(faults: dict[str, float]) -> list[float]:
        delays: list[float] = []

        async def fake_sleep(seconds: float) -> None:
            delays.append(seconds)

        monkeypatch.setattr("casewatch.sandbox.app.asyncio.sleep", fake_sleep)
        box = Box(faults=faults, seed=3, latency_ms=(150.0, 400.0))
        async with box.client:
            token = await box.token()
            for _ in range(20):
                await box.case(token)
        return delays

    assert await run({}) == await run({"500": 0.5})


# --- fault configuration ---


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        ({"404": 0.1}, "unknown fault '404'"),
        ({"Reset": 0.1}, "unknown fault 'Reset'"),
        ({"500": -0.1}, "fault '500'.*-0.1"),
        ({"500": 1.5}, "fault '500'.*1.5"),
        ({"500": float("nan")}, "fault '500'.*nan"),
        ({"500": True}, "fault '500'.*True"),
        ({"500": "0.1"}, "fault '500'.*'0.1'"),
        ({"500": 0.6, "reset": 0.5}, "add up to 1.1"),
    ],
)
def test_faults_are_validated(faults: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SandboxConfig(faults=faults)


def test_fault_config_is_a_read_only_copy() -> None:
    faults = {"500": 0.5, "reset": 0.5}
    config = SandboxConfig(faults=faults)
    faults["500"] = 1.0
    assert config.faults == {"500": 0.5, "reset": 0.5}
    with pytest.raises(TypeError):
        config.faults["500"] = 0.0  # type: ignore[index]
    assert SandboxConfig().faults == {}
    with pytest.raises(ValueError, match="fault_timeout_s"):
        SandboxConfig(fault_timeout_s=-1)


# --- faults over a real loopback server ---


@pytest.fixture
def reset_server() -> Iterator[str]:
    config = SandboxConfig(latency_ms=(0.0, 0.0), tps=1e6, faults={"reset": 1.0})
    with running_server(config) as url:
        yield url


async def test_reset_over_uvicorn_is_a_transport_error(reset_server: str) -> None:
    async with httpx.AsyncClient(base_url=reset_server, timeout=5.0) as client:
        token = (await client.post("/oauth/accesstoken", data=CREDENTIALS)).json()["access_token"]
        for _ in range(2):  # each time on a fresh connection
            with pytest.raises(httpx.TransportError) as caught:
                await client.get(
                    f"/case-status/{RECEIPT}", headers={"Authorization": f"Bearer {token}"}
                )
            assert isinstance(caught.value, httpx.ReadError | httpx.RemoteProtocolError)
        stats = (await client.get("/__sandbox/stats")).json()
    assert stats["by_status"] == {"reset": 2}
    assert stats["faults"] == {"reset": 2}


def test_reset_over_uvicorn_logs_no_server_error(
    reset_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    """uvicorn neither logs "Exception in ASGI application" nor answers 500."""
    uvicorn_log = logging.getLogger("uvicorn.error")  # it does not propagate to the root
    uvicorn_log.addHandler(caplog.handler)
    try:
        with httpx.Client(base_url=reset_server, timeout=5.0) as client:
            token = client.post("/oauth/accesstoken", data=CREDENTIALS).json()["access_token"]
            with pytest.raises(httpx.TransportError):
                client.get(f"/case-status/{RECEIPT}", headers={"Authorization": f"Bearer {token}"})
            assert client.get("/__sandbox/stats").json()["by_status"] == {"reset": 1}
    finally:
        uvicorn_log.removeHandler(caplog.handler)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_timeout_over_uvicorn_is_a_read_timeout() -> None:
    config = SandboxConfig(
        latency_ms=(0.0, 0.0), tps=1e6, faults={"timeout": 1.0}, fault_timeout_s=30.0
    )
    with running_server(config) as url:
        async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(5.0, read=0.2)) as client:
            token = (await client.post("/oauth/accesstoken", data=CREDENTIALS)).json()
            with pytest.raises(httpx.ReadTimeout) as caught:
                await client.get(
                    f"/case-status/{RECEIPT}",
                    headers={"Authorization": f"Bearer {token['access_token']}"},
                )
            assert isinstance(caught.value, httpx.TransportError)
            stats = (await client.get("/__sandbox/stats")).json()
    assert stats["faults"] == {"timeout": 1}
    assert stats["by_status"] == {"504": 1}


def test_503_and_502_bodies_over_the_wire() -> None:
    config = SandboxConfig(latency_ms=(0.0, 0.0), tps=1e6, faults={"503": 0.5, "502": 0.5}, seed=2)
    with running_server(config) as url, httpx.Client(base_url=url) as client:
        token = client.post("/oauth/accesstoken", data=CREDENTIALS).json()["access_token"]
        seen = set()
        for _ in range(20):
            response = client.get(
                f"/case-status/{RECEIPT}", headers={"Authorization": f"Bearer {token}"}
            )
            seen.add(response.status_code)
            if response.status_code == 503:
                assert_unavailable(response)
            else:
                assert response.status_code == 502
                assert "<title>502 Bad Gateway</title>" in response.text
    assert seen == {502, 503}


def test_without_faults_the_server_answers_normally() -> None:
    with (
        running_server(SandboxConfig(latency_ms=(0.0, 0.0))) as url,
        httpx.Client(base_url=url) as client,
    ):
        token = client.post("/oauth/accesstoken", data=CREDENTIALS).json()["access_token"]
        response = client.get(
            f"/case-status/{RECEIPT}", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.json() == staging_case(RECEIPT)
        assert client.get("/__sandbox/stats").json()["faults"] == {}


# --- command-line options (casewatch.sandbox.options) ---


def parser() -> argparse.ArgumentParser:
    result = argparse.ArgumentParser(prog="casewatch sandbox")
    add_sandbox_arguments(result)
    return result


def config_of(*argv: str) -> SandboxConfig:
    return sandbox_config_from_arguments(parser().parse_args(argv))


def comparable(config: SandboxConfig) -> dict[str, Any]:
    values = {f.name: getattr(config, f.name) for f in fields(config) if f.name != "clock"}
    values["faults"] = dict(values["faults"])
    return values


def test_options_defaults_are_the_config_defaults() -> None:
    args = parser().parse_args([])
    assert (args.host, args.port) == ("127.0.0.1", 8765)
    assert comparable(sandbox_config_from_arguments(args)) == comparable(SandboxConfig())


def test_options_all_given() -> None:
    args = parser().parse_args(
        [
            "--host=::1",
            "--port=0",
            "--tps=5",
            "--daily-quota=1000",
            "--latency-ms=300",
            "--jitter-ms=10",
            "--token-lifetime=60",
            "--hours",
            "--faults=429=0.05,500=0.05,503=0.02,timeout=0.02,badjson=0.01,reset=0.01",
            "--fault-timeout=2.5",
            "--synthetic",
            "--seed=42",
            "--client-id=me",
            "--client-secret=s3cret",
        ]
    )
    assert (args.host, args.port) == ("::1", 0)
    config = sandbox_config_from_arguments(args)
    assert comparable(config) == comparable(
        SandboxConfig(
            client_id="me",
            client_secret="s3cret",
            tps=5.0,
            daily_quota=1000,
            latency_ms=(300.0, 300.0),
            jitter_ms=10.0,
            token_lifetime_s=60,
            synthetic=True,
            hours=True,
            faults={
                "429": 0.05,
                "500": 0.05,
                "503": 0.02,
                "timeout": 0.02,
                "badjson": 0.01,
                "reset": 0.01,
            },
            fault_timeout_s=2.5,
            seed=42,
        )
    )


@pytest.mark.parametrize(
    ("value", "faults"),
    [
        ("500=0.1", {"500": 0.1}),
        (" 429 = 5% , reset=0.01 ", {"429": 0.05, "reset": 0.01}),
        ("502=1", {"502": 1.0}),
        ("none", {}),
        ("", {}),
    ],
)
def test_faults_option(value: str, faults: dict[str, float]) -> None:
    assert dict(config_of("--faults", value).faults) == pytest.approx(faults)


def test_latency_range_option() -> None:
    assert config_of("--latency-ms", "150-400").latency_ms == (150.0, 400.0)
    assert config_of("--latency-ms", "0").latency_ms == (0.0, 0.0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--faults", "429"], "argument --faults: '429' is not KIND=PROBABILITY"),
        (["--faults", "429=0.1,,500=0.1"], "'' is not KIND=PROBABILITY"),
        (["--faults", "404=0.1"], "unknown fault '404' in '404=0.1': the faults are 429, 500"),
        (["--faults", "500=lots"], "'500=lots': the probability of 500 must be a number from 0"),
        (["--faults", "500=1.5"], "'500=1.5': the probability of 500"),
        (["--faults", "500=0.1,500=0.2"], "fault '500' is given twice"),
        (["--faults", "500=0.6,reset=0.6"], "add up to 1.2, more than 1"),
        (["--host", "0.0.0.0"], "argument --host: '0.0.0.0' is not a loopback host"),
        (["--port", "http"], "argument --port: 'http' is not a port"),
        (["--port", "65536"], "65536 is out of range"),
        (["--tps", "0"], "argument --tps: '0' must be a finite number above 0"),
        (["--tps", "fast"], "'fast' is not a number"),
        (["--tps", "inf"], "'inf' must be a finite number above 0"),
        (["--daily-quota", "0"], "argument --daily-quota: 0 is too small"),
        (["--daily-quota", "1e5"], "'1e5' is not a whole number"),
        (["--latency-ms", "400-150"], "argument --latency-ms: '400-150': give finite"),
        (["--latency-ms", "-5"], "'-5' is not a latency"),
        (["--latency-ms", "slow"], "'slow' is not a latency"),
        (["--jitter-ms", "-1"], "argument --jitter-ms: '-1' must be a finite number of millis"),
        (["--jitter-ms", "lots"], "'lots' is not a number of milliseconds: give 0 or more"),
        (["--token-lifetime", "0"], "argument --token-lifetime: 0 is too small: give seconds"),
        (["--fault-timeout", "-1"], "argument --fault-timeout: '-1' must be a finite number"),
        (["--seed", "x"], "argument --seed: 'x' is not a whole number"),
        (["--client-id", ""], "argument --client-id: must not be empty"),
    ],
)
def test_bad_options_are_argparse_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parser().parse_args(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert message in err


def test_banner_shows_hours_faults_and_synthetic() -> None:
    config = SandboxConfig(
        hours=True,
        synthetic=True,
        faults={"reset": 0.01, "429": 0.05, "timeout": 0.02},
        fault_timeout_s=30,
        seed=9,
    )
    lines = banner(config, "http://127.0.0.1:8765")
    text = "\n".join(lines)
    assert lines[0] == "casewatch sandbox on http://127.0.0.1:8765"
    assert "hours:            Mon-Fri 07:00-20:00 US Eastern, 503 outside" in text
    assert "faults:           429=0.05, timeout=0.02, reset=0.01 (a timeout waits 30 s)" in text
    assert "any well-formed receipt (synthetic)" in text
    assert "seed:             9" in text
    plain = "\n".join(banner(SandboxConfig(), "http://127.0.0.1:8765"))
    assert "faults:           none" in plain
    assert "jitter:           none (--jitter-ms N" in plain
    jittery = "\n".join(banner(SandboxConfig(jitter_ms=10), "http://127.0.0.1:8765"))
    assert "jitter:           each arrival delayed 0-10 ms at random" in jittery
    assert "hours:            always open" in plain
    assert "synthetic" not in plain


# --- network jitter and arrival times ---


async def spike_arrests_at(gap_s: float, *, requests: int = 60, **config: Any) -> int:
    """Spike arrests (10 TPS) of ``requests`` case requests sent exactly ``gap_s`` apart
    by the sandbox's clock."""
    box = Box(tps=10.0, seed=3, **config)
    token = await box.token()
    for _ in range(requests):
        await box.case(token, wait=gap_s)
    arrests: int = (await box.stats())["spike_arrests"]
    return arrests


async def test_jitter_delays_each_arrival_by_0_to_n_ms() -> None:
    assert await spike_arrests_at(0.100) == 0  # exactly 1/TPS apart: no jitter, no arrest
    # 100 ms apart, each arrival 0-10 ms late: about half of the gaps come out short.
    jittered = await spike_arrests_at(0.100, jitter_ms=10)
    assert 10 <= jittered <= 50
    # 110 ms apart: no draw of 0-10 ms can bring two arrivals under 100 ms.
    assert await spike_arrests_at(0.1105, jitter_ms=10) == 0
    # 95 ms apart: a 0-10 ms jitter lets some through (spacing + j2 - j1 >= 100 ms).
    assert 0 < await spike_arrests_at(0.095, jitter_ms=10) < 60


async def test_jitter_draws_do_not_change_the_latencies_or_the_faults() -> None:
    plain, jittery = Box(seed=5), Box(seed=5, jitter_ms=10)
    assert plain.app.state.sandbox.latency.random() == jittery.app.state.sandbox.latency.random()
    assert (
        plain.app.state.sandbox.fault_draws.random()
        == jittery.app.state.sandbox.fault_draws.random()
    )


def test_jitter_must_be_a_finite_number_of_0_or_more() -> None:
    with pytest.raises(ValueError, match="jitter_ms"):
        SandboxConfig(jitter_ms=-1)
    with pytest.raises(ValueError, match="jitter_ms"):
        SandboxConfig(jitter_ms=math.inf)


async def test_over_uvicorn_the_arrival_is_when_the_request_reached_the_server() -> None:
    # The test sets the sandbox's clock before each request; a wrapper moves it on by 50
    # ms before the sandbox's handler runs (a busy event loop). Requests that reached the
    # server exactly 1/TPS apart are both accepted: the handler's lateness is not the
    # client's jitter.
    clock = FakeClock(TUESDAY_9AM.timestamp())
    sandbox = create_app(SandboxConfig(clock=clock, tps=10.0, latency_ms=(0.0, 0.0)))
    stamped: list[float] = []

    async def late_handler(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/case-status/"):
            stamped.append(scope[ARRIVAL_KEY])
            if len(stamped) == 1:
                clock.now += 0.05
        await sandbox(scope, receive, send)

    with running_app(late_handler, clock=clock) as url:
        async with httpx.AsyncClient(base_url=url) as http:
            token = (await http.post("/oauth/accesstoken", data=CREDENTIALS)).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            clock.now = TUESDAY_9AM.timestamp() + 1.0
            first = await http.get(f"/case-status/{RECEIPT}", headers=headers)
            clock.now = TUESDAY_9AM.timestamp() + 1.1
            second = await http.get(f"/case-status/{RECEIPT}", headers=headers)
            stats = (await http.get("/__sandbox/stats")).json()
    assert stamped == [TUESDAY_9AM.timestamp() + 1.0, TUESDAY_9AM.timestamp() + 1.1]
    assert (first.status_code, second.status_code) == (200, 200)
    assert stats["spike_arrests"] == 0


@pytest.mark.skipif(sys.platform != "linux", reason="kernel receive timestamps are Linux's")
def test_a_request_that_arrives_while_the_sandbox_is_busy_is_stamped_when_it_arrived() -> None:
    # The first request blocks the sandbox's event loop until the second has been written
    # to its socket. The second's arrival is when its bytes reached the server, before
    # the loop was free again, not when the sandbox got round to reading them.
    busy, second_sent = threading.Event(), threading.Event()
    seen: dict[str, float] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/first":
            busy.set()
            second_sent.wait(timeout=10)  # blocks the event loop, as a busy handler would
            seen["free again"] = time.time()
        else:
            seen["second arrived"] = scope[ARRIVAL_KEY]
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def get(url: str, path: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            if path == "/second":
                second_sent.set()
            sock.recv(1024)

    with running_app(app) as url:
        first = threading.Thread(target=get, args=(url, "/first"))
        first.start()
        assert busy.wait(timeout=10)
        get(url, "/second")
        first.join()
    assert seen["second arrived"] < seen["free again"]


def test_every_fault_kind_is_tested() -> None:
    assert set(FAULT_KINDS) == {"429", "500", "502", "503", "timeout", "badjson", "reset"}
