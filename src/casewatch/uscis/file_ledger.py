"""The request ledger in a file of the user state directory: shared by every casewatch
process of one machine (the default store, :mod:`casewatch.uscis.ledger`).

The state is one JSON object (:class:`~casewatch.uscis.ledger.LedgerState`) in
``state_path``, replaced atomically under a file lock. The last send of any process is
kept apart, in an 8-byte record with a lock of its own (``_SendRecord``), so a send is
never claimed late because a reservation holds the ledger's lock while it writes the
JSON state.
"""

from __future__ import annotations

import json
import logging
import os
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from filelock import FileLock, Timeout

from casewatch.files import atomic_write_text
from casewatch.uscis.ledger import LedgerError, LedgerPolicy, LedgerState, Reservation, number

LOCK_POLL_S = 0.001
"""Seconds between two tries for the ledger's lock (filelock's default, 50 ms, would
hold a send back by half a request interval)."""

LOCK_TIMEOUT_S = 10.0
"""Seconds another process may hold a lock before the ledger counts as unusable."""

log = logging.getLogger(__name__)

_T = TypeVar("_T")


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


class FileLedger:
    """The ledger in ``state_path`` (JSON) and ``state_path.send`` (the last send), each
    under a file lock (:class:`~casewatch.uscis.ledger.LedgerStore`). Creates no file
    until something is recorded."""

    def __init__(self, state_path: Path) -> None:
        self.state_path = state_path
        self.where = str(state_path)
        self._lock = FileLock(
            state_path.with_name(state_path.name + ".lock"),
            timeout=LOCK_TIMEOUT_S,
            poll_interval=LOCK_POLL_S,
        )
        self._send_path = state_path.with_name(state_path.name + ".send")
        self._send_lock = FileLock(
            self._send_path.with_name(self._send_path.name + ".lock"),
            timeout=LOCK_TIMEOUT_S,
            poll_interval=LOCK_POLL_S,
        )

    def _guarded(self, step: Callable[[], _T]) -> _T:
        try:
            return step()
        except (OSError, Timeout) as exc:
            raise LedgerError(f"cannot use the request ledger {self.state_path}: {exc}") from None

    def _read(self) -> LedgerState:
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
        return data if isinstance(data, dict) else {}  # type: ignore[return-value]

    def _write(self, state: LedgerState) -> None:
        atomic_write_text(self.state_path, json.dumps(state))

    def read(self, now: float) -> LedgerState:
        """The state as the file holds it (see :class:`LedgerStore`)."""
        return self._guarded(self._read)

    def reserve(self, policy: LedgerPolicy, day: str, kept: int, now: float) -> Reservation:
        """See :meth:`LedgerStore.reserve`."""

        def step() -> Reservation:
            with self._lock:
                state = self._read()
                counted = state.get("used") if state.get("day") == day else 0
                used = counted if isinstance(counted, int) else 0
                margin = policy.margin_of(state)
                left = policy.daily_quota - used
                if left <= 0 or (kept and left <= kept):
                    return Reservation(None, used, margin)
                slot = max(
                    now, number(state, "next_slot") or now, number(state, "hold_until") or now
                )
                margin = policy.bounded(margin - policy.narrow_s)
                state["day"], state["used"] = day, used + 1
                state["spacing_margin_s"] = margin
                state["next_slot"] = slot + policy.base_interval_s + margin
                self._write(state)
                return Reservation(slot, used + 1, margin)

        return self._guarded(step)

    @contextmanager
    def _send_record(self) -> Iterator[_SendRecord]:
        # An 8-byte float in a file of its own, rewritten in place (a temporary file and
        # a rename would cost a tenth of a millisecond more between the spacing check and
        # the send).
        with self._send_lock:
            fd = os.open(self._send_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                yield _SendRecord(fd)
            finally:
                os.close(fd)

    def claim_send(self, policy: LedgerPolicy, interval_s: float, now: float) -> float:
        """See :meth:`LedgerStore.claim_send`."""

        def step() -> float:
            with self._send_record() as record:
                last_send = record.read()
                earliest = now if last_send is None else last_send + interval_s
                if now < earliest:
                    return earliest - now
                record.write(max(earliest, now - policy.wake_noise_s))
                return 0.0

        return self._guarded(step)

    def mark_written(self, allowance_s: float, now: float) -> None:
        """See :meth:`LedgerStore.mark_written`."""

        def step() -> None:
            with self._send_record() as record:
                written = now - allowance_s
                last_send = record.read()
                if last_send is None or last_send < written:
                    record.write(written)

        self._guarded(step)

    def widen(self, policy: LedgerPolicy, now: float) -> float:
        """See :meth:`LedgerStore.widen`."""

        def step() -> float:
            with self._lock:
                state = self._read()
                margin = policy.bounded(policy.margin_of(state) + policy.widen_s)
                state["spacing_margin_s"], state["last_spike_arrest"] = margin, now
                self._write(state)
                return margin

        return self._guarded(step)

    def hold(self, policy: LedgerPolicy, seconds: float, now: float) -> None:
        """See :meth:`LedgerStore.hold`."""

        def step() -> None:
            with self._lock:
                state = self._read()
                until = now + min(seconds, policy.max_hold_s)
                if until > (number(state, "hold_until") or 0.0):
                    state["hold_until"] = until
                state["last_retry_after"], state["last_retry_after_s"] = now, seconds
                self._write(state)

        self._guarded(step)
