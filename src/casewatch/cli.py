"""The ``casewatch`` command line. Textual is imported only when the dashboard starts."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from casewatch import __version__, listing
from casewatch.argtypes import positive_float, whole
from casewatch.cases import US_EASTERN, CaseStatus
from casewatch.check import (
    EXIT_USAGE,
    Result,
    check_receipts,
    exit_code,
    format_json_lines,
    format_table,
)
from casewatch.config import (
    ENVIRONMENTS,
    ConfigError,
    Settings,
    describe_settings,
    load_settings,
)
from casewatch.files import atomic_write_text, os_error_message
from casewatch.hooks import announce_change
from casewatch.importing import ImportFileError, add_imported, parse_import, read_import_file
from casewatch.listing import EXPORT_COLUMNS, describe_case, describe_change
from casewatch.logs import setup_logging
from casewatch.readiness import readiness_report
from casewatch.receipts import (
    EXPECTED_FORMAT,
    ReceiptNumber,
    ReceiptNumberError,
    parse_receipt_number,
)
from casewatch.refresh import Refresher, RefresherLease, RefreshProgress
from casewatch.uscis.limits import LedgerError
from casewatch.watchlist import (
    ChangeEvent,
    DuplicateReceipt,
    WatchedCase,
    Watchlist,
    WatchlistError,
    open_watchlist,
)

log = logging.getLogger(__name__)


def _global_options() -> argparse.ArgumentParser:
    # Defaults are SUPPRESS so the options work before or after the command.
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument(
        "--env",
        choices=sorted(ENVIRONMENTS),
        help="USCIS environment (default: demo, or production when credentials are set)",
    )
    common.add_argument("--base-url", metavar="URL", help="API origin, overriding the preset")
    common.add_argument(
        "--tps", type=positive_float, metavar="N", help="requests per second at most"
    )
    common.add_argument(
        "--daily-quota",
        type=whole(1, "requests per US Eastern day"),
        metavar="N",
        help="requests per US Eastern day",
    )
    common.add_argument("--watchlist", type=Path, metavar="PATH", help="watchlist TOML file")
    common.add_argument(
        "--refresh-minutes",
        type=positive_float,
        metavar="N",
        help="minutes between automatic refreshes (default: 60)",
    )
    common.add_argument("--config", type=Path, metavar="PATH", help="config file to read")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``casewatch`` and its subcommands."""
    common = _global_options()
    parser = argparse.ArgumentParser(
        prog="casewatch",
        parents=[common],
        description="Watch USCIS cases in a terminal dashboard. With no credentials it runs "
        "on the built-in sandbox (environment 'demo').",
    )
    parser.add_argument("--version", action="version", version=f"casewatch {__version__}")
    _add_theme_option(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    dashboard = commands.add_parser(
        "dashboard", parents=[common], help="open the dashboard (the default)"
    )
    _add_theme_option(dashboard)
    check = commands.add_parser(
        "check",
        parents=[common],
        help="print the status of receipt numbers and exit",
        description="Exit status: 0 all found, 2 usage error or malformed receipt (nothing "
        "sent), 3 a receipt not recognized, 4 authentication failed, 5 rate-limited or out of "
        "quota, 6 USCIS or the network unavailable, or an unexpected answer (an HTML page "
        "from a proxy, an empty body, the status of another receipt).",
    )
    check.add_argument("receipts", nargs="+", metavar="RECEIPT", help="receipt numbers")
    check.add_argument("--json", action="store_true", help="one JSON object per receipt")
    commands.add_parser(
        "config", parents=[common], help="print the effective settings and where each came from"
    )
    _add_watchlist_commands(commands, common)
    commands.add_parser(
        "readiness",
        parents=[common],
        help="the portal's production-access checklist, from the local sandbox traffic log",
    )
    commands.add_parser(
        "refresh",
        parents=[common],
        help="one refresh pass over the watchlist, printing what changed (for cron)",
        description="Refresh every case once, through the same limits, quota reserve and "
        "change detection as the dashboard; print each change and run the on_change "
        "command for it. When another casewatch (a dashboard) refreshes this watchlist "
        "automatically, it does nothing and says so (exit status 0). Exit status: 0 the "
        "pass ran (cases that failed are marked in the watchlist); 2 a bad setting or "
        "watchlist; 4 authentication failed; 5 out of "
        "quota (or only the reserve left); 1 the watchlist or the ledger cannot be written.",
    )
    # Parsed by _serve_sandbox, so the other commands never import the sandbox.
    commands.add_parser(
        "sandbox", help="serve the built-in USCIS sandbox on loopback (see: sandbox --help)"
    )
    return parser


def _add_theme_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--theme",
        metavar="NAME",
        default=argparse.SUPPRESS,
        help="the dashboard's theme, remembered for the next runs (casewatch-dark, "
        "casewatch-light, casewatch-16, a Textual theme or one in the config directory's "
        "themes/)",
    )


_WATCHLIST_NOTE = (
    "It reads and writes the watchlist file only (--watchlist, or the default file of "
    "--env): no network, no dashboard. What other casewatch processes saved meanwhile is "
    "merged, never overwritten. A watchlist file that cannot be read is left untouched, "
    "exit status 2."
)


def _add_watchlist_commands(
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


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        environment=getattr(args, "env", None),
        base_url=getattr(args, "base_url", None),
        tps=getattr(args, "tps", None),
        daily_quota=getattr(args, "daily_quota", None),
        refresh_minutes=getattr(args, "refresh_minutes", None),
        watchlist=getattr(args, "watchlist", None),
        config_path=getattr(args, "config", None),
        theme=getattr(args, "theme", None),
    )


def _fail(message: object, code: int = EXIT_USAGE) -> int:
    print(f"casewatch: {message}", file=sys.stderr)
    return code


def _check(args: argparse.Namespace) -> int:
    receipts = _parse_receipts(args.receipts)
    if receipts is None:
        return _fail("nothing was sent: fix the receipt numbers above")
    try:
        settings = _settings(args)
    except ConfigError as exc:
        return _fail(exc)

    async def run() -> list[Result]:
        async with settings.open_client() as client:
            return await check_receipts(client, receipts)

    try:
        results = asyncio.run(run())
    except LedgerError as exc:
        return _fail(exc, 1)
    for receipt, result in zip(receipts, results, strict=True):
        if not isinstance(result, CaseStatus):
            log.warning("check %s failed: %s", receipt, result)
    formatter = format_json_lines if args.json else format_table
    print(formatter(receipts, results))
    return exit_code(results)


def _refresh(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
        watchlist = open_watchlist(settings)
    except (ConfigError, WatchlistError, OSError) as exc:
        return _fail(exc)
    lease = RefresherLease(watchlist.path)
    try:
        refreshing_here = lease.try_take()
    except OSError as exc:
        return _fail(exc, 1)
    if not refreshing_here:
        holder = lease.holder()
        print(
            f"casewatch: another casewatch{f' (pid {holder})' if holder else ''} refreshes "
            f"{watchlist.path} automatically; nothing done",
            file=sys.stderr,
        )
        return 0
    changes: list[tuple[WatchedCase, ChangeEvent]] = []

    async def run() -> RefreshProgress:
        async with settings.open_client() as client:
            refresher = Refresher(
                client, watchlist, on_change=lambda case, event: changes.append((case, event))
            )
            progress = await refresher.refresh()
        for case, event in changes:
            if not event.first:
                for problem in await announce_change(
                    settings.on_change, settings.notify_urls, case, event
                ):
                    log.warning("change alert for %s failed: %s", case.receipt_number, problem)
                    _fail(problem)
        return progress

    try:
        progress = asyncio.run(run())
    except WatchlistError as exc:
        _fail(exc)
        return _fail("the answers were not saved")
    except OSError as exc:
        log.error("refresh could not save: %s", exc)
        return _fail(exc, 1)
    finally:
        lease.release()
    for case, event in changes:
        if not event.first:
            print(describe_change(case, event))
    print(
        f"refreshed {progress.done} of {progress.total} cases: {progress.changed} changed, "
        f"{progress.failed} failed",
        file=sys.stderr,
    )
    if progress.failed:
        log.warning("refresh: %d of %d cases failed", progress.failed, progress.total)
    if progress.stopped_by is None:
        return 0
    log.error("refresh stopped: %s", progress.stopped_by)
    _fail(progress.stopped_by)
    return 1 if isinstance(progress.stopped_by, LedgerError) else exit_code([progress.stopped_by])


def _report(render: Callable[[Settings], str]) -> Callable[[argparse.Namespace], int]:
    # casewatch config and casewatch readiness: a report on the effective settings.
    def run(args: argparse.Namespace) -> int:
        try:
            settings = _settings(args)
        except ConfigError as exc:
            return _fail(exc)
        print(render(settings))
        return 0

    return run


def _load_watchlist(args: argparse.Namespace) -> Watchlist:
    """The watchlist of the command's settings, read with no seeding and no network.

    Raises :class:`ConfigError` or :class:`WatchlistError`; never writes.
    """
    return Watchlist.load(_settings(args).watchlist_path)


def _parse_receipts(texts: Sequence[str]) -> list[ReceiptNumber] | None:
    """The receipts of ``texts``, in order, without repeats; None (after reporting each
    problem on stderr) when one is malformed. Unknown prefixes are warnings."""
    receipts: list[ReceiptNumber] = []
    problems: list[str] = []
    for text in texts:
        try:
            receipt = parse_receipt_number(text)
        except ReceiptNumberError as exc:
            problems.append(str(exc))
            continue
        for warning in receipt.warnings:
            print(f"casewatch: warning: {receipt}: {warning}", file=sys.stderr)
        if receipt not in receipts:
            receipts.append(receipt)
    for problem in problems:
        _fail(problem)
    return None if problems else receipts


def _save(watchlist: Watchlist, undone: str) -> int:
    """Save (merging what other processes wrote meanwhile); 0, or the exit status
    after saying that ``undone`` ("nothing was added") and why."""
    try:
        watchlist.save()
    except WatchlistError as exc:  # its message may end with a command to copy: own line
        _fail(exc)
        return _fail(undone)
    except OSError as exc:
        return _fail(f"{os_error_message(exc)}. {undone.capitalize()}", 1)
    return 0


def _add(args: argparse.Namespace) -> int:
    receipts = _parse_receipts(args.receipts)
    if receipts is None:
        return _fail("nothing was added: fix the receipt numbers above")
    try:
        watchlist = _load_watchlist(args)
    except (ConfigError, WatchlistError) as exc:
        return _fail(exc)
    added_at = datetime.now(US_EASTERN).replace(microsecond=0)
    added: list[WatchedCase] = []
    for receipt in receipts:
        try:
            added.append(watchlist.add(receipt, label=args.label, added_at=added_at))
        except DuplicateReceipt:
            existing = watchlist.get(receipt)
            _fail(f"{receipt} is already on the watchlist ({describe_case(existing)}); skipped")
    if not added:
        return 0
    if code := _save(watchlist, "nothing was added"):
        return code
    for case in added:
        print(f"added {case.receipt_number}" + (f" ({case.label})" if case.label else ""))
    return 0


def _remove(args: argparse.Namespace) -> int:
    receipts = _parse_receipts(args.receipts)
    if receipts is None:
        return _fail("nothing was removed: fix the receipt numbers above")
    try:
        watchlist = _load_watchlist(args)
    except (ConfigError, WatchlistError) as exc:
        return _fail(exc)
    removed: list[WatchedCase] = []
    for receipt in receipts:
        try:
            removed.append(watchlist.remove(receipt))
        except KeyError as exc:
            _fail(exc.args[0])
    if not removed:
        return _fail("nothing was removed")
    if code := _save(watchlist, "nothing was removed"):
        return code
    for case in removed:
        print(f"removed {case.receipt_number}" + (f" ({case.label})" if case.label else ""))
    return 0


def _list(args: argparse.Namespace) -> int:
    try:
        watchlist = _load_watchlist(args)
    except (ConfigError, WatchlistError) as exc:
        return _fail(exc)
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
        return _fail(exc)
    try:
        watchlist = _load_watchlist(args)
    except (ConfigError, WatchlistError) as exc:
        return _fail(exc)
    good, bad = parse_import(text)
    for line, content, problem in bad:
        _fail(f"{args.file}, line {line}: {content!r} is not a receipt number: {problem}")
    if bad:
        print(f"casewatch: expected {EXPECTED_FORMAT}", file=sys.stderr)
    added, skipped = add_imported(watchlist, good, datetime.now(US_EASTERN).replace(microsecond=0))
    for line, why in skipped:
        _fail(f"{args.file}, line {line}: {why}; skipped")
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
        return _fail(exc)
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
        return _fail(os_error_message(exc), 1)
    print(f"exported {len(cases)} cases to {output}")
    return 0


def _serve_sandbox(argv: Sequence[str]) -> int:
    from casewatch.sandbox import serve
    from casewatch.sandbox.options import add_sandbox_arguments, sandbox_config_from_arguments

    parser = argparse.ArgumentParser(
        prog="casewatch sandbox",
        description="Serve the built-in USCIS sandbox (a simulator of the USCIS Case Status "
        "API) on loopback; it prints its URL and the credentials it accepts.",
    )
    add_sandbox_arguments(parser)
    args = parser.parse_args(argv)
    try:
        serve(sandbox_config_from_arguments(args), host=args.host, port=args.port)
    except (ValueError, OSError) as exc:
        return _fail(f"sandbox: {exc}")
    except KeyboardInterrupt:
        print("casewatch sandbox: stopped", file=sys.stderr)
    return 0


def _run_dashboard(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
        # A screenful of cases first (a line each is more than the table shows).
        first = shutil.get_terminal_size().lines
        watchlist = open_watchlist(settings, first=first)
    except (ConfigError, WatchlistError, OSError) as exc:
        return _fail(exc)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return _fail(
            "the dashboard needs a terminal (standard input and output are not one); "
            "in scripts and cron jobs use casewatch refresh, check or list"
        )
    from casewatch.tui.app import CaseWatchApp

    app = CaseWatchApp(settings, watchlist)
    app.run()
    if app.load_error is not None:  # the rest of the file, read once the first cases showed
        return _fail(app.load_error)
    if app.save_problem is not None and watchlist.has_unsaved_changes():
        return _fail(f"the last changes were not saved: {app.save_problem}", 1)
    return app.return_code or 0  # 1 after a crash (Textual printed it, the log has it)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``casewatch`` with ``argv`` (default: the process's arguments); returns the
    exit status. Warnings and errors worth keeping go to the log file
    (:func:`casewatch.logs.setup_logging`); an unexpected error is reported in one line
    (its type, never its local values), exit status 1, with its traceback in the log."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments[:1] == ["sandbox"]:
        return _serve_sandbox(arguments[1:])
    args = build_parser().parse_args(arguments)
    log_path = setup_logging()
    commands: dict[str | None, Callable[[argparse.Namespace], int]] = {
        "check": _check,
        "refresh": _refresh,
        "add": _add,
        "remove": _remove,
        "list": _list,
        "import": _import,
        "export": _export,
        "config": _report(describe_settings),
        "readiness": _report(readiness_report),
    }
    try:
        return commands.get(args.command, _run_dashboard)(args)
    except BrokenPipeError:  # the reader went away (casewatch list | head): not an error
        # Python flushes standard output again at exit: point it where that cannot fail.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # a bug: say so in one line; the traceback goes to the log
        log.exception("casewatch %s failed unexpectedly", args.command or "dashboard")
        return _fail(f"unexpected error ({type(exc).__name__}); the details are in {log_path}", 1)
