"""Request spacing and the daily quota, shared by every process using one API key.

Rules from ``uscis-api.md``: the per-second limit is an Apigee spike arrest, so 10 TPS
means one request every 100 ms, never a burst; the daily quota resets at midnight US
Eastern (America/New_York). Each request reserves a send slot in the request ledger
(:mod:`casewatch.uscis.ledger`: a file shared by the processes of one machine, or Redis
shared by many machines), so two dashboards with the same credentials share one rate and
one count, and the count survives a restart. Just before it is written, each request
claims its send against the last send of any process, so the spacing holds at arrival.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from casewatch.cases import US_EASTERN
from casewatch.uscis.errors import QuotaExhausted
from casewatch.uscis.file_ledger import FileLedger
from casewatch.uscis.ledger import LedgerPolicy, LedgerState, LedgerStore, number
from casewatch.uscis.quota import (
    QuotaReserved,
    QuotaUsage,
    eastern_day,
    kept_reserve,
    quota_reset_at,
)

LOOPBACK_MARGIN_S = 0.0005
"""Starting spacing margin, in seconds, for a server on this machine (the built-in
sandbox): only the two processes' scheduling separates a send from its arrival. Also the
narrowest the margin ever gets (:data:`MIN_MARGIN_S`)."""

REMOTE_MARGIN_S = 0.010
"""Starting spacing margin, in seconds, for a server across the Internet: two requests
sent 100 ms apart can arrive 90 ms apart (``uscis-api.md``, "More facts gathered later"),
so the margin starts as wide as that jitter and narrows from there."""

MIN_MARGIN_S = LOOPBACK_MARGIN_S
"""The narrowest learned margin, in seconds: below it the gain is under 0.5% of the rate."""

MAX_MARGIN_S = 0.050
"""The widest learned margin, in seconds (half an interval at 10 TPS), and never more
than half an interval at any rate (:attr:`RateLimiter.max_margin_s`): wider would cost
more than a third of the rate, and no network jitter seen comes near it."""

MARGIN_WIDEN_S = 0.002
"""Seconds added to the margin by each spike arrest."""

MARGIN_NARROW_S = 0.000002
"""Seconds taken off the margin by each request sent. With :data:`MARGIN_WIDEN_S` it sets
where the margin settles: there the arrests make up for the narrowing, one arrest per
``MARGIN_WIDEN_S / MARGIN_NARROW_S`` = 1,000 requests (0.1%). Under uniform jitter of
``J`` seconds two arrivals are ``spacing + j2 - j1`` apart, so a margin ``m`` is arrested
with probability ``(J - m)^2 / (2 J^2)``; 0.1% is reached at ``m = 0.955 J`` (9.6 ms
for 10 ms of jitter: 91% of the limit)."""

MAX_HOLD_S = 300.0
"""The longest hold, in seconds, that a ``Retry-After`` can ask. A hold stops every
request of every process sharing the ledger, manual checks too; a longer one is more
likely a wrong header (a proxy's, a date from a skewed clock) than USCIS's intent, and
after 5 minutes the next request simply asks again (one request of the quota)."""

SPIN_S = 0.002
"""Seconds before a send slot in which :func:`precise_sleep` yields to the event loop in
a loop instead of sleeping: an asyncio sleep wakes up to a millisecond late (the
selector's timeout is in whole milliseconds), more on a busy loop."""

WAKE_NOISE_S = 0.0003
"""Seconds of lateness after a wait that count as the wait's own noise (a send this late
is recorded as if on time, so the next one may come this much closer)."""

log = logging.getLogger(__name__)

WRITE_ALLOWANCE_S = 0.0015
"""Seconds between a request's claim and httpcore's report that it was written that are
forgiven before the next send is spaced from the report instead (see
:meth:`RateLimiter.mark_written`): httpcore reports a write about 0.9 ms after it (p90
1.7 ms, measured over 200 requests; ``docs/benchmarks.md``), as anyio lets the event loop
run other work first. A transport that reports the write as it happens (the in-process
sandbox) is forgiven nothing."""


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


def _eastern(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, US_EASTERN)


class RateLimiter:
    """Spaces requests at least ``1/tps`` seconds apart, plus a learned margin, and counts
    them per US Eastern day, in a ledger every process sharing the API key shares.

    ``ledger`` is where the ledger lives: a :class:`~pathlib.Path` (a JSON file in the
    user state directory, :class:`~casewatch.uscis.file_ledger.FileLedger`) or a
    :class:`~casewatch.uscis.ledger.LedgerStore` (Redis). ``tps`` is in requests per
    second; ``daily_quota`` in requests per US Eastern day; ``initial_margin_s`` the
    spacing margin (seconds) of a new ledger: :data:`REMOTE_MARGIN_S` (the default) or
    :data:`LOOPBACK_MARGIN_S`, brought within :data:`MIN_MARGIN_S` and
    :attr:`max_margin_s`. Raises ValueError for a ``tps`` or ``daily_quota`` that is not
    above 0, or an ``initial_margin_s`` below 0. ``clock`` gives Unix time in seconds and
    ``sleep`` waits seconds (both injectable).
    """

    def __init__(
        self,
        ledger: Path | LedgerStore,
        *,
        tps: float,
        daily_quota: int,
        initial_margin_s: float = REMOTE_MARGIN_S,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = precise_sleep,
    ) -> None:
        if tps <= 0:
            raise ValueError(f"tps must be above 0 requests per second, got {tps}")
        if daily_quota <= 0:
            raise ValueError(f"daily_quota must be above 0 requests, got {daily_quota}")
        if not initial_margin_s >= 0:
            raise ValueError(f"initial_margin_s must be 0 seconds or more, got {initial_margin_s}")
        self.store = FileLedger(ledger) if isinstance(ledger, Path) else ledger
        self.tps = tps
        self.daily_quota = daily_quota
        self.max_margin_s = max(MIN_MARGIN_S, min(MAX_MARGIN_S, 0.5 / tps))
        self.policy = LedgerPolicy(
            base_interval_s=1.0 / tps,
            daily_quota=daily_quota,
            initial_margin_s=min(self.max_margin_s, max(MIN_MARGIN_S, initial_margin_s)),
            min_margin_s=MIN_MARGIN_S,
            max_margin_s=self.max_margin_s,
            narrow_s=MARGIN_NARROW_S,
            widen_s=MARGIN_WIDEN_S,
            wake_noise_s=WAKE_NOISE_S,
            max_hold_s=MAX_HOLD_S,
        )
        self.initial_margin_s = self.policy.initial_margin_s
        self._clock = clock
        self._sleep = sleep
        # Sends of the last RATE_WINDOW_S seconds, for current_rate(): spaced 1/tps apart,
        # no more than this fit in the window, so older ones fall off even when nobody
        # asks for the rate (casewatch refresh, check).
        self._recent: deque[float] = deque(maxlen=math.ceil(tps * RATE_WINDOW_S) + 1)
        # The ledger's margin as this process last read it (claim_send spaces by it
        # without reading the state: it is at most one reservation old).
        self._margin_s = self.initial_margin_s
        self._claim_queue: asyncio.Lock | None = None

    @property
    def interval_s(self) -> float:
        """Seconds between two sends: 1/TPS plus :attr:`margin_s`."""
        return 1.0 / self.tps + self._margin_s

    @property
    def margin_s(self) -> float:
        """The learned spacing margin in seconds, as this process last read the ledger."""
        return self._margin_s

    def record_spike_arrest(self) -> None:
        """USCIS answered "Spike Arrest Violation": widen the shared spacing margin by
        :data:`MARGIN_WIDEN_S` seconds, for every process sharing the ledger (each
        request sent narrows it again by :data:`MARGIN_NARROW_S`, down to
        :data:`MIN_MARGIN_S`). Source: ``uscis-api.md``, "More facts gathered later"
        (the spike arrest judges arrival times; the spacing learns from its arrests).
        Raises :class:`LedgerError`."""
        self._margin_s = self.store.widen(self.policy, self._clock())

    def hold(self, seconds: float) -> None:
        """USCIS asked, with ``Retry-After``, that nothing be sent for ``seconds``
        (seconds, capped at :data:`MAX_HOLD_S`): no request of any process sharing the
        ledger is sent before then (:meth:`take_slot` waits), and :meth:`usage` says
        until when. A shorter hold never cuts a longer one. Raises :class:`LedgerError`."""
        self.store.hold(self.policy, seconds, self._clock())

    def usage(self) -> QuotaUsage:
        """Today's count (US Eastern) as every process on the machine sees it, and the
        hold USCIS asked for, if one still runs."""
        now = self._clock()
        return self._usage_from(self.store.read(now), now)

    def _usage_from(self, state: LedgerState, now: float) -> QuotaUsage:
        today = eastern_day(now)
        used = state.get("used") if state.get("day") == today.isoformat() else 0
        hold_until = number(state, "hold_until")
        arrest, retry_after = (
            number(state, "last_spike_arrest"),
            number(state, "last_retry_after"),
        )
        return QuotaUsage(
            day=today,
            used=used if isinstance(used, int) else 0,
            daily_quota=self.daily_quota,
            resets_at=quota_reset_at(today),
            held_until=(
                datetime.fromtimestamp(hold_until, US_EASTERN)
                if hold_until is not None and hold_until > now
                else None
            ),
            last_spike_arrest=_eastern(arrest),
            last_retry_after=_eastern(retry_after),
            last_retry_after_s=number(state, "last_retry_after_s"),
        )

    def _reserve(self) -> float:
        now = self._clock()
        day = eastern_day(now)
        kept = kept_reserve()
        reservation = self.store.reserve(self.policy, day.isoformat(), kept, now)
        self._margin_s = reservation.margin_s
        if reservation.slot is not None:
            return reservation.slot
        usage = QuotaUsage(day, reservation.used, self.daily_quota, quota_reset_at(day))
        if usage.remaining > 0:
            raise QuotaReserved(
                f"{usage.remaining:,} requests are left today and kept for manual checks "
                f"(press r, or run casewatch check); automatic refreshes resume at "
                f"{usage.resets_at:%H:%M} US Eastern"
            )
        raise QuotaExhausted(
            f"{usage.used} of {usage.daily_quota} requests used on {usage.day} "
            f"(US Eastern); requests resume at {usage.resets_at:%Y-%m-%d %H:%M %Z}"
        )

    def _held_until(self) -> float:
        return number(self.store.read(self._clock()), "hold_until") or 0.0

    def _claim_send(self) -> float:
        # 0 when the spacing since the last send of any process holds (this send is then
        # recorded as the last one), else the seconds still to wait. Up to WAKE_NOISE_S
        # of lateness is forgiven, so the wake-up noise of waits does not add up and push
        # every later send back.
        now = self._clock()
        delay = self.store.claim_send(self.policy, self.interval_s, now)
        if delay <= 0:
            self._recent.append(now)
        return delay

    def mark_written(self, allowance_s: float = WRITE_ALLOWANCE_S) -> None:
        """The request claimed last has just been reported written to the network,
        ``allowance_s`` seconds at most after the write itself (:data:`WRITE_ALLOWANCE_S`
        for httpcore's report, 0 for a transport that reports the write as it happens).
        When the report came later than that after its claim (the event loop was busy in
        between, or the process was paused), the spacing to the next send counts from
        the report less ``allowance_s``, not from the claim. Raises :class:`LedgerError`."""
        self.store.mark_written(allowance_s, self._clock())

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

        Slots are reserved in order, so concurrent requests queue up without racing. No
        slot comes before a hold USCIS asked for (:meth:`hold`), even one recorded while
        this request waited. Each reservation narrows the spacing margin by
        :data:`MARGIN_NARROW_S`. Raises :class:`QuotaExhausted` (nothing counted),
        :class:`QuotaReserved` inside :func:`keeping_reserve`, and :class:`LedgerError`.
        """
        slot = await asyncio.to_thread(self._reserve)
        while (delay := slot - self._clock()) > 0:
            await self._sleep(delay)
            # A Retry-After that came in while this request waited holds it too.
            slot = self._held_until()

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
            while (delay := self._claim_send()) > 0:
                await self._sleep(delay)

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
