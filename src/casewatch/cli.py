"""The ``casewatch`` command line. Textual is imported only when the dashboard starts."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from casewatch import __version__
from casewatch.cases import US_EASTERN
from casewatch.config import ENVIRONMENTS, ConfigError, Settings, load_settings
from casewatch.receipts import parse_receipt_number
from casewatch.watchlist import Watchlist, WatchlistError

EXIT_USAGE = 2


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


def _latency_range(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    try:
        values = (float(low), float(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a latency: give milliseconds, such as 300 or 150-400"
        ) from None
    if values[0] < 0 or values[1] < values[0]:
        raise argparse.ArgumentTypeError(f"{text!r}: give 0 <= LOW <= HIGH milliseconds")
    return values


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    def convert(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r} must be above 0")
        return value

    return convert


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``casewatch`` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="casewatch",
        description="Watch USCIS cases in a terminal dashboard. With no credentials it runs "
        "on the built-in sandbox (environment 'demo').",
    )
    parser.add_argument("--version", action="version", version=f"casewatch {__version__}")
    parser.add_argument(
        "--env", choices=sorted(ENVIRONMENTS), help="USCIS environment (default: demo)"
    )
    parser.add_argument("--watchlist", type=Path, help="watchlist TOML file to use")
    parser.add_argument(
        "--refresh-minutes",
        type=_positive(float),
        metavar="N",
        help="minutes between automatic refreshes (default: 60)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("dashboard", help="open the dashboard (the default)")
    sandbox = commands.add_parser(
        "sandbox", help="serve the built-in USCIS sandbox on loopback for other clients"
    )
    sandbox.add_argument("--host", default="127.0.0.1", help="loopback address to listen on")
    sandbox.add_argument("--port", type=int, default=8765, help="port (default: 8765)")
    sandbox.add_argument("--tps", type=_positive(float), default=10.0, help="spike arrest rate")
    sandbox.add_argument(
        "--daily-quota", type=_positive(int), default=150_000, help="requests per US Eastern day"
    )
    sandbox.add_argument(
        "--latency-ms",
        type=_latency_range,
        default=(150.0, 400.0),
        metavar="MS",
        help="latency per request in milliseconds: 300, or a range such as 150-400",
    )
    sandbox.add_argument("--client-id", help="client id the sandbox accepts")
    sandbox.add_argument("--client-secret", help="client secret the sandbox accepts")
    return parser


def _serve_sandbox(args: argparse.Namespace) -> int:
    from casewatch.sandbox import SandboxConfig, serve

    overrides = {
        key: value
        for key, value in (("client_id", args.client_id), ("client_secret", args.client_secret))
        if value
    }
    config = SandboxConfig(
        tps=args.tps, daily_quota=args.daily_quota, latency_ms=args.latency_ms, **overrides
    )
    try:
        serve(config, host=args.host, port=args.port)
    except ValueError as exc:
        print(f"casewatch sandbox: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def _run_dashboard(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(
            environment=args.env, watchlist=args.watchlist, refresh_minutes=args.refresh_minutes
        )
        watchlist = open_watchlist(settings)
    except (ConfigError, WatchlistError, OSError) as exc:
        print(f"casewatch: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from casewatch.tui.app import CaseWatchApp

    CaseWatchApp(settings, watchlist).run()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``casewatch`` with ``argv`` (default: the process's arguments); returns the
    exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "sandbox":
        return _serve_sandbox(args)
    return _run_dashboard(args)
