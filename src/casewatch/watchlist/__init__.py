"""The TOML watchlist: the cases a user watches and what USCIS last said of each.

One file per environment (see :func:`casewatch.config.default_watchlist_path`), shared
by every casewatch process that uses it and editable by hand. Where things live:

- :mod:`~casewatch.watchlist.model`: a watched case and its change events;
- :mod:`~casewatch.watchlist.toml`: the schema, its migrations, a case as TOML and back;
- :mod:`~casewatch.watchlist.reading`: reading a file, whole or split at its cases;
- :mod:`~casewatch.watchlist.merge`: the three-way merge of what two processes wrote;
- :mod:`~casewatch.watchlist.store`: :class:`Watchlist` and its locked saves;
- :mod:`~casewatch.watchlist.writing`: a new version of the file written atomically, the
  one before kept as the backup;
- :mod:`~casewatch.watchlist.opening`: :func:`open_watchlist`, the watchlist of the
  settings.
"""

from casewatch.watchlist.merge import merge_cases, merge_events, merge_tags
from casewatch.watchlist.model import (
    CaseDetailError,
    ChangeEvent,
    DuplicateReceipt,
    WatchedCase,
    WatchlistError,
    clean_note,
    clean_tag,
    clean_tags,
    detect_change,
    one_line_label,
    without_tags,
)
from casewatch.watchlist.opening import open_watchlist
from casewatch.watchlist.reading import backup_path, parse_watchlist
from casewatch.watchlist.store import Changes, Watchlist
from casewatch.watchlist.toml import SCHEMA_VERSION, case_text, watchlist_text

__all__ = [
    "SCHEMA_VERSION",
    "CaseDetailError",
    "ChangeEvent",
    "Changes",
    "DuplicateReceipt",
    "WatchedCase",
    "Watchlist",
    "WatchlistError",
    "backup_path",
    "case_text",
    "clean_note",
    "clean_tag",
    "clean_tags",
    "detect_change",
    "merge_cases",
    "merge_events",
    "merge_tags",
    "one_line_label",
    "open_watchlist",
    "parse_watchlist",
    "watchlist_text",
    "without_tags",
]
