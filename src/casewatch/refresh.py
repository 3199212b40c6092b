"""The refresher: the one thing that asks USCIS, and what it does with the answers.

A pass sends the receipts through a small pool of workers, so requests are pipelined:
while one waits for USCIS, the next is already spaced and sent, and N receipts take
about N/TPS seconds whatever the latency. Answers are recorded in the watchlist, which
is saved (merged with what other processes wrote) at most every :data:`SAVE_EVERY_S`
seconds and at the end.

Several processes may watch one watchlist; only the one holding its
:class:`RefresherLease` refreshes automatically, so the work and the alerts are not
doubled. The others follow the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from filelock import FileLock, Timeout

from casewatch.cases import US_EASTERN, CaseStatus
from casewatch.receipts import ReceiptNumber
from casewatch.uscis.client import CaseStatusClient
from casewatch.uscis.errors import (
    AuthenticationError,
    NetworkError,
    QuotaExhausted,
    ServiceUnavailable,
    TokenUnanswered,
    USCISError,
)
from casewatch.uscis.ledger import LedgerError
from casewatch.uscis.quota import keeping_reserve
from casewatch.watchlist import ChangeEvent, WatchedCase, Watchlist, WatchlistError

SAVE_EVERY_S = 5.0
"""Seconds between two saves of the watchlist during a long pass."""

IN_FLIGHT_S = 2.0
"""Seconds of USCIS latency the worker pool is sized to hide (workers = TPS x this)."""

QUOTA_RESERVE_FRACTION = 0.02
"""Share of the daily quota that automatic refreshes leave for manual checks."""

OUTAGE_RETRY_FIRST_S = 60.0
"""Seconds from a pass that found USCIS unreachable to the first quiet try; each try
that fails doubles it, up to the refresh interval."""

UNREACHABLE = (NetworkError, ServiceUnavailable)
"""The errors that say USCIS cannot be reached (the network, a proxy, USCIS down or
closed), not that something is wrong with a case."""


def pool_size(tps: float, jobs: int) -> int:
    """How many requests to keep in flight: enough to hide :data:`IN_FLIGHT_S` seconds
    of latency at ``tps`` requests per second, at most ``jobs``, at least 1."""
    return max(1, min(jobs, math.ceil(tps * IN_FLIGHT_S)))


def quota_reserve(daily_quota: int) -> int:
    """Requests per US Eastern day that automatic refreshes never spend:
    :data:`QUOTA_RESERVE_FRACTION` of ``daily_quota``, at least 1."""
    return max(1, math.ceil(daily_quota * QUOTA_RESERVE_FRACTION))


@dataclass(slots=True)
class RefreshProgress:
    """How far the current pass is: ``done`` of ``total`` receipts, ``failed`` of them,
    ``unreachable`` of those failed with an :data:`UNREACHABLE` error, ``changed`` of
    them (first statuses of new cases not counted)."""

    total: int
    done: int = 0
    failed: int = 0
    changed: int = 0
    stopped_by: USCISError | LedgerError | None = field(default=None)
    unreachable: int = 0

    @property
    def all_unreachable(self) -> bool:
        """Every request of the pass found USCIS unreachable (and at least one was made):
        the network or USCIS is down, not these cases."""
        return self.done > 0 and self.unreachable == self.done


@dataclass(slots=True)
class Outage:
    """USCIS unreachable since ``since`` (an aware datetime: when the first pass that
    found it so started); ``tries`` passes have failed so far."""

    since: datetime
    tries: int = 1

    def retry_after_s(self, interval_s: float) -> float:
        """Seconds to the next quiet try: :data:`OUTAGE_RETRY_FIRST_S` (1 minute), doubled
        for each failed try after the first (2, 4, 8 ... minutes), at most ``interval_s``
        (the refresh interval, seconds)."""
        return min(OUTAGE_RETRY_FIRST_S * 2.0 ** (self.tries - 1), interval_s)


class RefreshInProgress(RuntimeError):
    """A refresh pass is already running; two never run at once."""


class Refresher:
    """Refreshes cases of a :class:`Watchlist` through a :class:`CaseStatusClient`.

    ``on_case`` is called (in the event loop) with each case as soon as its answer or
    error is recorded, ``on_change`` with the case and its :class:`ChangeEvent` when the
    answer changed the case (the first status of a new case included: check
    ``event.first`` before alerting); ``clock`` gives Unix time in seconds; ``save``
    saves the watchlist (default: :meth:`Watchlist.save_async`, whose errors end the
    pass; the dashboard gives its own, which reports them and retries).
    """

    def __init__(
        self,
        client: CaseStatusClient,
        watchlist: Watchlist,
        *,
        on_case: Callable[[WatchedCase], None] = lambda case: None,
        on_change: Callable[[WatchedCase, ChangeEvent], None] = lambda case, event: None,
        clock: Callable[[], float] = time.time,
        save: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.client = client
        self.watchlist = watchlist
        self.on_case = on_case
        self.on_change = on_change
        self._clock = clock
        self._save_watchlist = save or watchlist.save_async
        self._running = asyncio.Lock()
        self.progress: RefreshProgress | None = None
        self._last_save = 0.0

    @property
    def running(self) -> bool:
        """True while a pass is under way."""
        return self._running.locked()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), US_EASTERN)

    async def refresh(
        self,
        receipts: Iterable[ReceiptNumber] | None = None,
        *,
        keep_reserve: bool = True,
        wait: bool = False,
    ) -> RefreshProgress:
        """One pass over ``receipts`` (every watched case when None).

        Records each answer or error in the watchlist and saves it. A spent quota,
        refused credentials, a token URL that gives no answer within the request
        deadline or an unusable request ledger stop the pass (``progress.stopped_by``):
        no further request can succeed. With
        ``keep_reserve`` the pass also stops with
        :class:`~casewatch.uscis.limits.QuotaReserved` when only :func:`quota_reserve`
        requests are left today (they are kept for :meth:`check`). With ``wait`` a pass
        already running is waited for; without, raises :class:`RefreshInProgress`.
        Raises what ``save`` raises at the end of the pass (by default :class:`OSError`
        when the watchlist cannot be written, :class:`WatchlistError` when the file no
        longer parses).
        """
        if self._running.locked() and not wait:
            raise RefreshInProgress("a refresh is already running")
        async with self._running:
            queue: asyncio.Queue[ReceiptNumber] = asyncio.Queue()
            if receipts is None:
                receipts = [case.receipt_number for case in self.watchlist.cases.values()]
            for receipt in receipts:
                queue.put_nowait(receipt)
            progress = self.progress = RefreshProgress(total=queue.qsize())
            self._last_save = self._clock()
            reserve = quota_reserve(self.client.limiter.daily_quota) if keep_reserve else 0
            async with asyncio.TaskGroup() as group:
                for _ in range(pool_size(self.client.limiter.tps, queue.qsize())):
                    group.create_task(self._work(queue, progress, reserve))
            await self._save()
            return progress

    async def _work(
        self, queue: asyncio.Queue[ReceiptNumber], progress: RefreshProgress, reserve: int
    ) -> None:
        while progress.stopped_by is None and not queue.empty():
            receipt = queue.get_nowait()
            if (answer := await self._ask(receipt, progress, reserve)) is None:
                return
            self._record(receipt, answer, progress)
            if self._clock() - self._last_save >= SAVE_EVERY_S:
                with contextlib.suppress(OSError, WatchlistError):  # the last save reports it
                    await self._save()

    async def _ask(
        self, receipt: ReceiptNumber, progress: RefreshProgress, reserve: int
    ) -> CaseStatus | USCISError | None:
        # USCIS's answer or error for one case; None (the reason in progress.stopped_by)
        # when no further request can succeed.
        try:
            with keeping_reserve(reserve):
                return await self.client.get_case_status(receipt)
        except (QuotaExhausted, AuthenticationError, TokenUnanswered, LedgerError) as exc:
            progress.stopped_by = exc
            return None
        except USCISError as exc:
            return exc

    def _record(
        self, receipt: ReceiptNumber, answer: CaseStatus | USCISError, progress: RefreshProgress
    ) -> None:
        progress.done += 1
        if receipt.value not in self.watchlist.cases:
            return  # removed while its answer was on the way
        if isinstance(answer, USCISError):
            case, event = self.watchlist.record_error(receipt, str(answer), self._now()), None
            progress.failed += 1
            progress.unreachable += isinstance(answer, UNREACHABLE)
        else:
            case, event = self.watchlist.record_status(receipt, answer, self._now())
        self.on_case(case)
        if event is not None:
            progress.changed += 0 if event.first else 1
            self.on_change(case, event)

    async def check(self, receipt: ReceiptNumber) -> RefreshProgress:
        """Check one case now, also while a pass runs: a manual check, which may spend
        the reserve that passes keep. Records and saves like a pass; a spent quota,
        refused credentials or an unusable ledger are in ``stopped_by``. Raises what
        ``save`` raises."""
        progress = RefreshProgress(total=1)
        if (answer := await self._ask(receipt, progress, reserve=0)) is not None:
            self._record(receipt, answer, progress)
            await self._save()
        return progress

    async def _save(self) -> None:
        self._last_save = self._clock()
        await self._save_watchlist()


class RefresherLease:
    """The right to refresh the watchlist at ``watchlist_path`` automatically.

    A non-blocking lock on ``<watchlist>.refresher.lock``, holding the holder's process
    id. The operating system drops it when the holder exits, even by ``kill -9``; the
    next process that asks takes it over. Manual checks need no lease.
    """

    def __init__(self, watchlist_path: Path) -> None:
        self.path = watchlist_path.with_name(watchlist_path.name + ".refresher.lock")
        self._lock = FileLock(self.path, timeout=0, thread_local=False, on_acquired=_write_pid)

    @property
    def held(self) -> bool:
        """True while this process holds the lease."""
        return self._lock.is_locked

    def try_take(self) -> bool:
        """Take the lease if no other process holds it; True when this process holds it.

        Never waits. Raises :class:`OSError` when the lock file cannot be created.
        """
        if self.held:
            return True
        try:
            self._lock.acquire()
        except Timeout:
            return False
        return True

    def release(self) -> None:
        """Give the lease up (another process takes it on its next try)."""
        if self.held:
            self._lock.release()

    def holder(self) -> int | None:
        """The process id of the holder as it wrote it, or None when unknown."""
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            return None
        return int(text) if text.isdigit() else None


def _write_pid(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
