"""The watchlist verbs of the command line: ``add``, ``edit`` (its own module,
:mod:`casewatch.edit_verb`), ``remove``, ``list``, ``import`` and ``export``. They read
and write the watchlist file only: no network, no dashboard."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import datetime, tzinfo
from pathlib import Path

from casewatch import listing
from casewatch.argtypes import eastern_date, stage
from casewatch.cases import US_EASTERN
from casewatch.check import EXIT_USAGE
from casewatch.cli_common import (
    WATCHLIST_NOTE,
    add_output_option,
    change_watchlist,
    fail,
    open_settings,
    parse_receipts,
    save_watchlist,
    settings_of,
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
from casewatch.watchlist.splice import cases_one_by_one


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
    add_client_options(listing)
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
    add_client_options(export)


def add_client_options(parser: argparse.ArgumentParser) -> None:
    """``--client NAME`` and ``--tag TAG`` (any case: :func:`listing.select_cases`)."""
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
        "Eastern date YYYY-MM-DD, or Nd / Nw for N days / weeks before today (7d, 2w)",
    )


def _selection(args: argparse.Namespace) -> Callable[[WatchedCase], bool]:
    """Whether ``--stage``, ``--changed-since``, ``--client`` and ``--tag`` select a
    case (:func:`listing.selection`)."""
    return listing.selection(
        stage=args.stage, since=args.changed_since, client=args.client, tag=args.tag
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


def _print_watched(outcomes: Iterable[tuple[str, Watched]], zone: tzinfo) -> None:
    """Say what :func:`watch` did: additions and changes on stdout, the cases left as
    they were on stderr (after their place: a file's line), with the fix for a field
    refused; times in ``zone`` (the ``timezone`` setting)."""
    for where, outcome in outcomes:
        if outcome.added or outcome.changed:
            print(outcome.describe(zone))
            if outcome.refused:
                fail(f"{where}{outcome.describe_refused()}: --update replaces it")
        elif outcome.refused:
            fail(f"{where}{outcome.describe(zone)}: --update replaces it")
        else:
            fail(f"{where}{outcome.describe(zone)}; unchanged")


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
        settings = settings_of(args)
    except ConfigError as exc:
        return fail(exc)
    added_at = datetime.now(US_EASTERN).replace(microsecond=0)
    rule = _label_rule(args)

    def watch_each(watchlist: Watchlist) -> list[Watched]:
        return [
            watch(watchlist, receipt, details=details, added_at=added_at, rule=rule)
            for receipt in receipts
        ]

    outcomes, code = change_watchlist(
        settings.watchlist_path, receipts, watch_each, "nothing was added or changed"
    )
    if outcomes is None:
        return code
    _print_watched((("", outcome) for outcome in outcomes), settings.timezone)
    return 0


def _remove(args: argparse.Namespace) -> int:
    receipts = parse_receipts(args.receipts)
    if receipts is None:
        return fail("nothing was removed: fix the receipt numbers above")
    try:
        path = settings_of(args).watchlist_path
    except ConfigError as exc:
        return fail(exc)

    def remove_each(watchlist: Watchlist) -> list[WatchedCase]:
        removed: list[WatchedCase] = []
        for receipt in receipts:
            try:
                removed.append(watchlist.remove(receipt))
            except KeyError as exc:
                fail(exc.args[0])
        return removed

    removed, code = change_watchlist(path, receipts, remove_each, "nothing was removed")
    if removed is None:
        return code
    if not removed:
        return fail("nothing was removed")
    for case in removed:
        print(f"removed {case.receipt_number}" + (f" ({case.label})" if case.label else ""))
    return 0


def _list(args: argparse.Namespace) -> int:
    """``casewatch list``. A file casewatch wrote is read case by case
    (:func:`~casewatch.watchlist.splice.cases_one_by_one`) and each line printed as its
    case is read: ``--json`` always, the table past
    :data:`~casewatch.listing.STREAM_FROM` cases (:func:`~casewatch.listing.list_table_lines`),
    so the first line comes at once however long the watchlist. Any other file is read
    whole first, as before. A case that cannot be read stops the list with the file's
    error, exit status 2, after the lines printed before it and a line saying where the
    list stops."""
    try:
        settings = settings_of(args)
        path = settings.watchlist_path
        cases = cases_one_by_one(path) or iter(Watchlist.load(path).cases.values())
    except (ConfigError, WatchlistError) as exc:
        return fail(exc)
    keep = _selection(args)
    clients: set[str] = set()
    counts = {"read": 0, "shown": 0}

    def selected() -> Iterator[WatchedCase]:
        for case in cases:
            counts["read"] += 1
            clients.add(case.client)
            if keep(case):
                counts["shown"] += 1
                yield case

    zone = settings.timezone
    lines = (
        (listing.json_line(case, zone) for case in selected())
        if args.json
        else listing.list_table_lines(selected(), zone, terminal_width())
    )
    printed = 0
    try:
        for line in lines:
            print(line)
            printed += 1
    except WatchlistError as exc:
        fail(exc)
        if printed:  # lines printed: say that more were not
            fail(f"the list above stops before case {counts['read'] + 1}: it is not whole")
        return EXIT_USAGE
    if not counts["shown"]:
        print(nothing_selected(args, path, clients), file=sys.stderr)
    return 0


def nothing_selected(args: argparse.Namespace, path: Path, clients: Collection[str]) -> str:
    """What to say on stderr when the options of ``args`` (``--stage``,
    ``--changed-since``, ``--client``, ``--tag``: those the verb has) select no case of
    the watchlist ``path``, whose cases have ``clients`` (empty for a case without one):
    a client no case has (naming the clients it has, the first 10), the options nothing
    matches, or an empty watchlist."""
    stage, since = getattr(args, "stage", None), getattr(args, "changed_since", None)
    client, tag = getattr(args, "client", None), getattr(args, "tag", None)
    given = [f"--stage {stage.value!r}"] if stage else []
    given += [f"--changed-since {since}"] if since else []
    given += [f"--client {client!r}"] if client is not None else []
    given += [f"--tag {tag!r}"] if tag is not None else []
    if client is not None and not any(
        listing.same_name(known) == listing.same_name(client) for known in clients
    ):
        named = sorted(known for known in clients if known)
        known = ", ".join(repr(name) for name in named[:10]) + (", …" * (len(named) > 10))
        return f"casewatch: no case of {path} has the client {client!r} " + (
            f"(its clients: {known})"
            if named
            else "(no case has a client: casewatch edit RECEIPT --client NAME gives one)"
        )
    if given:
        return f"casewatch: no case of {path} matches {' '.join(given)}"
    return f"casewatch: the watchlist {path} is empty"


def _import(args: argparse.Namespace) -> int:
    try:
        text = read_import_file(args.file)
    except ImportFileError as exc:
        return fail(exc)
    try:
        settings, watchlist = open_settings(args)
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
    _print_watched(
        ((f"{args.file}, line {line}: ", outcome) for line, outcome in report.watched),
        settings.timezone,
    )
    print(f"casewatch: {report.counts(parsed)}", file=sys.stderr)
    return 0


def _export(args: argparse.Namespace) -> int:
    try:
        settings, watchlist = open_settings(args)
    except (ConfigError, WatchlistError) as exc:
        return fail(exc)
    cases = list(filter(_selection(args), watchlist.cases.values()))
    output: Path | None = getattr(args, "output", None)
    form = args.format or ("json" if output and output.suffix.lower() == ".json" else "csv")
    formatter = listing.format_csv if form == "csv" else listing.format_json_array
    text = formatter(cases, settings.timezone)
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
