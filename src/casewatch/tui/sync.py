"""The dashboard's watchlist file: saved (merged with what other processes wrote), a
failed save reported once and retried, what other processes or a text editor wrote
taken in, and the refresher lease that lets one process of several refresh."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.message import Message

from casewatch.files import os_error_message
from casewatch.refresh import RefresherLease
from casewatch.tui.messages import LeaseTaken, SaveProblem, WatchlistSynced
from casewatch.watchlist import Changes, Watchlist, WatchlistError

FOLLOW_EVERY_S = 2.0
"""Seconds between two looks at the watchlist file for changes made by other processes
(another dashboard, casewatch add or refresh, a text editor)."""

FOLLOW_SHARE = 0.2
"""At most this share of the time goes to reading again a file that other processes
keep changing (a file of 10,000 cases laid out by hand takes about 1.6 s to read:
then every 8 s at most; as casewatch writes it, about 50 ms)."""

SAVE_RETRY_S = 30.0
"""Seconds between two tries to save a watchlist that could not be written."""


class WatchlistSync:
    """Keeps ``watchlist`` and its file in step for the dashboard, and holds its
    refresher lease. Tells the screen with messages through ``post``:
    :class:`WatchlistSynced` (what other processes wrote), :class:`SaveProblem` (a new
    problem, or saving works again), :class:`LeaseTaken`."""

    def __init__(self, watchlist: Watchlist, post: Callable[[Message], object]) -> None:
        self.watchlist = watchlist
        self._post = post
        self.lease = RefresherLease(watchlist.path)
        self.save_problem: str | None = None
        """Why the last save or reload failed; None when the file is in step."""
        self.retry_save_at = 0.0
        """``time.monotonic()`` of the next try after a failed save."""
        self._follow_at = 0.0  # time.monotonic() before which the file is not read again
        self._lease_problem: str | None = None  # why the refresher lease cannot be taken

    async def save(self) -> None:
        """Save the watchlist, merged with what other processes wrote. A failure is
        reported once; the cases stay in memory and the save is tried again."""
        try:
            changes = await self.watchlist.save_async()
        except WatchlistError as exc:
            self._report_bad_file(exc)
        except OSError as exc:
            self.retry_save_at = time.monotonic() + SAVE_RETRY_S
            self._report(
                "Could not save the watchlist",
                f"{os_error_message(exc)}. Your cases are kept in memory; casewatch tries "
                f"again every {SAVE_RETRY_S:g} s and at the next change.",
            )
        else:
            if self.save_problem is not None:
                self.save_problem = None
                self._post(
                    SaveProblem("Saved", f"Saved {self.watchlist.path} again.", "information")
                )
            self._synced(changes)

    def _report_bad_file(self, exc: WatchlistError) -> None:
        self._report(
            "The watchlist file is not valid",
            f"{exc}\n\ncasewatch keeps your cases in memory and does not save over the "
            "file; it saves them as soon as the file is valid again.",
        )

    def _report(self, title: str, message: str) -> None:
        if message != self.save_problem:  # once, not at every retry
            self._post(SaveProblem(title, message))
        self.save_problem = message

    def _synced(self, changes: Changes) -> None:
        if changes:
            self._post(WatchlistSynced(changes))

    async def reload(self) -> None:
        """Take in what other processes or a text editor wrote to the watchlist."""
        if not self.watchlist.changed_on_disk():
            return
        try:
            changes = await self.watchlist.reload_async()
        except WatchlistError as exc:
            self._report_bad_file(exc)
            return
        except OSError as exc:
            self._report("Could not read the watchlist", os_error_message(exc))
            return
        self._synced(changes)
        if self.save_problem is not None or self.watchlist.has_unsaved_changes():
            await self.save()

    async def follow(self, *, read_now: bool = False) -> None:
        """Every :data:`FOLLOW_EVERY_S`: retry a failed save when due, take in the file's
        changes (at most :data:`FOLLOW_SHARE` of the time; ``read_now``: whenever it was
        last read), and take over the automatic refreshes when their holder has
        exited."""
        if self.save_problem is not None and time.monotonic() >= self.retry_save_at:
            await self.save()
        if read_now or time.monotonic() >= self._follow_at:
            started = time.monotonic()
            await self.reload()
            spent = time.monotonic() - started
            self._follow_at = started + spent / FOLLOW_SHARE
        if not self.lease.held:
            self.take_lease()

    def take_lease(self) -> bool:
        """Try to take the refresher lease (:class:`LeaseTaken` when taken); True when
        this process holds it. A lease that cannot be taken (a read-only folder) turns
        the automatic refreshes off, said once."""
        try:
            taken = self.lease.try_take()
        except OSError as exc:  # tried again every FOLLOW_EVERY_S: said once
            message = f"Automatic refreshes are off: {os_error_message(exc)}"
            if message != self._lease_problem:
                self._post(SaveProblem("", message))
            self._lease_problem = message
            return False
        self._lease_problem = None
        if taken:
            self._post(LeaseTaken())
        return taken

    async def close(self, *, save: bool) -> None:
        """The dashboard closes: save what is left (when ``save``; a failure is kept in
        :attr:`save_problem`), and let another process refresh."""
        if save and self.watchlist.has_unsaved_changes():
            # A save cut short by quitting, or failed.
            try:
                await self.watchlist.save_async()
            except WatchlistError as exc:
                self.save_problem = str(exc)
            except OSError as exc:
                self.save_problem = os_error_message(exc)
            else:
                self.save_problem = None
        self.lease.release()
