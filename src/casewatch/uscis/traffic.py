"""A local log of USCIS sandbox traffic, for the portal's production-access checklist.

The portal asks for at least 5 consecutive calendar days of sandbox traffic with both
success (200) and client-error (4xx) responses (``uscis-api.md``, "Production
access"). The log holds US Eastern dates, status codes and counts: never a receipt
number, a token or a secret.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from filelock import FileLock

from casewatch.files import atomic_write_text
from casewatch.uscis.quota import eastern_day


@dataclass(frozen=True, slots=True)
class TrafficSummary:
    """What the log says: per US Eastern date, the count of each HTTP status."""

    days: dict[date, dict[int, int]]

    def count(self, predicate: Callable[[int], bool]) -> int:
        """Responses whose status satisfies ``predicate``, over all days."""
        return sum(n for day in self.days.values() for s, n in day.items() if predicate(s))

    def longest_run(self) -> tuple[date, date] | None:
        """The first and last date of the longest run of consecutive days with traffic."""
        runs: list[tuple[date, date]] = []
        for day in sorted(self.days):
            if runs and day - runs[-1][1] == timedelta(days=1):
                runs[-1] = (runs[-1][0], day)
            else:
                runs.append((day, day))
        return max(runs, key=lambda run: run[1] - run[0], default=None)


class TrafficLog:
    """Counts sandbox responses per US Eastern date in a JSON file, under a file lock
    shared by every casewatch process. ``clock`` gives Unix time in seconds."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        self._lock = FileLock(path.with_name(path.name + ".lock"), timeout=10)

    def _read(self) -> dict[str, dict[str, int]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def record(self, status: int) -> None:
        """Count one response with HTTP ``status`` today (US Eastern).

        Raises :class:`OSError` when the log cannot be written, and
        :class:`filelock.Timeout` when another process holds its lock for 10 seconds.
        """
        today = eastern_day(self._clock()).isoformat()
        with self._lock:
            data = self._read()
            day = data.setdefault(today, {})
            day[str(status)] = day.get(str(status), 0) + 1
            atomic_write_text(self.path, json.dumps(data, sort_keys=True))

    def summary(self) -> TrafficSummary:
        """The log's content; entries that do not parse are skipped. Never raises."""
        days: dict[date, dict[int, int]] = {}
        for day, counts in self._read().items():
            try:
                parsed = date.fromisoformat(day)
                days[parsed] = {int(status): int(n) for status, n in counts.items()}
            except (ValueError, TypeError, AttributeError):
                continue
        return TrafficSummary(days)
