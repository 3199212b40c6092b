"""The watchlist verbs of the command line: ``add``, ``remove``, ``list``, ``import`` and
``export``. They read and write the watchlist file only: no network, no dashboard."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from casewatch import listing
from casewatch.cases import US_EASTERN
from casewatch.cli_common import fail, parse_receipts, settings_of
from casewatch.config import ConfigError
from casewatch.files import atomic_write_text, os_error_message
from casewatch.importing import ImportFileError, add_imported, parse_import, read_import_file
from casewatch.listing import EXPORT_COLUMNS, describe_case
from casewatch.receipts import EXPECTED_FORMAT
from casewatch.watchlist import DuplicateReceipt, WatchedCase, Watchlist, WatchlistError

_WATCHLIST_NOTE = (
    "It reads and writes the watchlist file only (--watchlist, or the default file of "
    "--env): no network, no dashboard. What other casewatch processes saved meanwhile is "
    "merged, never overwritten. A watchlist file that cannot be read is left untouched, "
    "exit status 2."
)


def add_watchlist_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """``add``, ``remove``, ``list``, ``import`` and ``export``: the watchlist without
    the dashboard."""
    add = commands.add_parser(
        "add",
        parents=[common],
        help="add receipt numbers to the watchlist",
        description="Add receipt numbers to the watchlist. " + _WATCHLIST_NOTE + " Exit "
        "status: 0 done (receipts already watched are reported on stderr and skipped); 2 a "
        "malformed receipt number (then nothing is added); 1 the file cannot be written.",
    )
    add.add_argument("receipts", nargs="+", metavar="RECEIPT", help="receipt numbers")
    add.add_argument("--label", default="", metavar="TEXT", help="a label for these cases")
    remove = commands.add_parser(
        "remove",
        parents=[common],
        help="remove receipt numbers from the watchlist",
        description="Remove receipt numbers from the watchlist. " + _WATCHLIST_NOTE + " Exit "
        "status: 0 at least one removed (the others are reported on stderr); 2 none removed "
        "or a malformed receipt number (then nothing is removed); 1 the file cannot be "
        "written.",
    )
    remove.add_argument("receipts", nargs="+", metavar="RECEIPT", help="receipt numbers")
    listing = commands.add_parser(
        "list",
        parents=[common],
        help="print the watchlist and the last known status of each case",
        description="Print the watchlist: receipt, label, form, stage, status, the date USCIS "
        "last changed the case and when USCIS last answered for it (US Eastern, after a ⚠ "
        "when the last check failed). " + _WATCHLIST_NOTE,
    )
    listing.add_argument("--json", action="store_true", help="one JSON object per case")
    importing = commands.add_parser(
        "import",
        parents=[common],
        help="add the receipt numbers of a text or CSV file",
        description="Add the receipt numbers of FILE: text with one receipt per line, "
        "optionally followed by a tab, comma or semicolon and its label (two columns pasted "
        "from a spreadsheet; blank lines and # comments skipped), or CSV with a header "
        "naming a receipt column (receipt, receipt_number or 'receipt number', any case) and "
        "optionally a label column. " + _WATCHLIST_NOTE + " Exit status: 0 the file was "
        "read, even if some lines were not receipt numbers (listed on stderr with their "
        "line numbers) or were already watched (reported and skipped); 2 the file cannot be "
        "read; 1 the watchlist cannot be written.",
    )
    importing.add_argument("file", type=Path, metavar="FILE", help="text or CSV file")
    export = commands.add_parser(
        "export",
        parents=[common],
        help="write the watchlist as CSV or JSON",
        description="Write the watchlist as CSV (columns: "
        + ",".join(EXPORT_COLUMNS)
        + ") or as a JSON array (the objects of list --json). "
        + _WATCHLIST_NOTE,
    )
    export.add_argument(
        "--format",
        choices=("csv", "json"),
        help="csv or json (default: from the --output name's .json or .csv, else csv)",
    )
    export.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="write to FILE (replaced atomically; its folder must exist) instead of standard "
        "output",
    )


def _load_watchlist(args: argparse.Namespace) -> Watchlist:
    """The watchlist of the command's settings, read with no seeding and no network.

    Raises :class:`ConfigError` or :class:`WatchlistError`; never writes.
    """
    return Watchlist.load(settings_of(args).watchlist_path)


def _save(watchlist: Watchlist, undone: str) -> int:
    """Save (merging what other processes wrote meanwhile); 0, or the exit status
    after saying that ``undone`` ("nothing was added") and why."""
    try:
        watchlist.save()
    except WatchlistError as exc:  # its message may end with a command to copy: own line
        fail(exc)
        return fail(undone)
    except OSError as exc:
        return fail(f"{os_error_message(exc)}. {undone.capitalize()}", 1)
    return 0


def _add(args: argparse.Namespace) -> int:
    receipts = parse_receipts(args.receipts)
    if receipts is None:
        return fail("nothing was added: fix the receipt numbers above")
    try:
        watchlist = _load_watchlist(args)
    except (ConfigError, WatchlistError) as exc:
        return fail(exc)
    added_at = datetime.now(US_EASTERN).replace(microsecond=0)
    added: list[WatchedCase] = []
    for receipt in receipts:
        try:
            added.append(watchlist.add(receipt, label=args.label, added_at=added_at))
        except DuplicateReceipt:
            existing = watchlist.get(receipt)
            fail(f"{receipt} is already on the watchlist ({describe_case(existing)}); skipped")
    if not added:
        return 0
    if code := _save(watchlist, "nothing was added"):
        return code
    for case in added:
        print(f"added {case.receipt_number}" + (f" ({case.label})" if case.label else ""))
    return 0


def _remove(args: argparse.Namespace) -> int:
    receipts = parse_receipts(args.receipts)
    if receipts is None:
        return fail("nothing was removed: fix the receipt numbers above")
    try:
        watchlist = _load_watchlist(args)
    except (ConfigError, WatchlistError) as exc:
        return fail(exc)
    removed: list[WatchedCase] = []
    for receipt in receipts:
        try:
            removed.append(watchlist.remove(receipt))
        except KeyError as exc:
            fail(exc.args[0])
    if not removed:
        return fail("nothing was removed")
    if code := _save(watchlist, "nothing was removed"):
        return code
    for case in removed:
        print(f"removed {case.receipt_number}" + (f" ({case.label})" if case.label else ""))
    return 0


def _list(args: argparse.Namespace) -> int:
    try:
        watchlist = _load_watchlist(args)
    except (ConfigError, WatchlistError) as exc:
        return fail(exc)
    cases = list(watchlist.cases.values())
    if not cases:
        print(f"casewatch: the watchlist {watchlist.path} is empty", file=sys.stderr)
        return 0
    print(listing.format_json_lines(cases) if args.json else listing.format_list_table(cases))
    return 0


def _import(args: argparse.Namespace) -> int:
    try:
        text = read_import_file(args.file)
    except ImportFileError as exc:
        return fail(exc)
    try:
        watchlist = _load_watchlist(args)
    except (ConfigError, WatchlistError) as exc:
        return fail(exc)
    good, bad = parse_import(text)
    for line, content, problem in bad:
        fail(f"{args.file}, line {line}: {content!r} is not a receipt number: {problem}")
    if bad:
        print(f"casewatch: expected {EXPECTED_FORMAT}", file=sys.stderr)
    added, skipped = add_imported(watchlist, good, datetime.now(US_EASTERN).replace(microsecond=0))
    for line, why in skipped:
        fail(f"{args.file}, line {line}: {why}; skipped")
    for case in added:
        for warning in case.receipt_number.warnings:
            print(f"casewatch: warning: {case.receipt_number}: {warning}", file=sys.stderr)
    if added and (code := _save(watchlist, "nothing was added")):
        return code
    for case in added:
        print(f"added {case.receipt_number}" + (f" ({case.label})" if case.label else ""))
    print(
        f"casewatch: {len(added)} added, {len(good) - len(added)} skipped, "
        f"{len(bad)} not receipt numbers",
        file=sys.stderr,
    )
    return 0


def _export(args: argparse.Namespace) -> int:
    try:
        watchlist = _load_watchlist(args)
    except (ConfigError, WatchlistError) as exc:
        return fail(exc)
    cases = list(watchlist.cases.values())
    output: Path | None = getattr(args, "output", None)
    form = args.format or ("json" if output and output.suffix.lower() == ".json" else "csv")
    text = listing.format_csv(cases) if form == "csv" else listing.format_json_array(cases)
    if output is None:
        sys.stdout.write(text)
        return 0
    try:
        atomic_write_text(output, text, make_folder=False)
    except OSError as exc:
        return fail(os_error_message(exc), 1)
    print(f"exported {len(cases)} cases to {output}")
    return 0


WATCHLIST_VERBS: dict[str, Callable[[argparse.Namespace], int]] = {
    "add": _add,
    "remove": _remove,
    "list": _list,
    "import": _import,
    "export": _export,
}
"""The command of each watchlist verb: parsed arguments in, exit status out."""
