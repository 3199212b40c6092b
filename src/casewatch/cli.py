"""The ``casewatch`` command line: its parser, ``check``, ``refresh``, ``quota``,
``config``, ``readiness``, ``sandbox`` and the dashboard; ``serve`` is in
:mod:`casewatch.serve`; the watchlist verbs (``add``, ``remove``,
``list``, ``import``, ``export``) are in :mod:`casewatch.verbs`, ``edit`` in
:mod:`casewatch.edit_verb`. Textual is imported only when the dashboard starts."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from casewatch import __version__
from casewatch.argtypes import positive_float, whole
from casewatch.cases import US_EASTERN, CaseStatus
from casewatch.check import (
    Result,
    check_receipts,
    exit_code,
    format_json_lines,
    format_table,
)
from casewatch.cli_common import fail, parse_receipts, settings_of
from casewatch.config import ENVIRONMENTS, Settings
from casewatch.config_file import ConfigError
from casewatch.deadline_verbs import DEADLINE_VERBS, add_deadline_commands
from casewatch.diagnose import add_diagnose_command, run_diagnose
from casewatch.hooks import announce_change
from casewatch.listing import describe_change
from casewatch.logs import setup_logging
from casewatch.quota_report import quota_json, quota_report
from casewatch.readiness import readiness_report
from casewatch.refresh import Refresher, RefresherLease, RefreshProgress
from casewatch.schedule import due_cases
from casewatch.serve import SERVE_VERBS, add_serve_command, under_web_driver
from casewatch.settings_report import describe_settings
from casewatch.uscis.ledger import LedgerError, RedisUnavailable
from casewatch.verbs import WATCHLIST_VERBS, add_watchlist_commands
from casewatch.watchlist import (
    ChangeEvent,
    WatchedCase,
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
    common.add_argument(
        "--limits-url",
        metavar="URL",
        help="Redis server of a request ledger shared between machines (redis://host:6379/0)",
    )
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
        "from a proxy, an empty body, the status of another receipt); 130 interrupted (Ctrl-C).",
    )
    check.add_argument("receipts", nargs="+", metavar="RECEIPT", help="receipt numbers")
    check.add_argument("--json", action="store_true", help="one JSON object per receipt")
    commands.add_parser(
        "config", parents=[common], help="print the effective settings and where each came from"
    )
    add_watchlist_commands(commands, common)
    add_deadline_commands(commands, common)
    add_diagnose_command(commands, common)
    add_serve_command(commands, common, _add_theme_option)
    commands.add_parser(
        "readiness",
        parents=[common],
        help="the portal's production-access checklist, from the local sandbox traffic log",
    )
    refresh = commands.add_parser(
        "refresh",
        parents=[common],
        help="one refresh pass over the cases that are due, printing what changed (for cron)",
        description="Check the cases that are due, as the dashboard's automatic refresh "
        "does (every --refresh-minutes for cases where the applicant must act, never "
        "checked or whose last check failed; twice that for most; 24 times that for final "
        "ones), through the same limits, quota reserve and change detection; print each "
        "change and run the on_change command for it. When another casewatch (a dashboard) "
        "refreshes this watchlist automatically, it does nothing and says so (exit status "
        "0). Exit status: 0 the pass ran (cases that failed are marked in the watchlist); 2 "
        "a bad setting or watchlist; 4 authentication failed; 5 out of quota (or only the "
        "reserve left); 1 the watchlist or the ledger cannot be written; 130 interrupted "
        "(Ctrl-C).",
    )
    refresh.add_argument(
        "--all", action="store_true", help="check every case, due or not (a full pass)"
    )
    quota = commands.add_parser(
        "quota",
        parents=[common],
        help="today's use of the daily quota, what is left and when it resets (sends nothing)",
        description="Print today's use of the daily quota (US Eastern day) from the ledger "
        "that every casewatch with this environment and these credentials shares: requests "
        "used and left, the reserve kept for manual checks, when the quota resets (US "
        "Eastern, and the time until then) and any hold USCIS asked for with Retry-After. "
        "It sends no request to USCIS. Exit status: 0; 2 a bad setting.",
    )
    quota.add_argument("--json", action="store_true", help="one JSON object")
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


def _check(args: argparse.Namespace) -> int:
    receipts = parse_receipts(args.receipts)
    if receipts is None:
        return fail("nothing was sent: fix the receipt numbers above")
    try:
        settings = settings_of(args)
    except ConfigError as exc:
        return fail(exc)

    async def run() -> list[Result]:
        async with settings.open_client() as client:
            return await check_receipts(client, receipts)

    try:
        results = asyncio.run(run())
    except RedisUnavailable as exc:  # as when USCIS cannot be reached: nothing was sent
        return fail(exc, 6)
    except LedgerError as exc:
        return fail(exc, 1)
    for receipt, result in zip(receipts, results, strict=True):
        if not isinstance(result, CaseStatus):
            log.warning("check %s failed: %s", receipt, result)
    formatter = format_json_lines if args.json else format_table
    print(formatter(receipts, results))
    return exit_code(results)


def _refresh(args: argparse.Namespace) -> int:
    try:
        settings = settings_of(args)
        watchlist = open_watchlist(settings)
    except (ConfigError, WatchlistError, OSError) as exc:
        return fail(exc)
    lease = RefresherLease(watchlist.path)
    try:
        refreshing_here = lease.try_take()
    except OSError as exc:
        return fail(exc, 1)
    if not refreshing_here:
        holder = lease.holder()
        print(
            f"casewatch: another casewatch{f' (pid {holder})' if holder else ''} refreshes "
            f"{watchlist.path} automatically; nothing done",
            file=sys.stderr,
        )
        return 0
    changes: list[tuple[WatchedCase, ChangeEvent]] = []
    watched = len(watchlist)
    due = (
        None
        if args.all
        else due_cases(watchlist.cases.values(), datetime.now(US_EASTERN), settings.refresh_minutes)
    )

    async def run() -> RefreshProgress:
        async with settings.open_client() as client:
            refresher = Refresher(
                client, watchlist, on_change=lambda case, event: changes.append((case, event))
            )
            progress = await refresher.refresh(due)
        for case, event in changes:
            if not event.first:
                for problem in await announce_change(
                    settings.on_change, settings.notify_urls, case, event, settings.response_days
                ):
                    log.warning("change alert for %s failed: %s", case.receipt_number, problem)
                    fail(problem)
        return progress

    try:
        progress = asyncio.run(run())
    except WatchlistError as exc:
        fail(exc)
        return fail("the answers were not saved")
    except OSError as exc:
        log.error("refresh could not save: %s", exc)
        return fail(exc, 1)
    finally:
        lease.release()
    for case, event in changes:
        if not event.first:
            print(describe_change(case, event))
    not_due = watched - progress.total
    print(
        f"refreshed {progress.done} of {watched} cases"
        + (f" ({not_due} not due; --all checks every one)" if not_due else "")
        + f": {progress.changed} changed, {progress.failed} failed",
        file=sys.stderr,
    )
    if progress.failed:
        log.warning("refresh: %d of %d cases failed", progress.failed, progress.total)
    if progress.stopped_by is None:
        return 0
    log.error("refresh stopped: %s", progress.stopped_by)
    fail(progress.stopped_by)
    return 1 if isinstance(progress.stopped_by, LedgerError) else exit_code([progress.stopped_by])


def _quota(args: argparse.Namespace) -> int:
    try:
        settings = settings_of(args)
    except ConfigError as exc:
        return fail(exc)
    try:
        usage, now = settings.rate_limiter().usage(), time.time()
    except RedisUnavailable as exc:
        return fail(exc, 6)
    except LedgerError as exc:
        return fail(exc, 1)
    if args.json:
        print(json.dumps(quota_json(settings, usage, now)))
    else:
        print(quota_report(settings, usage, now))
    return 0


def _report(render: Callable[[Settings], str]) -> Callable[[argparse.Namespace], int]:
    # casewatch config and casewatch readiness: a report on the effective settings.
    def run(args: argparse.Namespace) -> int:
        try:
            settings = settings_of(args)
        except ConfigError as exc:
            return fail(exc)
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
        return fail(f"sandbox: {exc}")
    except KeyboardInterrupt:
        print("casewatch sandbox: stopped", file=sys.stderr)
    return 0


def _run_dashboard(args: argparse.Namespace) -> int:
    try:
        settings = settings_of(args)
        # A screenful of cases first (a line each is more than the table shows).
        first = shutil.get_terminal_size().lines
        watchlist = open_watchlist(settings, first=first)
    except (ConfigError, WatchlistError, OSError) as exc:
        return fail(exc)
    if not (under_web_driver() or (sys.stdin.isatty() and sys.stdout.isatty())):
        return fail(
            "the dashboard needs a terminal (standard input and output are not one); "
            "in scripts and cron jobs use casewatch refresh, check or list; for a web "
            "browser, casewatch serve"
        )
    from casewatch.tui.app import CaseWatchApp

    app = CaseWatchApp(settings, watchlist)
    app.run()
    if app.load_error is not None:  # the rest of the file, read once the first cases showed
        return fail(app.load_error)
    if app.save_problem is not None and watchlist.has_unsaved_changes():
        return fail(f"the last changes were not saved: {app.save_problem}", 1)
    return app.return_code or 0  # 1 after a crash (Textual printed it, the log has it)


EXIT_INTERRUPTED = 130
"""The exit status after Ctrl-C (SIGINT): 128 + 2, as a shell reports a command that
SIGINT ended."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``casewatch`` with ``argv`` (default: the process's arguments); returns the
    exit status. Warnings and errors worth keeping go to the log file
    (:func:`casewatch.logs.setup_logging`); an unexpected error is reported in one line
    (its type, never its local values), exit status 1, with its traceback in the log.
    Ctrl-C (SIGINT) ends any command with "casewatch: interrupted", exit status
    :data:`EXIT_INTERRUPTED` (saves are atomic and the refresher lease is given up on
    the way out; issue 11, point 11)."""
    try:
        return _run(sys.argv[1:] if argv is None else list(argv))
    except KeyboardInterrupt:
        return fail("interrupted", EXIT_INTERRUPTED)


def _run(arguments: list[str]) -> int:
    if arguments[:1] == ["sandbox"]:
        return _serve_sandbox(arguments[1:])
    args = build_parser().parse_args(arguments)
    log_path = setup_logging()
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "check": _check,
        "refresh": _refresh,
        "quota": _quota,
        **WATCHLIST_VERBS,
        **DEADLINE_VERBS,
        "diagnose": run_diagnose,
        **SERVE_VERBS,
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
        return fail(f"unexpected error ({type(exc).__name__}); the details are in {log_path}", 1)
