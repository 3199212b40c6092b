"""Request spacing and the daily quota ledger, shared by every process on the machine.

Rules from ``uscis-api.md``: the per-second limit is an Apigee spike arrest, so 10 TPS
means one request every 100 ms, never a burst; the daily quota resets at midnight US
Eastern (America/New_York). Each request reserves a send slot in a small state file
under a file lock, so two dashboards with the same credentials share one rate and one
count, and the count survives a restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import struct
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from filelock import FileLock, Timeout

from casewatch.cases import US_EASTERN
from casewatch.files import atomic_write_text
from casewatch.uscis.errors import QuotaExhausted

SPACING_MARGIN_S = 0.0025
"""Seconds added to 1/TPS between two sends, so scheduling jitter never trips the arrest."""

SPIN_S = 0.002
"""Seconds before a send slot in which :func:`precise_sleep` yields to the event loop in
a loop instead of sleeping: an asyncio sleep wakes up to a millisecond late (the
selector's timeout is in whole milliseconds), more on a busy loop."""

SLOW_DOWN_S = 60.0
"""Seconds for which spacing is widened by :data:`SLOW_DOWN_FACTOR` after a spike arrest."""

SLOW_DOWN_FACTOR = 1.02
"""How much wider the spacing is while slowed down."""

LOCK_POLL_S = 0.001
"""Seconds between two tries for the ledger's lock (filelock's default, 50 ms, would
hold a send back by half a request interval)."""

WAKE_NOISE_S = 0.0003
"""Seconds of lateness after a wait that count as the wait's own noise."""

_T = TypeVar("_T")

log = logging.getLogger(__name__)

WRITE_ALLOWANCE_S = 0.0015
"""Seconds a request may take from its claim to the network write before the next send is
spaced from the write instead (see :meth:`RateLimiter.mark_written`)."""


class _SendRecord:
    """The last send of any process: Unix time in seconds, one little-endian double, in
    the open file ``fd``."""

    _format = struct.Struct("<d")

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def read(self) -> float | None:
        """The time recorded; None when there is none (or a write was cut short)."""
        data = os.pread(self._fd, self._format.size, 0)
        return self._format.unpack(data)[0] if len(data) == self._format.size else None

    def write(self, when: float) -> None:
        """Record ``when`` (Unix time in seconds)."""
        os.pwrite(self._fd, self._format.pack(when), 0)


RATE_WINDOW_S = 5.0
"""Seconds over which :meth:`RateLimiter.current_rate` averages."""


async def precise_sleep(seconds: float) -> None:
    """Wait ``seconds`` (seconds), waking within a few tenths of a millisecond of the end
    when the event loop is free: an asyncio sleep for all but the last :data:`SPIN_S`,
    then turns of the event loop (other tasks run meanwhile) until the time is up."""
    end = time.monotonic() + seconds
    if seconds > SPIN_S:
        await asyncio.sleep(seconds - SPIN_S)
    while time.monotonic() < end:
        await asyncio.sleep(0)


def eastern_day(timestamp: float) -> date:
    """The US Eastern calendar date of a Unix timestamp (seconds)."""
    return datetime.fromtimestamp(timestamp, US_EASTERN).date()


def quota_reset_at(day: date) -> datetime:
    """When the quota of US Eastern date ``day`` resets: the next midnight in New York.

    An aware datetime; a day is 23 or 25 hours long when daylight saving time changes.
    """
    following = day + timedelta(days=1)
    return datetime(following.year, following.month, following.day, tzinfo=US_EASTERN)


_kept_reserve: ContextVar[int] = ContextVar("casewatch_kept_reserve", default=0)


class QuotaReserved(QuotaExhausted):
    """Only the reserve of today's quota is left, and it is kept for manual checks."""

    summary = "Automatic refreshes are paused to keep the rest of today's quota for manual checks"


@contextmanager
def keeping_reserve(requests: int) -> Iterator[None]:
    """Within this block (in this task), :meth:`RateLimiter.acquire` refuses with
    :class:`QuotaReserved` once only ``requests`` requests are left today: automatic
    refreshes leave them for manual checks."""
    token = _kept_reserve.set(requests)
    try:
        yield
    finally:
        _kept_reserve.reset(token)


class LedgerError(OSError):
    """The request ledger (the shared state file) cannot be read or written."""


@dataclass(frozen=True, slots=True)
class QuotaUsage:
    """Requests counted on US Eastern date ``day`` against ``daily_quota``."""

    day: date
    used: int
    daily_quota: int
    resets_at: datetime

    @property
    def remaining(self) -> int:
        """Requests left today (never below zero)."""
        return max(0, self.daily_quota - self.used)


class RateLimiter:
    """Spaces requests at least ``1/tps`` seconds apart and counts them per US Eastern day.

    ``state_path`` is a JSON file in the user state directory (one per environment);
    ``tps`` is in requests per second; ``daily_quota`` in requests per US Eastern day.
    ``clock`` gives Unix time in seconds and ``sleep`` waits seconds (both injectable).
    """

    def __init__(
        self,
        state_path: Path,
        *,
        tps: float,
        daily_quota: int,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = precise_sleep,
    ) -> None:
        if tps <= 0:
            raise ValueError(f"tps must be above 0 requests per second, got {tps}")
        if daily_quota <= 0:
            raise ValueError(f"daily_quota must be above 0 requests, got {daily_quota}")
        self.state_path = state_path
        self.tps = tps
        self.daily_quota = daily_quota
        self._clock = clock
        self._sleep = sleep
        self._lock = FileLock(
            state_path.with_name(state_path.name + ".lock"), timeout=10, poll_interval=LOCK_POLL_S
        )
        self._send_path = state_path.with_name(state_path.name + ".send")
        # Sends of the last RATE_WINDOW_S seconds, for current_rate(): spaced 1/tps apart,
        # no more than this fit in the window, so older ones fall off even when nobody
        # asks for the rate (casewatch refresh, check).
        self._recent: deque[float] = deque(maxlen=math.ceil(tps * RATE_WINDOW_S) + 1)
        self._slow_until = 0.0
        self._claim_queue: asyncio.Lock | None = None

    @property
    def interval_s(self) -> float:
        """Seconds between two sends: 1/TPS plus :data:`SPACING_MARGIN_S`, widened by
        :data:`SLOW_DOWN_FACTOR` for a while after a spike arrest."""
        interval = 1.0 / self.tps + SPACING_MARGIN_S
        return interval * SLOW_DOWN_FACTOR if self._clock() < self._slow_until else interval

    def slow_down(self) -> None:
        """USCIS answered "Spike Arrest Violation": widen the spacing for
        :data:`SLOW_DOWN_S` seconds (``uscis-api.md``: slow down, then retry)."""
        self._slow_until = self._clock() + SLOW_DOWN_S

    def _read_state(self) -> dict[str, object]:
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            # Counting from zero is safe (USCIS refuses past the quota, and casewatch then
            # pauses until the reset), but the count was lost: say so in the log.
            log.warning(
                "the request ledger %s cannot be read (%s); counting from 0", self.state_path, exc
            )
            return {}
        return data if isinstance(data, dict) else {}

    def usage(self) -> QuotaUsage:
        """Today's count (US Eastern) as every process on the machine sees it."""
        return self._usage_from(self._read_state(), self._clock())

    def _usage_from(self, state: dict[str, object], now: float) -> QuotaUsage:
        today = eastern_day(now)
        used = state.get("used") if state.get("day") == today.isoformat() else 0
        return QuotaUsage(
            day=today,
            used=used if isinstance(used, int) else 0,
            daily_quota=self.daily_quota,
            resets_at=quota_reset_at(today),
        )

    def _reserve(self) -> float:
        with self._lock:
            now = self._clock()
            state = self._read_state()
            usage = self._usage_from(state, now)
            kept = _kept_reserve.get()
            if kept and usage.remaining <= kept:
                raise QuotaReserved(
                    f"{usage.remaining:,} requests are left today and kept for manual checks "
                    f"(press r, or run casewatch check); automatic refreshes resume at "
                    f"{usage.resets_at:%H:%M} US Eastern"
                )
            if usage.remaining <= 0:
                raise QuotaExhausted(
                    f"{usage.used} of {usage.daily_quota} requests used on {usage.day} "
                    f"(US Eastern); requests resume at {usage.resets_at:%Y-%m-%d %H:%M %Z}"
                )
            next_slot = state.get("next_slot")
            slot = max(now, next_slot if isinstance(next_slot, (int, float)) else now)
            state.update(day=usage.day.isoformat(), used=usage.used + 1)
            state["next_slot"] = slot + self.interval_s
            atomic_write_text(self.state_path, json.dumps(state))
            return slot

    @contextmanager
    def _send_record(self) -> Iterator[_SendRecord]:
        # The last send of any process, under the ledger's lock: an 8-byte float in a
        # file of its own, rewritten in place (a temporary file and a rename would cost a
        # tenth of a millisecond more between the spacing check and the send).
        with self._lock:
            fd = os.open(self._send_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                yield _SendRecord(fd)
            finally:
                os.close(fd)

    def _claim_send(self) -> float:
        # 0 when the spacing since the last send of any process holds (this send is then
        # recorded as the last one), else the seconds still to wait.
        with self._send_record() as record:
            now = self._clock()
            last_send = record.read()
            earliest = now if last_send is None else last_send + self.interval_s
            if now < earliest:
                return earliest - now
            # Up to WAKE_NOISE_S of lateness is forgiven, so the wake-up noise of waits
            # does not add up and push every later send back.
            record.write(max(earliest, now - WAKE_NOISE_S))
        self._recent.append(now)
        return 0.0

    def _mark_written(self) -> None:
        with self._send_record() as record:
            written = self._clock() - WRITE_ALLOWANCE_S
            last_send = record.read()
            if last_send is None or last_send < written:
                record.write(written)

    def mark_written(self) -> None:
        """The request claimed last has just been written to the network. When that came
        more than :data:`WRITE_ALLOWANCE_S` seconds after its claim (the event loop was
        busy in between), the spacing to the next send counts from now, not from the
        claim. Raises :class:`LedgerError`."""
        self._in_ledger(self._mark_written)

    async def acquire(self) -> None:
        """Wait for this request's send slot and count it, then claim the send:
        :meth:`take_slot` and :meth:`claim_send` together.

        Raises :class:`QuotaExhausted` (nothing counted) when the daily quota is spent,
        and :class:`LedgerError` when the state file cannot be written or another
        process holds its lock for more than 10 seconds.
        """
        await self.take_slot()
        await self.claim_send()

    async def take_slot(self) -> None:
        """Reserve the next send slot, count it against today's quota, and wait for it.

        Slots are reserved in order, so concurrent requests queue up without racing.
        Raises :class:`QuotaExhausted` (nothing counted), :class:`QuotaReserved` inside
        :func:`keeping_reserve`, and :class:`LedgerError`.
        """
        slot = await asyncio.to_thread(self._in_ledger, self._reserve)
        if (delay := slot - self._clock()) > 0:
            await self._sleep(delay)

    async def claim_send(self) -> None:
        """Wait until the gap since the last send of any process holds, and record this
        send: call it as late as possible before the request is written, so that a send
        that woke up late never shrinks the gap to the next one. The check runs in the
        event loop itself (a tenth of a millisecond under the file lock), so nothing
        runs between it and the caller. The sends of this process queue up in order: only
        the first waits on the ledger, so waiting requests do not all wake up for the same
        moment and take the lock in turn. Raises :class:`LedgerError`.
        """
        if self._claim_queue is None:
            self._claim_queue = asyncio.Lock()
        async with self._claim_queue:
            while (delay := self._in_ledger(self._claim_send)) > 0:
                await self._sleep(delay)

    def _in_ledger(self, step: Callable[[], _T]) -> _T:
        try:
            return step()
        except (OSError, Timeout) as exc:
            raise LedgerError(f"cannot use the request ledger {self.state_path}: {exc}") from None

    def seconds_to_reset(self) -> float:
        """Seconds until the quota resets at the next midnight US Eastern."""
        now = self._clock()
        return quota_reset_at(eastern_day(now)).timestamp() - now

    def current_rate(self) -> float:
        """This process's send rate over the last :data:`RATE_WINDOW_S` seconds, in
        requests per second."""
        horizon = self._clock() - RATE_WINDOW_S
        while self._recent and self._recent[0] < horizon:
            self._recent.popleft()
        return len(self._recent) / RATE_WINDOW_S
