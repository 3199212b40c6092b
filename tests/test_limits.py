import asyncio
import itertools
import json
import random
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from casewatch.cases import US_EASTERN
from casewatch.uscis.errors import QuotaExhausted, parse_retry_after
from casewatch.uscis.limits import (
    LOOPBACK_MARGIN_S,
    MARGIN_NARROW_S,
    MARGIN_WIDEN_S,
    MAX_HOLD_S,
    MAX_MARGIN_S,
    MIN_MARGIN_S,
    REMOTE_MARGIN_S,
    WRITE_ALLOWANCE_S,
    RateLimiter,
    precise_sleep,
)
from casewatch.uscis.quota import eastern_day, quota_reset_at
from conftest import FakeTime


def at(*args: int) -> float:
    return datetime(*args, tzinfo=US_EASTERN).timestamp()


def test_quota_day_is_the_us_eastern_calendar_day() -> None:
    # 03:30 UTC on Nov 30 is still Nov 29 in New York (UTC-5 in winter).
    assert eastern_day(datetime(2026, 11, 30, 3, 30, tzinfo=UTC).timestamp()) == date(2026, 11, 29)
    assert eastern_day(datetime(2026, 11, 30, 5, 0, tzinfo=UTC).timestamp()) == date(2026, 11, 30)
    assert eastern_day(at(2026, 11, 29, 23, 59, 59)) == date(2026, 11, 29)
    assert eastern_day(at(2026, 11, 30, 0, 0, 0)) == date(2026, 11, 30)


def test_reset_is_midnight_new_york_across_daylight_saving_changes() -> None:
    # Spring forward: 2026-03-08 has 23 hours; fall back: 2026-11-01 has 25.
    spring = quota_reset_at(date(2026, 3, 8)).timestamp() - at(2026, 3, 8, 0, 0, 0)
    autumn = quota_reset_at(date(2026, 11, 1)).timestamp() - at(2026, 11, 1, 0, 0, 0)
    assert spring == 23 * 3600
    assert autumn == 25 * 3600
    assert quota_reset_at(date(2026, 7, 4)).utcoffset().total_seconds() == -4 * 3600  # type: ignore[union-attr]
    assert quota_reset_at(date(2026, 12, 4)).utcoffset().total_seconds() == -5 * 3600  # type: ignore[union-attr]


async def test_requests_are_spaced_by_one_over_tps(tmp_path: Path) -> None:
    clock = FakeTime(at(2026, 11, 29, 12, 0, 0))
    limiter = RateLimiter(
        tmp_path / "l.json", tps=10, daily_quota=100, clock=clock, sleep=clock.sleep
    )
    start = clock.now
    sent = []
    for _ in range(5):
        await limiter.acquire()
        sent.append(clock.now)
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert all(gap >= 0.1 for gap in gaps)
    # Each gap is 1/TPS plus the margin, which narrows a little with each request.
    assert all(gap <= 0.1 + REMOTE_MARGIN_S + 1e-9 for gap in gaps)
    assert sent[-1] - start == pytest.approx(4 * (0.1 + REMOTE_MARGIN_S), abs=1e-4)
    assert limiter.usage().used == 5


async def test_the_count_survives_a_restart_and_resets_at_midnight(tmp_path: Path) -> None:
    clock = FakeTime(at(2026, 11, 29, 23, 59, 0))
    path = tmp_path / "limits.json"
    first = RateLimiter(path, tps=10, daily_quota=3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await first.acquire()
    second = RateLimiter(path, tps=10, daily_quota=3, clock=clock, sleep=clock.sleep)
    assert second.usage().used == 3
    with pytest.raises(QuotaExhausted) as caught:
        await second.acquire()
    assert "2026-11-30 00:00" in str(caught.value)
    assert second.usage().used == 3
    clock.now = at(2026, 11, 30, 0, 0, 1)
    assert second.usage().used == 0
    await second.acquire()
    assert json.loads(path.read_text())["day"] == "2026-11-30"


async def test_two_limiters_on_one_file_share_the_spacing(tmp_path: Path) -> None:
    clock = FakeTime(at(2026, 11, 29, 12, 0, 0))
    path = tmp_path / "limits.json"
    a = RateLimiter(path, tps=5, daily_quota=100, clock=clock, sleep=clock.sleep)
    b = RateLimiter(path, tps=5, daily_quota=100, clock=clock, sleep=clock.sleep)
    await a.acquire()
    t0 = clock.now
    await b.acquire()
    assert clock.now - t0 >= 0.2
    assert a.usage().used == 2


def test_a_corrupt_state_file_counts_from_zero_and_says_so_in_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "limits.json"
    path.write_text("{not json")
    assert RateLimiter(path, tps=1, daily_quota=5).usage().used == 0
    assert f"the request ledger {path} cannot be read" in caplog.text


async def test_a_truncated_send_record_counts_as_no_last_send(tmp_path: Path) -> None:
    clock = FakeTime(at(2026, 11, 29, 12, 0, 0))
    path = tmp_path / "limits.json"
    limiter = RateLimiter(path, tps=10, daily_quota=100, clock=clock, sleep=clock.sleep)
    await limiter.acquire()
    send_record = path.with_name("limits.json.send")
    assert len(send_record.read_bytes()) == 8
    send_record.write_bytes(b"\x01\x02")  # cut short, as by a crash mid-write
    clock.now += 1.0
    await limiter.claim_send()  # sent at once: nothing to wait for
    assert clock.sleeps == []


async def test_precise_sleep_never_wakes_early() -> None:
    for seconds in (0.0005, 0.003, 0.012):
        start = time.monotonic()
        await precise_sleep(seconds)
        assert time.monotonic() - start >= seconds


def test_bad_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="tps"):
        RateLimiter(tmp_path / "x", tps=0, daily_quota=1)
    with pytest.raises(ValueError, match="daily_quota"):
        RateLimiter(tmp_path / "x", tps=1, daily_quota=0)
    with pytest.raises(ValueError, match="initial_margin_s"):
        RateLimiter(tmp_path / "x", tps=1, daily_quota=1, initial_margin_s=-0.001)


def limiter_at(path: Path, clock: FakeTime, **options: Any) -> RateLimiter:
    """A 10 TPS limiter on the ledger ``path``, on the fake clock."""
    return RateLimiter(path, tps=10, daily_quota=100_000, clock=clock, sleep=clock.sleep, **options)


async def two_processes(
    tmp_path: Path, start: float
) -> tuple[FakeTime, Path, RateLimiter, RateLimiter]:
    """A fake clock at ``start``, a ledger, and two limiters on it (two processes), the
    first of which has just sent a request."""
    clock = FakeTime(start)
    path = tmp_path / "l.json"
    first, other_process = limiter_at(path, clock), limiter_at(path, clock)
    await first.acquire()
    return clock, path, first, other_process


async def test_a_spike_arrest_widens_the_margin_of_every_process_sharing_the_ledger(
    tmp_path: Path,
) -> None:
    clock, path, first, other_process = await two_processes(tmp_path, at(2026, 11, 29, 12, 0, 0))
    before = first.margin_s
    assert before == pytest.approx(REMOTE_MARGIN_S - MARGIN_NARROW_S)
    first.record_spike_arrest()
    assert first.margin_s == pytest.approx(before + MARGIN_WIDEN_S)
    # The other process spaces its next send by the widened margin (less one narrowing).
    await other_process.acquire()
    assert other_process.margin_s == pytest.approx(before + MARGIN_WIDEN_S - MARGIN_NARROW_S)
    assert json.loads(path.read_text())["spacing_margin_s"] == other_process.margin_s
    sent = clock.now
    await other_process.acquire()
    assert clock.now - sent == pytest.approx(
        0.1 + other_process.margin_s + MARGIN_NARROW_S, abs=1e-5
    )


async def test_the_margin_narrows_by_a_step_per_request_down_to_its_floor(tmp_path: Path) -> None:
    clock = FakeTime(at(2026, 11, 29, 12, 0, 0))
    limiter = limiter_at(tmp_path / "l.json", clock, initial_margin_s=MIN_MARGIN_S + 0.0001)
    margins = []
    for _ in range(60):
        await limiter.take_slot()
        margins.append(limiter.margin_s)
    assert margins[0] == pytest.approx(MIN_MARGIN_S + 0.0001 - MARGIN_NARROW_S)
    assert all(b <= a for a, b in itertools.pairwise(margins))
    assert margins[-1] == MIN_MARGIN_S  # never below


async def test_arrests_never_widen_the_margin_past_its_ceiling(tmp_path: Path) -> None:
    clock = FakeTime(at(2026, 11, 29, 12, 0, 0))
    limiter = limiter_at(tmp_path / "l.json", clock)
    for _ in range(100):
        limiter.record_spike_arrest()
    assert limiter.margin_s == MAX_MARGIN_S
    # Never more than half an interval: at 250 TPS (4 ms apart), 2 ms.
    fast = RateLimiter(tmp_path / "fast.json", tps=250, daily_quota=100, clock=clock)
    assert fast.initial_margin_s == fast.max_margin_s == pytest.approx(0.002)
    fast.record_spike_arrest()
    assert fast.margin_s == pytest.approx(0.002)


@pytest.mark.parametrize("written", ["-1", '"wide"', "1e999", "true"])
async def test_a_margin_out_of_bounds_in_the_ledger_is_brought_back_within_them(
    tmp_path: Path, written: str
) -> None:
    clock = FakeTime(at(2026, 11, 29, 12, 0, 0))
    path = tmp_path / "l.json"
    path.write_text(f'{{"spacing_margin_s": {written}}}')
    limiter = limiter_at(path, clock)
    await limiter.take_slot()
    assert MIN_MARGIN_S <= limiter.margin_s <= MAX_MARGIN_S


@pytest.mark.parametrize(
    ("environment", "base_url", "margin"),
    [
        ("demo", None, LOOPBACK_MARGIN_S),  # in-process
        ("demo", "http://127.0.0.1:8765", LOOPBACK_MARGIN_S),  # casewatch sandbox
        ("production", None, REMOTE_MARGIN_S),
        ("sandbox", None, REMOTE_MARGIN_S),
    ],
)
async def test_a_new_ledger_starts_with_a_small_margin_for_loopback_and_a_wide_one_for_uscis(
    environment: str, base_url: str | None, margin: float
) -> None:
    from casewatch.config import load_settings

    credentials = {"CASEWATCH_CLIENT_ID": "id", "CASEWATCH_CLIENT_SECRET": "secret"}
    settings = load_settings(environment=environment, base_url=base_url, environ=credentials)
    async with settings.open_client() as client:
        assert client.limiter.initial_margin_s == margin


async def jittered_run(
    tmp_path: Path, *, jitter_s: float, requests: int, initial_margin_s: float, seed: int
) -> tuple[float, float]:
    """A 10 TPS spike arrest judging arrivals ``U(0, jitter_s)`` seconds after each send,
    on the fake clock; an arrest is reported to the limiter as the client reports it.
    Returns (share of sends arrested, mean seconds between two sends)."""
    rng = random.Random(seed)
    clock = FakeTime(at(2026, 11, 29, 12, 0, 0))
    limiter = limiter_at(tmp_path / f"jitter-{seed}.json", clock, initial_margin_s=initial_margin_s)
    last_accepted: float | None = None
    arrests = 0
    start = clock.now
    for _ in range(requests):
        await limiter.acquire()
        arrival = clock.now + rng.uniform(0, jitter_s)
        if last_accepted is not None and arrival - last_accepted < 0.1:
            arrests += 1
            limiter.record_spike_arrest()
        else:
            last_accepted = arrival
    return arrests / requests, (clock.now - start) / (requests - 1)


async def test_under_10_ms_of_jitter_the_margin_keeps_arrests_rare_and_the_rate_high(
    tmp_path: Path,
) -> None:
    # Issue 10's targets: at most 0.5% arrests and at least 88% of the limit, from the
    # remote start as from the loopback one (which pays for its first arrests, about 6,
    # over a longer run).
    for seed in range(2):
        arrested, gap = await jittered_run(
            tmp_path, jitter_s=0.010, requests=1000, initial_margin_s=REMOTE_MARGIN_S, seed=seed
        )
        assert arrested <= 0.005
        assert 0.1 / gap >= 0.88
    arrested, gap = await jittered_run(
        tmp_path, jitter_s=0.010, requests=2000, initial_margin_s=LOOPBACK_MARGIN_S, seed=9
    )
    assert arrested <= 0.005
    assert 0.1 / gap >= 0.88


async def test_without_jitter_the_margin_narrows_to_its_floor_and_nothing_is_arrested(
    tmp_path: Path,
) -> None:
    arrested, _ = await jittered_run(
        tmp_path, jitter_s=0.0, requests=200, initial_margin_s=REMOTE_MARGIN_S, seed=0
    )
    assert arrested == 0


# Retry-After ---------------------------------------------------------------------------


async def test_a_hold_delays_the_next_request_of_every_process_sharing_the_ledger(
    tmp_path: Path,
) -> None:
    clock, _, first, other_process = await two_processes(tmp_path, at(2026, 11, 29, 14, 2, 5))
    asked = clock.now
    first.hold(2.0)
    held_until = other_process.usage().held_until
    assert held_until == datetime.fromtimestamp(asked + 2.0, US_EASTERN)
    assert f"{held_until:%H:%M:%S}" == "14:02:07"
    await other_process.acquire()
    assert clock.now >= asked + 2.0
    assert first.usage().held_until is None  # over


async def test_a_hold_asked_while_a_request_waits_for_its_slot_holds_it_too(
    tmp_path: Path,
) -> None:
    clock = FakeTime(at(2026, 11, 29, 12, 0, 0))
    path = tmp_path / "l.json"
    waiting = limiter_at(path, clock)
    await waiting.acquire()
    asked = clock.now
    # The hold comes in (another process's 429) while this request sleeps to its slot.
    real_sleep = clock.sleep

    async def sleep_then_hold(seconds: float) -> None:
        if not clock.sleeps:
            limiter_at(path, clock).hold(3.0)
        await real_sleep(seconds)

    waiting._sleep = sleep_then_hold
    await waiting.take_slot()
    assert clock.now >= asked + 3.0


async def test_a_shorter_hold_never_cuts_a_longer_one_and_an_absurd_one_is_capped(
    tmp_path: Path,
) -> None:
    clock = FakeTime(at(2026, 11, 29, 12, 0, 0))
    limiter = limiter_at(tmp_path / "l.json", clock)
    asked = clock.now
    limiter.hold(86_400 * 365)
    limiter.hold(1.0)
    held = limiter.usage().held_until
    assert held is not None
    assert held.timestamp() == pytest.approx(asked + MAX_HOLD_S)


@pytest.mark.parametrize(
    ("value", "server_date", "seconds"),
    [
        ("2", None, 2.0),
        (" 120 ", None, 120.0),
        ("Sun, 29 Nov 2026 19:02:07 GMT", None, 7.0),  # 14:02:07 ET, 7 s after "now"
        # Measured from the server's Date, not from a local clock 30 s behind it.
        ("Sun, 29 Nov 2026 19:02:07 GMT", "Sun, 29 Nov 2026 19:02:05 GMT", 2.0),
        ("Sun, 29 Nov 2026 19:01:00 GMT", None, 0.0),  # already past
        ("soon", None, None),
        ("-5", None, None),
        ("1.5", None, None),
        ("²", None, None),  # a digit to str.isdigit, not to float
        ("", None, None),
    ],
)
def test_retry_after_is_read_in_seconds_or_as_an_http_date(
    value: str, server_date: str | None, seconds: float | None
) -> None:
    now = at(2026, 11, 29, 14, 2, 0)
    assert parse_retry_after(value, now=now, server_date=server_date) == seconds


async def test_a_late_send_pushes_the_next_one_back(tmp_path: Path) -> None:
    clock = FakeTime(at(2026, 11, 29, 12, 0, 0))
    limiter = RateLimiter(
        tmp_path / "l.json", tps=10, daily_quota=100, clock=clock, sleep=clock.sleep
    )
    await limiter.take_slot()
    await limiter.take_slot()  # the second slot is one interval after the first
    clock.now += 0.05  # the first send is claimed late ...
    await limiter.claim_send()
    first = clock.now
    await limiter.claim_send()  # ... so the second waits a full interval after it
    assert clock.now - first >= limiter.interval_s - 1e-6


async def test_waiting_sends_queue_up_in_order(tmp_path: Path) -> None:
    clock = FakeTime(at(2026, 11, 29, 12, 0, 0))

    async def sleep(seconds: float) -> None:  # other tasks run while one waits
        await clock.sleep(seconds)
        await asyncio.sleep(0)

    limiter = RateLimiter(tmp_path / "l.json", tps=10, daily_quota=100, clock=clock, sleep=sleep)
    sent: list[tuple[int, float]] = []

    async def send(number: int) -> None:
        await limiter.claim_send()
        sent.append((number, clock.now))

    await asyncio.gather(*(send(number) for number in range(5)))
    # In the order they asked, not whoever tries the ledger at the right moment.
    assert [number for number, _ in sent] == [0, 1, 2, 3, 4]
    times = [when for _, when in sent]
    assert all(b - a >= limiter.interval_s - 1e-6 for a, b in itertools.pairwise(times))


async def test_a_write_long_after_its_claim_spaces_the_next_send_from_the_write(
    tmp_path: Path,
) -> None:
    clock = FakeTime(at(2026, 11, 29, 12, 0, 0))
    limiter = RateLimiter(
        tmp_path / "l.json", tps=10, daily_quota=100, clock=clock, sleep=clock.sleep
    )
    await limiter.claim_send()
    claimed = clock.now
    limiter.mark_written()  # written at once: the next send is spaced from the claim
    await limiter.claim_send()
    assert clock.now == pytest.approx(claimed + limiter.interval_s)
    claimed = clock.now
    clock.now += 0.004  # the event loop was busy between this claim and its write
    limiter.mark_written()
    await limiter.claim_send()
    assert clock.now == pytest.approx(claimed + 0.004 - WRITE_ALLOWANCE_S + limiter.interval_s)
    claimed = clock.now
    clock.now += 0.001  # a transport reporting its write as it happens: nothing forgiven
    limiter.mark_written(0.0)
    await limiter.claim_send()
    assert clock.now == pytest.approx(claimed + 0.001 + limiter.interval_s)
