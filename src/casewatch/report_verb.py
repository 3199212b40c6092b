"""``casewatch report`` (issue 15, point 2): the digest of a period to send on, in
Markdown, HTML, CSV or text (:mod:`casewatch.report`, :mod:`casewatch.report_formats`),
to standard output, a file, or the Apprise ``notify_urls`` (``--notify``; in cron,
``casewatch report --since 7d --notify`` is a weekly digest). It reads the watchlist
file only: no request to USCIS."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime

from casewatch.argtypes import eastern_date
from casewatch.cases import US_EASTERN
from casewatch.cli_common import add_output_option, fail, open_settings, write_output
from casewatch.config_file import ConfigError
from casewatch.hooks import HookError, notify
from casewatch.listing import select_cases
from casewatch.report import build_report
from casewatch.report_formats import FORMATS, render
from casewatch.verbs import add_client_options, nothing_selected
from casewatch.watchlist import WatchlistError

DEFAULT_SINCE = "7d"
"""The period of a report without ``--since``: the last 7 days."""


def add_report_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """``report``."""
    report = commands.add_parser(
        "report",
        parents=[common],
        help="the changes of a period, cases by stage, response deadlines and what needs "
        "attention, to send on (Markdown, HTML, CSV or text)",
        description="Write the report of a period: its changes with both clocks (when USCIS "
        "made each, when casewatch saw it), grouped by client (cases without one last); "
        "the number of cases in each stage now; the open response deadlines; and what "
        "needs attention (status titles not recognized, checks failing, no change for "
        "quiet_days). It reads the watchlist file only. Exit status: 0 (also when no case "
        "is selected: then a line on stderr); 2 a bad option, setting or watchlist, or "
        "--notify without notify_urls; 1 the file cannot be written or the report was not "
        "sent.",
    )
    report.add_argument(
        "--since",
        type=eastern_date,
        default=DEFAULT_SINCE,
        metavar="Nd|Nw|YYYY-MM-DD",
        help="the period: N days or N weeks back from today, or from a US Eastern date on "
        f"(default: {DEFAULT_SINCE})",
    )
    add_client_options(report)
    report.add_argument(
        "--format",
        choices=FORMATS,
        default=FORMATS[0],
        help="markdown (an e-mail, a ticket), html (one page, prints well), csv (one row "
        f"per change) or text (default: {FORMATS[0]})",
    )
    add_output_option(report)
    report.add_argument(
        "--mask",
        action="store_true",
        help="mask every receipt number (LIN21•••••752: the first 5 and last 3 characters), "
        "for a client's eyes",
    )
    report.add_argument(
        "--notify",
        action="store_true",
        help="send the report, in Markdown, through the Apprise notify_urls of the config "
        "file (e-mail, Teams, Slack, ...)",
    )


def _selection(args: argparse.Namespace) -> str:
    """The cases the report covers, in words: ``client 'Garcia, Maria', tag 'premium'``."""
    given = [f"client {args.client!r}"] if args.client is not None else []
    given += [f"tag {args.tag!r}"] if args.tag is not None else []
    return ", ".join(given)


def report(args: argparse.Namespace) -> int:
    """``casewatch report``: parsed arguments in, exit status out."""
    try:
        settings, watchlist = open_settings(args)
    except (ConfigError, WatchlistError) as exc:
        return fail(exc)
    if args.notify and not settings.notify_urls:
        return fail(
            "--notify sends the report through the notify_urls of the config file, and it "
            'has none: add notify_urls = ["mailto://user:password@example.com"] (any Apprise '
            "URL) to it; casewatch config shows which file is read"
        )
    cases = select_cases(watchlist.cases.values(), client=args.client, tag=args.tag)
    if not cases:
        clients = {case.client for case in watchlist.cases.values()}
        print(nothing_selected(args, watchlist.path, clients), file=sys.stderr)
        return 0
    made = build_report(
        cases,
        args.since,
        datetime.now(US_EASTERN),
        days=settings.response_days,
        quiet_days=settings.quiet_days,
        selection=_selection(args),
        mask=args.mask,
        zone=settings.timezone,
    )
    if (args.output is not None or not args.notify) and (
        code := write_output(args.output, render(made, args.format), f"wrote {args.output}")
    ):
        return code
    if not args.notify:
        return 0
    try:
        asyncio.run(
            notify(settings.notify_urls, made.title, render(made, "markdown"), markdown=True)
        )
    except HookError as exc:
        return fail(f"the report was not sent: {exc}", 1)
    count = len(settings.notify_urls)
    print(f"sent {made.title!r} to {count} notification URL{'s' * (count != 1)}")
    return 0
