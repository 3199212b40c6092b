"""The refresher: the one thing that asks USCIS, and what it does with the answers.

A pass sends the receipts through a small pool of workers, so requests are pipelined:
while one waits for USCIS, the next is already spaced and sent, and N receipts take
about N/TPS seconds whatever the latency. Answers are recorded in the watchlist, which
is saved atomically at most every :data:`SAVE_EVERY_S` seconds and at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from casewatch.cases import US_EASTERN, CaseStatus
from casewatch.files import atomic_write_text
from casewatch.receipts import ReceiptNumber
from casewatch.uscis.client import CaseStatusClient
from casewatch.uscis.errors import AuthenticationError, QuotaExhausted, USCISError
from casewatch.uscis.limits import LedgerError, keeping_reserve
from casewatch.watchlist import ChangeEvent, WatchedCase, Watchlist

SAVE_EVERY_S = 5.0
"""Seconds between two saves of the watchlist during a long pass."""

IN_FLIGHT_S = 2.0
"""Seconds of USCIS latency the worker pool is sized to hide (workers = TPS x this)."""

QUOTA_RESERVE_FRACTION = 0.02
"""Share of the daily quota that automatic refreshes leave for manual checks."""


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
    ``changed`` of them (first statuses of new cases not counted)."""

    total: int
    done: int = 0
    failed: int = 0
    changed: int = 0
    stopped_by: USCISError | LedgerError | None = field(default=None)


class RefreshInProgress(RuntimeError):
    """A refresh pass is already running; two never run at once."""


class Refresher:
    """Refreshes cases of a :class:`Watchlist` through a :class:`CaseStatusClient`.

    ``on_case`` is called (in the event loop) with each case as soon as its answer or
    error is recorded, ``on_change`` with the case and its :class:`ChangeEvent` when the
    answer changed the case (the first status of a new case included: check
    ``event.first`` before alerting); ``clock`` gives Unix time in seconds.
    """

    def __init__(
        self,
        client: CaseStatusClient,
        watchlist: Watchlist,
        *,
        on_case: Callable[[WatchedCase], None] = lambda case: None,
        on_change: Callable[[WatchedCase, ChangeEvent], None] = lambda case, event: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.watchlist = watchlist
        self.on_case = on_case
        self.on_change = on_change
        self._clock = clock
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
        self, receipts: Iterable[ReceiptNumber] | None = None, *, automatic: bool = False
    ) -> RefreshProgress:
        """One pass over ``receipts`` (every watched case when None).

        Records each answer or error in the watchlist and saves it. A spent quota or
        refused credentials or an unusable request ledger stop the pass
        (``progress.stopped_by``): no further request can succeed. An ``automatic``
        pass also stops with :class:`~casewatch.uscis.limits.QuotaReserved` when
        only :func:`quota_reserve` requests are left today. Raises
        :class:`RefreshInProgress` if a pass is already running, and :class:`OSError` if
        the watchlist cannot be saved.
        """
        if self._running.locked():
            raise RefreshInProgress("a refresh is already running")
        async with self._running:
            queue: asyncio.Queue[ReceiptNumber] = asyncio.Queue()
            if receipts is None:
                receipts = [case.receipt_number for case in self.watchlist.cases.values()]
            for receipt in receipts:
                queue.put_nowait(receipt)
            progress = self.progress = RefreshProgress(total=queue.qsize())
            self._last_save = self._clock()
            reserve = quota_reserve(self.client.limiter.daily_quota) if automatic else 0
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
            answer: CaseStatus | USCISError
            try:
                with keeping_reserve(reserve):
                    answer = await self.client.get_case_status(receipt)
            except (QuotaExhausted, AuthenticationError, LedgerError) as exc:
                progress.stopped_by = exc
                return
            except USCISError as exc:
                answer = exc
            progress.done += 1
            if receipt.value not in self.watchlist.cases:
                continue  # removed while its answer was on the way
            if isinstance(answer, USCISError):
                case, event = self.watchlist.record_error(receipt, str(answer), self._now()), None
                progress.failed += 1
            else:
                case, event = self.watchlist.record_status(receipt, answer, self._now())
            self.on_case(case)
            if event is not None:
                progress.changed += 0 if event.first else 1
                self.on_change(case, event)
            if self._clock() - self._last_save >= SAVE_EVERY_S:
                with contextlib.suppress(OSError):  # the save that ends the pass reports it
                    await self._save()

    async def _save(self) -> None:
        self._last_save = self._clock()
        text = self.watchlist.to_toml()  # in the loop: the cases do not change under it
        await asyncio.to_thread(atomic_write_text, self.watchlist.path, text)
