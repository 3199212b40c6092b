"""The caseload verbs of the command line (issue 14, points 3 and 4): ``attention``
(what needs attention today), ``calendar`` (the response due dates as an iCalendar
file), and ``--due`` of ``edit`` (the due date printed on a notice, :func:`apply_due`).
They read the watchlist file: no network, no dashboard. The ``icalendar`` library
is imported by ``calendar`` alone, so other commands start without it."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from datetime import date, datetime

from casewatch.attention import format_attention, needs_attention
from casewatch.cases import US_EASTERN
from casewatch.cli_common import (
    add_output_option,
    fail,
    open_settings,
    write_output,
)
from casewatch.config import Settings
from casewatch.config_file import ConfigError
from casewatch.deadlines import REMINDER_BEFORE, open_deadlines, response_due
from casewatch.watchlist import Watchlist, WatchlistError

NO_DUE = "none"
"""What ``--due`` takes to drop a due date given, going back to casewatch's estimate."""

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def due_date(text: str) -> date | str:
    """The value of ``--due``: a date ``YYYY-MM-DD`` (the response due date printed on
    the notice, a US Eastern date), or :data:`NO_DUE` (any case). Raises
    :class:`argparse.ArgumentTypeError`, naming the format, for anything else."""
    given = text.strip()
    if given.lower() == NO_DUE:
        return NO_DUE
    try:
        if _ISO_DATE.fullmatch(given):
            return date.fromisoformat(given)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a due date: give the date on the notice as YYYY-MM-DD (2026-05-28), "
        f"or {NO_DUE} to go back to casewatch's estimate"
    )


def add_due_option(parser: argparse.ArgumentParser) -> None:
    """``--due YYYY-MM-DD|none`` on ``parser`` (for ``casewatch edit``)."""
    parser.add_argument(
        "--due",
        type=due_date,
        metavar="YYYY-MM-DD|none",
        help="the response due date printed on the notice of a request for evidence or a "
        "notice of intent: it replaces casewatch's estimate (keeping the calendar event); "
        f"{NO_DUE} goes back to the estimate",
    )


def _now() -> datetime:
    """The time the verbs count from (tests freeze it)."""
    return datetime.now(US_EASTERN)


def add_deadline_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """``attention`` and ``calendar``."""
    attention = commands.add_parser(
        "attention",
        parents=[common],
        help="print what needs attention today, each case with the reason",
        description="Print the cases that need attention, in this order: responses due "
        "(soonest first; overdue ones marked OVERDUE), changes not viewed yet, status titles "
        "casewatch does not recognize, checks failing for more than a day, cases with no "
        "change from USCIS for more than quiet_days days (final stages excluded). A response "
        "due date is casewatch's estimate (≈) unless edit --due gave the notice's. It reads "
        "the watchlist file only. Exit status: 0 (also when nothing needs attention); 2 a "
        "bad setting or watchlist.",
    )
    attention.add_argument(
        "--json", action="store_true", help="one JSON object per entry, with its reason"
    )
    calendar = commands.add_parser(
        "calendar",
        parents=[common],
        help="write the response due dates as an iCalendar (.ics) file",
        description="Write an iCalendar file with one all-day event per open response due "
        f"date and a reminder {REMINDER_BEFORE.days} days before. Each event keeps its UID "
        "(receipt number and notice date) when the date moves, so importing the file again "
        "updates the events. It reads the watchlist file only. Exit status: 0; 2 a bad "
        "setting or watchlist; 1 the file cannot be written.",
    )
    add_output_option(calendar)


def _attention(args: argparse.Namespace) -> int:
    try:
        settings, watchlist = open_settings(args)
    except (ConfigError, WatchlistError) as exc:
        return fail(exc)
    now = _now()
    entries = needs_attention(
        watchlist.cases.values(), now, days=settings.response_days, quiet_days=settings.quiet_days
    )
    if not entries:
        print(f"casewatch: nothing in {watchlist.path} needs attention", file=sys.stderr)
    elif args.json:
        print("\n".join(json.dumps(entry.to_json(now), ensure_ascii=False) for entry in entries))
    else:
        print(format_attention(entries))
    return 0


def _calendar(args: argparse.Namespace) -> int:
    try:
        settings, watchlist = open_settings(args)
    except (ConfigError, WatchlistError) as exc:
        return fail(exc)
    from casewatch.response_calendar import response_calendar  # icalendar: only here

    dues = open_deadlines(watchlist.cases.values(), settings.response_days)
    text = response_calendar(dues, _now())
    done = f"wrote {len(dues)} response due date{'s' * (len(dues) != 1)} to {args.output}"
    return write_output(args.output, text, done)


def apply_due(watchlist: Watchlist, receipt: str, due: date | str, settings: Settings) -> str:
    """Give the case of ``receipt`` the ``--due`` value (:func:`due_date`) in memory;
    returns what was done, in words. Raises :class:`KeyError` (its first argument the
    message) when the case is not watched, :class:`ValueError` when its status waits
    for no response (a due date is kept only with its notice)."""
    try:
        case = watchlist.get(receipt)
    except KeyError:
        raise KeyError(f"{receipt} is not on the watchlist {watchlist.path}") from None
    if due == NO_DUE:
        case = watchlist.set_response_due(receipt, None)
    elif response_due(case) is None:
        title = case.status.title_en if case.status else "no status yet"
        raise ValueError(
            f"{receipt} waits for no response ({title}): --due is for a request for evidence "
            "or a notice of intent"
        )
    else:
        case = watchlist.set_response_due(receipt, due if isinstance(due, date) else None)
    deadline = response_due(case, settings.response_days)
    return f"{receipt}: " + (deadline.describe(_now().date()) if deadline else "no response due")


DEADLINE_VERBS: dict[str, Callable[[argparse.Namespace], int]] = {
    "attention": _attention,
    "calendar": _calendar,
}
"""The command of each caseload verb: parsed arguments in, exit status out."""
