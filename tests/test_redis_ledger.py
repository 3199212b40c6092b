"""The request ledger in Redis (issue 16): machines that share one API key share one rate
and one quota. Against a real ``redis-server`` on a free loopback port (skipped, with the
reason, when Debian's package is not installed)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from casewatch.cli import main
from casewatch.sandbox import STAGING_RECEIPTS, SandboxConfig, running_server
from casewatch.uscis.errors import QuotaExhausted
from casewatch.uscis.ledger import RedisUnavailable
from casewatch.uscis.limits import MARGIN_NARROW_S, MARGIN_WIDEN_S, RateLimiter
from casewatch.uscis.quota import QuotaReserved, keeping_reserve
from casewatch.uscis.redis_ledger import RedisLedger
from conftest import Answer, Received, RedisServer, case_status_answer, scripted_uscis

CLIENT_ID = "firm-shared-key"
CLIENT_SECRET = "S3NT1NEL-redis-client-secret"
STAGING = list(STAGING_RECEIPTS[:20])
"""Twenty of the built-in sandbox's staging receipt numbers."""


def limiters(url: str, *, daily_quota: int = 100) -> tuple[RateLimiter, RateLimiter]:
    """Two limiters on one Redis key, each with its own connection: two machines."""
    return tuple(  # type: ignore[return-value]
        RateLimiter(RedisLedger(url, "casewatch:ledger:test"), tps=10, daily_quota=daily_quota)
        for _ in range(2)
    )


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_two_machines_share_the_quota_and_the_gauges_agree(redis_server: RedisServer) -> None:
    first, second = limiters(redis_server.url, daily_quota=3)
    await first.take_slot()
    await second.take_slot()
    await first.take_slot()
    with pytest.raises(QuotaExhausted, match="3 of 3 requests used"):
        await second.take_slot()
    assert first.usage().used == second.usage().used == 3


async def test_slots_are_spaced_by_one_interval_whichever_machine_reserves(
    redis_server: RedisServer,
) -> None:
    first, second = limiters(redis_server.url)
    policy = first.policy
    slots = [
        limiter.store.reserve(policy, "2026-12-02", 0, 0.0).slot
        for limiter in (first, second, first, second)
    ]
    assert None not in slots
    gaps = [b - a for a, b in itertools.pairwise(slots)]  # type: ignore[operator]
    # 1/TPS plus the margin, translated from Redis's clock (a round trip of error at most).
    assert all(0.0995 <= gap <= 0.1 + policy.max_margin_s + 0.005 for gap in gaps), gaps


def test_the_reserve_for_manual_checks_is_kept_across_machines(redis_server: RedisServer) -> None:
    first, second = limiters(redis_server.url, daily_quota=5)
    with keeping_reserve(2):
        first._reserve()
        second._reserve()
        first._reserve()
        with pytest.raises(QuotaReserved, match="2 requests are left today"):
            second._reserve()
    second._reserve()  # a manual check may use the reserve
    assert first.usage().used == 4


def test_a_hold_and_a_spike_arrest_on_one_machine_reach_the_other(
    redis_server: RedisServer,
) -> None:
    first, second = limiters(redis_server.url)
    first.hold(30)
    held = second.usage().held_until
    assert held is not None and 25 < held.timestamp() - first._clock() <= 30.5
    assert second._reserve() >= held.timestamp() - 0.01  # no slot before the hold ends
    first.record_spike_arrest()
    usage = second.usage()
    assert usage.last_spike_arrest is not None and usage.last_retry_after_s == 30
    reservation = second.store.reserve(second.policy, usage.day.isoformat(), 0, 0.0)
    expected = second.policy.initial_margin_s - 2 * MARGIN_NARROW_S + MARGIN_WIDEN_S
    assert reservation.margin_s == pytest.approx(expected, abs=1e-9)


def test_two_processes_with_their_own_state_directories_stay_within_the_rate_and_quota(
    redis_server: RedisServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Two laptops: separate state directories, one Redis. Each checks ten receipts at
    # 10 requests a second; without the shared ledger they would send 20 a second and
    # the sandbox's spike arrest would refuse about half of them (10 of 30 measured).
    config = SandboxConfig(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, latency_ms=(0.0, 0.0), seed=1
    )
    with running_server(config) as url:
        common = ["--env", "sandbox", "--base-url", url, "--limits-url", redis_server.url]

        def laptop(name: str, receipts: list[str]) -> subprocess.Popen[str]:
            env = {
                **os.environ,
                "XDG_STATE_HOME": str(tmp_path / name / "state"),
                "XDG_DATA_HOME": str(tmp_path / name / "data"),
                "XDG_CONFIG_HOME": str(tmp_path / name / "config"),
                "CASEWATCH_CLIENT_ID": CLIENT_ID,
                "CASEWATCH_CLIENT_SECRET": CLIENT_SECRET,
            }
            return subprocess.Popen(
                [sys.executable, "-m", "casewatch", "check", *receipts, "--json", *common],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )

        processes = [laptop("a", STAGING[:10]), laptop("b", STAGING[10:])]
        outputs = [process.communicate(timeout=120) for process in processes]
        stats = httpx.get(f"{url}/__sandbox/stats").json()
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        assert len(out.splitlines()) == 10
    assert stats["by_status"].get("200") == 20
    # Zero is the figure on a quiet machine (benchmarks/throughput.py); a loaded one may
    # delay an arrival past its neighbour's now and then.
    assert stats["spike_arrests"] <= 2
    for name in ("a", "b"):
        assert not list((tmp_path / name).rglob("limits-*.json"))  # no file ledger
    # Every try either laptop sent is counted once in the shared ledger, and a third
    # machine with the same key sees the same count.
    monkeypatch.setenv("CASEWATCH_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("CASEWATCH_CLIENT_SECRET", CLIENT_SECRET)
    code, out, _ = run(capsys, "quota", "--json", *common)
    assert code == 0 and json.loads(out)["used"] == stats["requests"]
    other = RateLimiter(
        RedisLedger(redis_server.url, "casewatch:ledger:another-key"), tps=10, daily_quota=10
    )
    assert other.usage().used == 0  # another API key: a ledger of its own


def test_redis_down_stops_a_check_with_exit_6_naming_redis_and_sends_nothing(
    redis_server: RedisServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASEWATCH_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("CASEWATCH_CLIENT_SECRET", CLIENT_SECRET)
    redis_server.stop()
    with scripted_uscis({STAGING[0]: case_status_answer(STAGING[0])}) as uscis:
        common = ["--env", "sandbox", "--base-url", uscis.url, "--limits-url", redis_server.url]
        code, out, err = run(capsys, "check", STAGING[0], *common)
        assert uscis.requests.total() == 0
        assert run(capsys, "quota", *common)[0] == 6
    assert code == 6
    assert f"Redis at {redis_server.url}" in err and "sends nothing" in err
    assert CLIENT_SECRET not in out + err


def test_redis_stopping_in_the_middle_of_a_refresh_stops_it_and_nothing_goes_unspaced(
    redis_server: RedisServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("CASEWATCH_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("CASEWATCH_CLIENT_SECRET", CLIENT_SECRET)
    answered = 0

    def answer_then_stop(receipt: str) -> Answer:
        body = case_status_answer(receipt).body
        assert isinstance(body, bytes)

        def chunks(_: Received) -> list[bytes]:
            nonlocal answered
            answered += 1
            if answered == 3:  # Redis goes away after the third answer
                redis_server.stop()
            return [body]

        return Answer(200, chunks)

    receipts = STAGING[:8]
    watchlist = tmp_path / "w.toml"
    with scripted_uscis({r: answer_then_stop(r) for r in receipts}) as uscis:
        common = ["--env", "sandbox", "--base-url", uscis.url, "--limits-url", redis_server.url]
        common += ["--watchlist", str(watchlist)]
        assert run(capsys, "add", *receipts, *common)[0] == 0
        code, _, err = run(capsys, "refresh", *common)
        sent = uscis.requests.total()
    assert code == 1
    assert f"Redis at {redis_server.url}" in err
    assert sent == 3  # nothing was sent once the shared ledger was gone


def test_the_redis_password_is_used_and_never_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    password = "S3NT1NEL-redis-password"
    server = RedisServer(tmp_path, password=password)
    try:
        with_password = f"redis://:{password}@127.0.0.1:{server.port}/0"
        code, out, err = run(capsys, "quota", "--limits-url", server.url)
        assert code == 6 and "Redis at" in err  # no password: refused, said so
        assert run(capsys, "quota", "--limits-url", with_password)[0] == 0
        monkeypatch.setenv("CASEWATCH_REDIS_PASSWORD", password)
        code, out, err = run(capsys, "quota", "--json", "--limits-url", server.url)
        assert code == 0 and json.loads(out)["ledger"] == f"Redis at {server.url}"
        shown = [
            run(capsys, verb, "--limits-url", with_password) for verb in ("config", "diagnose")
        ]
        shown.append(run(capsys, "quota", "--limits-url", with_password))
    finally:
        server.stop()
    for code, out, err in shown:
        assert code == 0
        assert password not in out + err
    assert "request ledger        Redis at redis://127.0.0.1:" in shown[0][1]


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "redis://", "127.0.0.1:6379"])
def test_a_limits_url_that_is_not_redis_exits_2_with_an_example(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "quota", "--limits-url", url)
    assert code == 2
    assert "limits_url must be a Redis URL such as redis://" in err and "(command line)" in err


def test_a_redis_error_never_names_the_password(redis_server: RedisServer) -> None:
    password = "S3NT1NEL-in-the-url"
    ledger = RedisLedger(f"redis://:{password}@127.0.0.1:{redis_server.port}/0", "k")
    redis_server.stop()
    with pytest.raises(RedisUnavailable) as caught:
        ledger.read(0.0)
    assert password not in str(caught.value) and "Redis at redis://127.0.0.1:" in str(caught.value)
