import asyncio
import itertools
import json
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from casewatch.cases import US_EASTERN
from casewatch.uscis.errors import QuotaExhausted
from casewatch.uscis.limits import (
    SLOW_DOWN_FACTOR,
    SLOW_DOWN_S,
    WRITE_ALLOWANCE_S,
    RateLimiter,
    eastern_day,
    precise_sleep,
    quota_reset_at,
)


class FakeTime:
    """A clock whose sleep advances it, so spacing is checked without waiting."""

    def __init__(self, start: float) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


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
    assert sent[-1] - start == pytest.approx(4 * limiter.interval_s)
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


async def test_a_spike_arrest_widens_the_spacing_for_a_minute(tmp_path: Path) -> None:
    clock = FakeTime(at(2026, 11, 29, 12, 0, 0))
    limiter = RateLimiter(
        tmp_path / "l.json", tps=10, daily_quota=100, clock=clock, sleep=clock.sleep
    )
    normal = limiter.interval_s
    limiter.slow_down()
    assert limiter.interval_s == pytest.approx(normal * SLOW_DOWN_FACTOR)
    await limiter.acquire()
    start = clock.now
    await limiter.acquire()
    assert clock.now - start >= normal * SLOW_DOWN_FACTOR - 1e-6
    clock.now += SLOW_DOWN_S
    assert limiter.interval_s == normal


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
