"""``casewatch edit`` (issue 14, point 1): change the label, client, tags and note of a
watched case, and its response due date (``--due``, :func:`casewatch.deadline_verbs.apply_due`),
all checked before anything is saved; and the ``--client``, ``--tag`` and ``--note``
options it shares with ``add``. It reads and writes the watchlist file only: no network,
no dashboard."""

from __future__ import annotations

import argparse
import sys

from casewatch.cli_common import (
    WATCHLIST_NOTE,
    fail,
    open_settings,
    parse_receipts,
    save_watchlist,
)
from casewatch.config_file import ConfigError
from casewatch.deadline_verbs import add_due_option, apply_due
from casewatch.receipts import ReceiptNumber
from casewatch.watching import CaseDetails, Watched
from casewatch.watchlist import (
    CaseDetailError,
    WatchedCase,
    Watchlist,
    WatchlistError,
    without_tags,
)


def add_edit_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> argparse.ArgumentParser:
    """``edit``: change the label, client, tags and note of a case watched (issue 14,
    point 1). Returns its parser, for the options of other details."""
    edit = commands.add_parser(
        "edit",
        parents=[common],
        help="change the label, client, tags or note of a watched case",
        description="Change what you say of a watched case: the options given replace its "
        "label, client or note ('' blanks one), --tag adds a tag and --untag removes one; "
        "the rest stays. All are checked before anything is changed. "
        + WATCHLIST_NOTE
        + " Exit status: 0 done; 2 a malformed receipt number, one not on the watchlist, "
        "a tag or a note refused, or no change asked for (then nothing is changed); 1 the "
        "file cannot be written.",
    )
    edit.add_argument("receipt", metavar="RECEIPT", help="the receipt number of the case")
    edit.add_argument("--label", metavar="TEXT", help="its new label")
    add_detail_options(edit, default=None, tag="add a tag")
    edit.add_argument(
        "--untag",
        action="append",
        default=[],
        metavar="TAG",
        help="remove a tag (any case); repeat it for more",
    )
    add_due_option(edit)
    return edit


def add_detail_options(parser: argparse.ArgumentParser, default: str | None, tag: str) -> None:
    """``--client``, ``--note`` (``default`` when not given) and ``--tag`` (``tag``
    says what it does), repeated into ``tags``."""
    parser.add_argument(
        "--tag",
        dest="tags",
        action="append",
        default=[],
        metavar="TAG",
        help=f"{tag} (attorney initials, premium, priority; no ';'); repeat it for more",
    )
    parser.add_argument(
        "--client",
        default=default,
        metavar="NAME",
        help="the client: a person or a family, such as 'Garcia, Maria'",
    )
    parser.add_argument(
        "--note",
        default=default,
        metavar="TEXT",
        help="a free-text note (line breaks kept; one line in the table, whole in --json)",
    )


def edit_case(args: argparse.Namespace) -> int:
    """The ``edit`` command: parsed arguments in, exit status out (0 done or unchanged,
    2 refused and nothing changed, 1 the file cannot be written)."""
    receipts = parse_receipts([args.receipt])
    if receipts is None:
        return fail("nothing was changed: fix the receipt number above")
    asked = (args.label, args.client, args.note, args.due)
    if asked == (None, None, None, None) and not (args.tags or args.untag):
        return fail("nothing to change: give --label, --client, --tag, --untag, --note or --due")
    try:
        settings, watchlist = open_settings(args)
        before = watchlist.get(receipts[0])
    except (ConfigError, WatchlistError) as exc:
        return fail(exc)
    except KeyError:
        return fail(
            f"{receipts[0]} is not on the watchlist {watchlist.path}: add it with casewatch add"
        )
    try:
        case = _edited(watchlist, receipts[0], before, args)
        due = (
            None
            if args.due is None
            else apply_due(watchlist, receipts[0].value, args.due, settings)
        )
    except (CaseDetailError, ValueError) as exc:
        fail(exc)
        return fail("nothing was changed")
    outcome = Watched(case, before, CaseDetails())
    if not outcome.changed and due is None:
        print(f"casewatch: {receipts[0]}: unchanged", file=sys.stderr)
        return 0
    if code := save_watchlist(watchlist, "nothing was changed"):
        return code
    described = outcome.describe(settings.timezone) if outcome.changed else ""
    print("\n".join(done for done in (described, due) if done))
    return 0


def _edited(
    watchlist: Watchlist, receipt: ReceiptNumber, before: WatchedCase, args: argparse.Namespace
) -> WatchedCase:
    """The case of ``receipt`` with ``edit``'s options applied (each tag of ``--untag``
    it does not have is said on stderr). Raises :class:`CaseDetailError` for a tag or
    note refused; then the watchlist is unchanged."""
    for tag in args.untag:
        if without_tags(before.tags, [tag]) == before.tags:
            fail(f"{receipt} has no tag {tag!r}; its tags: {'; '.join(before.tags) or 'none'}")
    tags = without_tags((*before.tags, *args.tags), args.untag)
    return watchlist.set_case_details(
        receipt, label=args.label, client=args.client, tags=tags, note=args.note
    )
