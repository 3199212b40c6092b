"""Opening the watchlist a command or the dashboard works on: the file the settings
name (:attr:`casewatch.config.Settings.watchlist_path`), read whole or its first cases,
and on the first demo run the 50 staging receipts of the USCIS sandbox, seeded and
saved.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from casewatch.cases import US_EASTERN
from casewatch.receipts import parse_receipt_number
from casewatch.watchlist.store import Watchlist

if TYPE_CHECKING:
    from casewatch.config import Settings


def open_watchlist(
    settings: Settings, clock: Callable[[], float] = time.time, *, first: int | None = None
) -> Watchlist:
    """Load the watchlist of ``settings``: with ``first``, only its first ``first``
    cases when it holds more (:meth:`Watchlist.load_first`; the dashboard reads the
    rest once they show). The first demo run, finding no file, seeds it with the 50
    staging receipts of the USCIS sandbox and saves it.

    Raises :class:`WatchlistError` for a file that cannot be read, :class:`OSError` when
    the seeded file cannot be written.
    """
    path = settings.watchlist_path
    watchlist = Watchlist.load(path) if first is None else Watchlist.load_first(path, first)
    if settings.environment.name == "demo" and not path.exists():
        from casewatch.sandbox import STAGING_RECEIPTS, STAGING_RECEIPTS_WITH_HISTORY

        added_at = datetime.fromtimestamp(clock(), US_EASTERN)
        for receipt in STAGING_RECEIPTS:
            label = "with history" if receipt in STAGING_RECEIPTS_WITH_HISTORY else "no history"
            watchlist.add(parse_receipt_number(receipt), label=label, added_at=added_at)
        watchlist.save()
    return watchlist
