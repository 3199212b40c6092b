"""What one sandbox app remembers (``app.state.sandbox``): its tokens, the spike arrest
and the daily quota, the cases that moved, the evolve task and the counters of
``GET /__sandbox/stats``. Two apps in one process share nothing."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from starlette.requests import Request
from starlette.types import Scope

from casewatch.sandbox.config import FAULT_KINDS, SandboxConfig
from casewatch.sandbox.data import STAGING_RECEIPTS, advance_case, find_case, is_final
from casewatch.sandbox.responses import SPIKE_ARREST
from casewatch.uscis.hours import US_EASTERN, sandbox_open

ARRIVAL_KEY = "casewatch.sandbox.arrival"
"""Scope key of a request's arrival: the sandbox clock's time (seconds since the epoch)
when the server received the request's first bytes (set by ``server``'s protocol), or,
in-process, when the client handed the request to ``transport.InProcessTransport``. An
app served without it (``httpx.ASGITransport``) reads the clock when the handler runs."""

CLOCK_TOLERANCE_S = 1e-6
"""Slack for float rounding of epoch seconds (about 0.24 µs today), so that requests
exactly ``1 / tps`` apart pass the spike arrest."""


@dataclass
class SandboxState:
    """Everything one sandbox app remembers; times are ``clock`` seconds.

    ``moved`` holds the current payload of every case that moved (receipt -> payload) and
    ``steps`` how many times each moved; ``seen`` the synthetic receipts answered so far
    (an ordered set), which ``evolve_s`` may move too.
    """

    config: SandboxConfig
    latency: random.Random
    jitter: random.Random
    fault_draws: random.Random
    evolve_draws: random.Random
    moved: dict[str, dict[str, Any]] = field(default_factory=dict)
    steps: Counter[str] = field(default_factory=Counter)
    seen: dict[str, None] = field(default_factory=dict)
    advances: int = 0
    evolver: asyncio.Task[None] | None = None
    tokens: dict[str, float] = field(default_factory=dict)  # access token -> expiry (s)
    last_accepted: float | None = None
    quota_day: date | None = None
    quota_used: int = 0
    last_second: deque[float] = field(default_factory=deque)  # accepted in the last second
    requests: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    spike_arrests: int = 0
    tokens_issued: int = 0
    max_requests_per_second: int = 0
    faults: Counter[str] = field(default_factory=Counter)

    def arrival(self, scope: Scope) -> float:
        """When the spike arrest sees a request arrive (``clock`` seconds): when its first
        bytes reached the server (``ARRIVAL_KEY``; the clock now when not served over a
        socket), plus a draw of ``config.jitter_ms`` from the jitter stream."""
        arrived = scope.get(ARRIVAL_KEY)
        now = arrived if isinstance(arrived, float) else self.config.clock()
        if self.config.jitter_ms > 0:
            now += self.jitter.uniform(0, self.config.jitter_ms) / 1000
        return now

    def is_open(self, now: float) -> bool:
        """Whether requests are answered at ``now`` (always, unless ``config.hours``)."""
        return not self.config.hours or sandbox_open(datetime.fromtimestamp(now, US_EASTERN))

    def draw_fault(self) -> str | None:
        """One draw from the fault stream: the fault to inject, or ``None``.

        Exactly one number is drawn per call when faults are configured (none otherwise),
        so with a seed the sequence of faults depends only on how many requests drew.
        """
        if not self.config.faults:
            return None
        draw = self.fault_draws.random()
        bound = 0.0
        for kind in FAULT_KINDS:
            bound += self.config.faults.get(kind, 0.0)
            if draw < bound:
                return kind
        return None

    def token_is_valid(self, authorization: str | None, now: float) -> bool:
        """Whether ``authorization`` is ``Bearer <token>`` for a live token."""
        scheme, _, token = (authorization or "").partition(" ")
        expiry = self.tokens.get(token.strip())
        return scheme.lower() == "bearer" and expiry is not None and now < expiry

    def case(self, receipt: str) -> dict[str, Any] | None:
        """The current payload of a well-formed ``receipt`` (moved or as generated), or
        ``None`` if the sandbox does not know it."""
        moved = self.moved.get(receipt)
        if moved is not None:
            return moved
        case = find_case(receipt, synthetic=self.config.synthetic)
        if case is not None and self.config.synthetic:
            self.seen[receipt] = None
        return case

    def advance(self, receipt: str) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        """Move a well-formed ``receipt`` to a plausible next status (``data.advance_case``),
        dated by ``clock`` in US Eastern time.

        Returns ``None`` for an unknown receipt, else the payloads before and after the
        move; after is ``None`` when the case is final (nothing changes then).
        """
        before = self.case(receipt)
        if before is None:
            return None
        now = datetime.fromtimestamp(self.config.clock(), US_EASTERN).replace(tzinfo=None)
        after = advance_case(before, step=self.steps[receipt], now=now)
        if after is not None:
            self.moved[receipt] = after
            self.steps[receipt] += 1
            self.advances += 1
        return before, after

    def evolve_once(self) -> str | None:
        """Move one random non-final known case (drawn from the evolve stream); return its
        receipt, or ``None`` when every known case is final.

        Known cases are the staging receipts then the ``seen`` synthetic ones, in that
        order, so with a seed the same sequence of calls moves the same cases.
        """
        known = [*STAGING_RECEIPTS, *(r for r in self.seen if r not in STAGING_RECEIPTS)]
        movable = [r for r in known if (case := self.case(r)) is not None and not is_final(case)]
        if not movable:
            return None
        receipt = self.evolve_draws.choice(movable)
        self.advance(receipt)
        return receipt

    async def _evolve(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            self.evolve_once()

    def start_evolving(self) -> None:
        """Start the evolve task on the running event loop, unless ``evolve_s`` is unset or
        it already runs there (a task of a closed loop is replaced)."""
        if self.config.evolve_s is None:
            return
        loop = asyncio.get_running_loop()
        if self.evolver is not None and not self.evolver.done():
            if self.evolver.get_loop() is loop:
                return
            self.evolver.cancel()
        self.evolver = loop.create_task(
            self._evolve(self.config.evolve_s), name="casewatch-sandbox-evolve"
        )

    async def stop_evolving(self) -> None:
        """Cancel the evolve task, if any, and wait for it to end."""
        task, self.evolver = self.evolver, None
        if task is None or task.done():
            return
        task.cancel()
        if task.get_loop() is asyncio.get_running_loop():
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def admit(self, now: float) -> str | None:
        """Apply spike arrest then the daily quota; the 429 message, or ``None`` if accepted.

        Only accepted requests move the spike arrest window and count against the quota.
        """
        interval = 1 / self.config.tps
        if (
            self.last_accepted is not None
            and now - self.last_accepted < interval - CLOCK_TOLERANCE_S
        ):
            self.spike_arrests += 1
            return SPIKE_ARREST
        today = datetime.fromtimestamp(now, US_EASTERN).date()
        if today != self.quota_day:
            self.quota_day, self.quota_used = today, 0
        if self.quota_used >= self.config.daily_quota:
            return (
                f"Quota Exceeded. The daily quota of {self.config.daily_quota} requests for the "
                "Case Status API has been reached; it resets at midnight US Eastern."
            )
        self.quota_used += 1
        self.last_accepted = now
        self.last_second.append(now)
        while now - self.last_second[0] >= 1 - CLOCK_TOLERANCE_S:
            self.last_second.popleft()
        self.max_requests_per_second = max(self.max_requests_per_second, len(self.last_second))
        return None


def state_of(request: Request) -> SandboxState:
    state: SandboxState = request.app.state.sandbox
    return state
