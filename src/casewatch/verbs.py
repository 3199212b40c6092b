"""The watchlist verbs of the command line: ``add``, ``edit`` (its own module,
:mod:`casewatch.edit_verb`), ``remove``, ``list``, ``import`` and ``export``. They read
and write the watchlist file only: no network, no dashboard."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from casewatch import listing
from casewatch.argtypes import eastern_date, stage
from casewatch.cases import US_EASTERN
from casewatch.cli_common import (
    WATCHLIST_NOTE,
    add_output_option,
    fail,
    load_watchlist,
    parse_receipts,
    save_watchlist,
    terminal_width,
    write_output,
)
from casewatch.config_file import ConfigError
from casewatch.edit_verb import add_detail_options, add_edit_command, edit_case
from casewatch.importing import (
    ImportFileError,
    ignored_column_note,
    import_rows,
    read_import_file,
    read_rows,
)
from casewatch.listing import EXPORT_COLUMNS
from casewatch.receipts import EXPECTED_FORMAT
from casewatch.stages import Stage
from casewatch.watching import CaseDetails, LabelRule, Watched, watch
from casewatch.watchlist import (
    CaseDetailError,
    WatchedCase,
    Watchlist,
    WatchlistError,
)


def add_watchlist_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """``add``, ``edit``, ``remove``, ``list``, ``import`` and ``export``: the watchlist
    without the dashboard."""
    add = commands.add_parser(
        "add",
        parents=[common],
        help="add receipt numbers to the watchlist",
        description="Add receipt numbers to the watchlist, with a label, a client, tags and "
        "a note. A receipt already watched gets each of them it has none of (with --update, "
        "in place of the one it has; casewatch edit changes one); otherwise it is reported "
        "on stderr and left as it is. " + WATCHLIST_NOTE + " Exit status: 0 done; 2 a "
        "malformed receipt number, tag or note (then nothing is changed); 1 the file cannot "
        "be written.",
    )
    add.add_argument("receipts", nargs="+", metavar="RECEIPT", help="receipt numbers")
    add.add_argument("--label", default="", metavar="TEXT", help="a label for these cases")
    add_detail_options(add, default="", tag="a tag for these cases")
    _add_update_option(add, "the --label, --client, --tag and --note")
    add_edit_command(commands, common)
    remove = commands.add_parser(
        "remove",
        parents=[common],
        help="remove receipt numbers from the watchlist",
        description="Remove receipt numbers from the watchlist. " + WATCHLIST_NOTE + " Exit "
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
        "when the last check failed). On a terminal the table fits its width (texts cut "
        "with …, the least important columns hidden first); piped, rows are whole. "
        + WATCHLIST_NOTE,
    )
    listing.add_argument(
        "--json", action="store_true", help="one JSON object per case, with its change events"
    )
    _add_selection_options(listing)
    _add_client_options(listing)
    importing = commands.add_parser(
        "import",
        parents=[common],
        help="add the receipt numbers of a text or CSV file",
        description="Add the receipt numbers of FILE: text with one receipt per line, "
        "optionally followed by a tab, comma or semicolon and its label (two columns pasted "
        "from a spreadsheet; blank lines and # comments skipped), or CSV with a header "
        "naming a receipt column (receipt, receipt_number or 'receipt number', any case) and "
        "optionally label, client, tags (separated by ';') and note columns, as export "
        "writes them (other columns are named and ignored). A row naming a case already "
        "watched fills in its empty label, client, tags and note (with --update, replaces "
        "them); an empty cell never blanks one; each change is printed. "
        + WATCHLIST_NOTE
        + " Exit status: 0 the file was read, even if some lines were not receipt numbers or "
        "held a tag or note refused (listed on stderr with their line numbers, and not "
        "imported); 2 the file cannot be read; 1 the watchlist cannot be written.",
    )
    importing.add_argument("file", type=Path, metavar="FILE", help="text or CSV file")
    _add_update_option(importing, "the file's label, client, tags and note")
    export = commands.add_parser(
        "export",
        parents=[common],
        help="write the watchlist as CSV or JSON",
        description="Write the watchlist as CSV (columns: "
        + ",".join(EXPORT_COLUMNS)
        + ") or as a JSON array (the objects of list --json). "
        + WATCHLIST_NOTE,
    )
    export.add_argument(
        "--format",
        choices=("csv", "json"),
        help="csv or json (default: from the --output name's .json or .csv, else csv)",
    )
    add_output_option(export)
    _add_selection_options(export)
    _add_client_options(export)


def _add_client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--client", metavar="NAME", help="only the cases of client NAME (any case)")
    parser.add_argument("--tag", metavar="TAG", help="only the cases with tag TAG (any case)")


def _add_selection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stage",
        type=stage,
        metavar="STAGE",
        help="only the cases in STAGE (" + ", ".join(member.value for member in Stage) + ")",
    )
    parser.add_argument(
        "--changed-since",
        type=eastern_date,
        metavar="DATE",
        help="only the cases USCIS changed, or casewatch saw change, on or after DATE: a US "
        "Eastern date YYYY-MM-DD, or Nd for N days before today (7d)",
    )


def _selected(args: argparse.Namespace, watchlist: Watchlist) -> list[WatchedCase]:
    """The cases of ``watchlist`` that ``--stage``, ``--changed-since``, ``--client`` and
    ``--tag`` select."""
    return listing.select_cases(
        watchlist.cases.values(),
        stage=args.stage,
        since=args.changed_since,
        client=args.client,
        tag=args.tag,
    )


def _add_update_option(parser: argparse.ArgumentParser, source: str) -> None:
    parser.add_argument(
        "--update",
        action="store_true",
        help=f"replace the label of a case already watched with {source} (an empty one "
        "never blanks it); without it, only an empty label is filled in",
    )


def _label_rule(args: argparse.Namespace) -> LabelRule:
    return LabelRule.REPLACE if args.update else LabelRule.FILL


def _print_watched(outcomes: Iterable[tuple[str, Watched]]) -> None:
    """Say what :func:`watch` did: additions and changes on stdout, the cases left as
    they were on stderr (after their place: a file's line), with the fix for a field
    refused."""
    for where, outcome in outcomes:
        if outcome.added or outcome.changed:
            print(outcome.describe())
            if outcome.refused:
                fail(f"{where}{outcome.describe_refused()}: --update replaces it")
        elif outcome.refused:
            fail(f"{where}{outcome.describe()}: --update replaces it")
        else:
            fail(f"{where}{outcome.describe()}; unchanged")


def _add(args: argparse.Namespace) -> int:
    receipts = parse_receipts(args.receipts)
    if receipts is None:
        return fail("nothing was added: fix the receipt numbers above")
    try:
        details = CaseDetails.clean(
            label=args.label, client=args.client, tags=tuple(args.tags), note=args.note
        )
    except CaseDetailError as exc:
        fail(exc)
        return fail("nothing was added")
    try:
        watchlist = load_watchlist(args)
    except (ConfigError, WatchlistError) as exc:
        return fail(exc)
    added_at = datetime.now(US_EASTERN).replace(microsecond=0)
    outcomes = [
        watch(watchlist, receipt, details=details, added_at=added_at, rule=_label_rule(args))
        for receipt in receipts
    ]
    if any(outcome.added or outcome.changed for outcome in outcomes) and (
        code := save_watchlist(watchlist, "nothing was added or changed")
    ):
        return code
    _print_watched(("", outcome) for outcome in outcomes)
    return 0


def _remove(args: argparse.Namespace) -> int:
    receipts = parse_receipts(args.receipts)
    if receipts is None:
        return fail("nothing was removed: fix the receipt numbers above")
    try:
        watchlist = load_watchlist(args)
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
    if code := save_watchlist(watchlist, "nothing was removed"):
        return code
    for case in removed:
        print(f"removed {case.receipt_number}" + (f" ({case.label})" if case.label else ""))
    return 0


def _list(args: argparse.Namespace) -> int:
    try:
        watchlist = load_watchlist(args)
    except (ConfigError, WatchlistError) as exc:
        return fail(exc)
    cases = _selected(args, watchlist)
    if not cases:
        given = [f"--stage {args.stage.value!r}"] if args.stage else []
        given += [f"--changed-since {args.changed_since}"] if args.changed_since else []
        given += [f"--client {args.client!r}"] if args.client is not None else []
        given += [f"--tag {args.tag!r}"] if args.tag is not None else []
        if args.client is not None and not listing.select_cases(
            watchlist.cases.values(), client=args.client
        ):
            print(_unknown_client(args.client, watchlist), file=sys.stderr)
        elif given:
            print(
                f"casewatch: no case of {watchlist.path} matches {' '.join(given)}", file=sys.stderr
            )
        else:
            print(f"casewatch: the watchlist {watchlist.path} is empty", file=sys.stderr)
        return 0
    if args.json:
        print(listing.format_json_lines(cases))
    else:
        print(listing.format_list_table(cases, terminal_width()))
    return 0


def _unknown_client(client: str, watchlist: Watchlist) -> str:
    """The message for a ``--client`` that no case of ``watchlist`` has, naming the
    clients it has (the first 10)."""
    clients = sorted({case.client for case in watchlist.cases.values() if case.client})
    known = ", ".join(repr(name) for name in clients[:10]) + (", …" if len(clients) > 10 else "")
    return f"casewatch: no case of {watchlist.path} has the client {client!r} " + (
        f"(its clients: {known})"
        if clients
        else "(no case has a client: casewatch edit RECEIPT --client NAME gives one)"
    )


def _import(args: argparse.Namespace) -> int:
    try:
        text = read_import_file(args.file)
    except ImportFileError as exc:
        return fail(exc)
    try:
        watchlist = load_watchlist(args)
    except (ConfigError, WatchlistError) as exc:
        return fail(exc)
    parsed = read_rows(text)
    for column in parsed.ignored_columns:
        fail(f"{args.file}: {ignored_column_note(column)}")
    for line, content, problem in parsed.bad:
        fail(f"{args.file}, line {line}: {content!r} is not a receipt number: {problem}")
    if parsed.bad:
        print(f"casewatch: expected {EXPECTED_FORMAT}", file=sys.stderr)
    for line, receipt, problem in parsed.refused:
        fail(f"{args.file}, line {line}: {receipt}: {problem}; not imported")
    added_at = datetime.now(US_EASTERN).replace(microsecond=0)
    report = import_rows(watchlist, parsed.good, added_at, _label_rule(args))
    for line, why in report.repeats:
        fail(f"{args.file}, line {line}: {why}; skipped")
    for case in report.added:
        for warning in case.receipt_number.warnings:
            print(f"casewatch: warning: {case.receipt_number}: {warning}", file=sys.stderr)
    if (report.added or report.updated) and (
        code := save_watchlist(watchlist, "nothing was added or changed")
    ):
        return code
    _print_watched((f"{args.file}, line {line}: ", outcome) for line, outcome in report.watched)
    print(f"casewatch: {report.counts(parsed)}", file=sys.stderr)
    return 0


def _export(args: argparse.Namespace) -> int:
    try:
        watchlist = load_watchlist(args)
    except (ConfigError, WatchlistError) as exc:
        return fail(exc)
    cases = _selected(args, watchlist)
    output: Path | None = getattr(args, "output", None)
    form = args.format or ("json" if output and output.suffix.lower() == ".json" else "csv")
    text = listing.format_csv(cases) if form == "csv" else listing.format_json_array(cases)
    return write_output(output, text, f"exported {len(cases)} cases to {output}")


WATCHLIST_VERBS: dict[str, Callable[[argparse.Namespace], int]] = {
    "add": _add,
    "edit": edit_case,
    "remove": _remove,
    "list": _list,
    "import": _import,
    "export": _export,
}
"""The command of each watchlist verb: parsed arguments in, exit status out."""
