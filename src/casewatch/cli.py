"""The ``casewatch`` command line. Textual is imported only when the dashboard starts."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from casewatch import __version__
from casewatch.argtypes import positive_float, whole
from casewatch.cases import US_EASTERN
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
from casewatch.readiness import readiness_report
from casewatch.receipts import ReceiptNumber, ReceiptNumberError, parse_receipt_number
from casewatch.uscis.limits import LedgerError
from casewatch.watchlist import Watchlist, WatchlistError


def open_watchlist(settings: Settings, clock: Callable[[], float] = time.time) -> Watchlist:
    """Load the watchlist of ``settings``. The first demo run, finding no file, seeds it
    with the 50 staging receipts of the USCIS sandbox and saves it.

    Raises :class:`WatchlistError` for a file that cannot be read, :class:`OSError` when
    the seeded file cannot be written.
    """
    watchlist = Watchlist.load(settings.watchlist_path)
    if settings.environment.in_process and not settings.watchlist_path.exists():
        from casewatch.sandbox import STAGING_RECEIPTS, STAGING_RECEIPTS_WITH_HISTORY

        added_at = datetime.fromtimestamp(clock(), US_EASTERN)
        for receipt in STAGING_RECEIPTS:
            label = "with history" if receipt in STAGING_RECEIPTS_WITH_HISTORY else "no history"
            watchlist.add(parse_receipt_number(receipt), label=label, added_at=added_at)
        watchlist.save()
    return watchlist


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
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("dashboard", parents=[common], help="open the dashboard (the default)")
    check = commands.add_parser(
        "check",
        parents=[common],
        help="print the status of receipt numbers and exit",
        description="Exit status: 0 all found, 2 usage error or malformed receipt (nothing "
        "sent), 3 a receipt not recognized, 4 authentication failed, 5 rate-limited or out of "
        "quota, 6 USCIS or the network unavailable.",
    )
    check.add_argument("receipts", nargs="+", metavar="RECEIPT", help="receipt numbers")
    check.add_argument("--json", action="store_true", help="one JSON object per receipt")
    commands.add_parser(
        "config", parents=[common], help="print the effective settings and where each came from"
    )
    commands.add_parser(
        "readiness",
        parents=[common],
        help="the portal's production-access checklist, from the local sandbox traffic log",
    )
    # Parsed by _serve_sandbox, so the other commands never import the sandbox.
    commands.add_parser(
        "sandbox", help="serve the built-in USCIS sandbox on loopback (see: sandbox --help)"
    )
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        environment=getattr(args, "env", None),
        base_url=getattr(args, "base_url", None),
        tps=getattr(args, "tps", None),
        daily_quota=getattr(args, "daily_quota", None),
        refresh_minutes=getattr(args, "refresh_minutes", None),
        watchlist=getattr(args, "watchlist", None),
        config_path=getattr(args, "config", None),
    )


def _fail(message: object, code: int = EXIT_USAGE) -> int:
    print(f"casewatch: {message}", file=sys.stderr)
    return code


def _check(args: argparse.Namespace) -> int:
    receipts: list[ReceiptNumber] = []
    problems: list[str] = []
    for text in args.receipts:
        try:
            receipt = parse_receipt_number(text)
        except ReceiptNumberError as exc:
            problems.append(str(exc))
            continue
        for warning in receipt.warnings:
            print(f"casewatch: warning: {receipt}: {warning}", file=sys.stderr)
        if receipt not in receipts:
            receipts.append(receipt)
    if problems:
        for problem in problems:
            _fail(problem)
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
    formatter = format_json_lines if args.json else format_table
    print(formatter(receipts, results))
    return exit_code(results)


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
        watchlist = open_watchlist(settings)
    except (ConfigError, WatchlistError, OSError) as exc:
        return _fail(exc)
    from casewatch.tui.app import CaseWatchApp

    CaseWatchApp(settings, watchlist).run()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``casewatch`` with ``argv`` (default: the process's arguments); returns the
    exit status."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments[:1] == ["sandbox"]:
        return _serve_sandbox(arguments[1:])
    args = build_parser().parse_args(arguments)
    commands: dict[str | None, Callable[[argparse.Namespace], int]] = {
        "check": _check,
        "config": _report(describe_settings),
        "readiness": _report(readiness_report),
    }
    return commands.get(args.command, _run_dashboard)(args)
