"""What the dashboard's workers and its watchlist sync tell the screen (messages up):
a case recorded or changed, a pass or a check ended, the file saved or read with what
other processes wrote, a save or a read that failed, the refresher lease taken."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from textual.message import Message

from casewatch.refresh import RefreshProgress
from casewatch.watchlist import ChangeEvent, Changes, WatchedCase


@dataclass
class CaseUpdated(Message):
    """An answer or an error of USCIS was recorded for ``case`` (its row shows it)."""

    case: WatchedCase


@dataclass
class CaseChanged(Message):
    """``event`` changed ``case`` (its first status included: ``event.first``)."""

    case: WatchedCase
    event: ChangeEvent


@dataclass
class RefreshEnded(Message):
    """A pass (``kind`` "refresh") or a check of chosen cases ("check") ended, at
    ``started`` (US Eastern) for a pass; ``progress`` is None when it failed before its
    end (the worker's error says why). ``quiet_try``: a pass of one case while USCIS
    was unreachable."""

    kind: Literal["refresh", "check"]
    progress: RefreshProgress | None
    started: datetime | None = None
    quiet_try: bool = False


@dataclass
class WatchlistSynced(Message):
    """A save or a reload brought ``changes`` from other processes (case key to the
    case before, None for a case that came)."""

    changes: Changes


@dataclass
class SaveProblem(Message):
    """Saving or reading the watchlist, or taking its refresher lease, failed with a new
    problem (said once): ``message`` under ``title``; or saving works again
    (``title`` "Saved", ``severity`` "information")."""

    title: str
    message: str
    severity: Literal["information", "error"] = "error"


@dataclass
class LeaseTaken(Message):
    """This process now refreshes the watchlist (it holds the refresher lease)."""


@dataclass
class WatchlistRead(Message):
    """The whole watchlist file was read (:attr:`Watchlist.unread` is 0)."""
