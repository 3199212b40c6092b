"""The TOML watchlist: the cases a user watches and what USCIS last said of each.

One file per environment (see :func:`casewatch.config.default_watchlist_path`), shared
by every casewatch process that uses it and editable by hand. Where things live:

- :mod:`~casewatch.watchlist.model`: a watched case and its change events;
- :mod:`~casewatch.watchlist.toml`: the schema, its migrations, a case as TOML and back;
- :mod:`~casewatch.watchlist.reading`: reading a file, whole or split at its cases;
- :mod:`~casewatch.watchlist.merge`: the three-way merge of what two processes wrote;
- :mod:`~casewatch.watchlist.store`: :class:`Watchlist`, its locked, atomic saves and
  backups, and :func:`open_watchlist`.
"""

from casewatch.watchlist.merge import merge_cases, merge_events
from casewatch.watchlist.model import (
    ChangeEvent,
    DuplicateReceipt,
    WatchedCase,
    WatchlistError,
    detect_change,
    one_line_label,
)
from casewatch.watchlist.reading import backup_path, parse_watchlist
from casewatch.watchlist.store import Changes, Watchlist, open_watchlist
from casewatch.watchlist.toml import SCHEMA_VERSION, case_text, watchlist_text

__all__ = [
    "SCHEMA_VERSION",
    "ChangeEvent",
    "Changes",
    "DuplicateReceipt",
    "WatchedCase",
    "Watchlist",
    "WatchlistError",
    "backup_path",
    "case_text",
    "detect_change",
    "merge_cases",
    "merge_events",
    "one_line_label",
    "open_watchlist",
    "parse_watchlist",
    "watchlist_text",
]
