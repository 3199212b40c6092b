"""``casewatch diagnose``: what a bug report needs, ready to paste (issue 15, point 3).

Versions, the terminal, every effective setting and where it came from, each file
casewatch uses (size, mode, whether it parses), today's request ledger and the last
errors of the log; with ``--probe``, one token request to the configured host. What it
prints is meant to be shared: the client id is shortened, the client secret never shown
(not even its length), every receipt number masked (:func:`casewatch.receipts.mask_receipts`)
and any secret that reached a text redacted (:func:`casewatch.redact.redact`). It sends
nothing without ``--probe``, and then no case-status request: no quota is spent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import stat
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from pathlib import Path

from casewatch import __version__
from casewatch.cases import eastern_time
from casewatch.cli_common import settings_of
from casewatch.config import Settings, default_config_path
from casewatch.config_file import ConfigError, read_config_file
from casewatch.files import MiB, os_error_message, read_regular
from casewatch.logs import default_log_path
from casewatch.receipts import mask_receipts
from casewatch.redact import redact
from casewatch.settings_report import describe_settings
from casewatch.uscis.errors import USCISError
from casewatch.uscis.ledger import LedgerError
from casewatch.watchlist import Watchlist

LIBRARIES = ("textual", "httpx", "platformdirs")
"""The libraries whose versions a bug report needs, after casewatch's and Python's."""

LOG_ERRORS = 20
"""The log's last warnings and errors shown."""

LOG_TAIL_BYTES = 256 * 1024
"""Bytes read from the end of each log file, enough for :data:`LOG_ERRORS` records."""

_RECORD = re.compile(r"^\S+ (WARNING|ERROR|CRITICAL) ")


def terminal_lines(environ: Mapping[str, str], stdout_is_terminal: bool) -> list[str]:
    """The terminal as a bug report needs it: ``TERM``, its size in characters (``COLUMNS``
    and ``LINES`` first, :func:`shutil.get_terminal_size`), its colour depth as
    ``COLORTERM`` and ``TERM`` announce it, and ``NO_COLOR``."""
    term = environ.get("TERM", "")
    colorterm = environ.get("COLORTERM", "")
    if colorterm in ("truecolor", "24bit"):
        depth = "16 million colours (COLORTERM=" + colorterm + ")"
    elif "256color" in term:
        depth = "256 colours (TERM)"
    else:
        depth = "16 colours or fewer (neither COLORTERM nor a 256color TERM)"
    size = shutil.get_terminal_size()
    no_color = "NO_COLOR" in environ and environ["NO_COLOR"] != ""
    return [
        f"TERM         {term or '(not set)'}",
        f"size         {size.columns}x{size.lines}"
        + ("" if stdout_is_terminal else " (standard output is not a terminal)"),
        f"colours      {depth}",
        f"NO_COLOR     {'set: no colour' if no_color else 'not set'}",
    ]


def versions_lines() -> list[str]:
    """casewatch, Python, the operating system and :data:`LIBRARIES`, one per line."""
    lines = [
        f"casewatch    {__version__}",
        f"Python       {platform.python_version()} ({platform.python_implementation()})",
        f"OS           {platform.platform()}",
    ]
    for name in LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "not installed"
        lines.append(f"{name:<12} {version}")
    return lines


def _size(size: int) -> str:
    return f"{size:,} bytes" if size < 10_000 else f"{size / 1024:,.0f} kB"


def file_line(name: str, path: Path | None, parse: Callable[[Path], str] | None) -> str:
    """One file casewatch uses: its name, path, mode, size and what ``parse`` says of it
    (what it holds, or the error that stops it from being read); "not found" when it
    does not exist. Never raises."""
    if path is None:
        return f"{name:<16} (none)"
    try:
        info = path.stat()
    except FileNotFoundError:
        return f"{name:<16} {path}  not found"
    except OSError as exc:
        return f"{name:<16} {path}  cannot be read: {os_error_message(exc)}"
    facts = f"{stat.filemode(info.st_mode)} {stat.S_IMODE(info.st_mode):04o}  {_size(info.st_size)}"
    if parse is None or not stat.S_ISREG(info.st_mode):
        return f"{name:<16} {path}  {facts}"
    try:
        verdict = parse(path)
    except (ValueError, OSError) as exc:  # ConfigError, WatchlistError and the like
        verdict = f"DOES NOT PARSE: {exc}"
    return f"{name:<16} {path}  {facts}  {verdict}"


def _config(path: Path) -> str:
    read_config_file(path)
    return "parses"


def _watchlist(path: Path) -> str:
    cases = len(Watchlist.load(path))
    return f"parses: {cases:,} case{'s' * (cases != 1)}"


def _json(path: Path) -> str:
    read = read_regular(path, "the file", MiB)
    if read is not None:
        json.loads(read[0])
    return "parses"


def files_lines(settings: Settings | None, config_path: Path, log_path: Path) -> list[str]:
    """Each file casewatch uses (:func:`file_line`): the config file, the watchlist, the
    request ledger and the log, then the other files of the state directory (lock files
    aside)."""
    named: list[tuple[str, Path | None, Callable[[Path], str] | None]] = [
        ("config file", config_path, _config)
    ]
    if settings is not None:
        named.append(("watchlist", settings.watchlist_path, _watchlist))
        if settings.limits_url is None:
            named.append(("request ledger", settings.limits_path, _json))
    named.append(("log", log_path, None))
    lines = [file_line(name, path, parse) for name, path, parse in named]
    if settings is not None and settings.state_dir.is_dir():
        known = {path for _, path, _ in named}
        for other in sorted(settings.state_dir.iterdir()):
            if other not in known and other.is_file() and not other.name.endswith(".lock"):
                lines.append(file_line("state", other, None))
    return lines


def ledger_lines(settings: Settings, now: float) -> list[str]:
    """Today's request ledger: the quota used and left (:meth:`QuotaUsage.summary`), the
    last spike arrest and the last ``Retry-After`` (US Eastern), from the ledger shared
    by every casewatch with these credentials."""
    try:
        usage = settings.rate_limiter().usage()
    except LedgerError as exc:
        return [f"{settings.ledger_where}: {exc}"]
    arrest = usage.last_spike_arrest
    retry = usage.last_retry_after
    asked = "" if usage.last_retry_after_s is None else f" (asked {usage.last_retry_after_s:g} s)"
    return [
        usage.summary(now),
        f"last spike arrest  {eastern_time(arrest) if arrest else 'none recorded'}",
        f"last Retry-After   {eastern_time(retry) + asked if retry else 'none recorded'}",
    ]


def log_errors(log_path: Path, count: int = LOG_ERRORS) -> list[str]:
    """The last ``count`` warnings and errors of the log (its rotated files too), oldest
    first, one line each (a traceback's lines left out). Never raises."""
    records: list[str] = []
    for path in (log_path, log_path.with_name(log_path.name + ".1")):
        try:
            with path.open("rb") as file:
                file.seek(max(0, path.stat().st_size - LOG_TAIL_BYTES))
                text = file.read(LOG_TAIL_BYTES).decode("utf-8", "replace")
        except OSError:
            continue
        found = [line for line in text.splitlines() if _RECORD.match(line)]
        records = found + records
        if len(records) >= count:
            break
    return records[-count:]


def probe_lines(settings: Settings) -> list[str]:
    """One token request to the configured host (:meth:`CaseStatusClient.probe_token`):
    its HTTP status, its latency (milliseconds) and the offset of the server's clock
    (seconds). Never raises: a failure is the line."""

    async def probe() -> str:
        async with settings.open_client() as client:
            result = await client.probe_token()
        offset = (
            "the server sent no Date header"
            if result.clock_offset_s is None
            else f"server clock {result.clock_offset_s:+.1f} s from this machine's (±1 s)"
        )
        return f"HTTP {result.status} in {result.latency_s * 1000:.0f} ms; {offset}"

    target = settings.environment.host_url
    try:
        return [f"token request to {target}: {asyncio.run(probe())}"]
    except (USCISError, OSError) as exc:
        return [f"token request to {target} failed: {exc}"]


def diagnose(args: argparse.Namespace, environ: Mapping[str, str], now: float) -> str:
    """The whole report for ``args`` (the parsed command line) at Unix time ``now``
    (seconds), :func:`diagnostics` of the settings they give. A broken config file is
    reported as broken, and the sections that need the settings say why they are
    missing. Never raises for a bad setting or file."""
    config_path = getattr(args, "config", None) or Path(
        environ.get("CASEWATCH_CONFIG") or default_config_path()
    )
    try:
        settings: Settings | str = settings_of(args)
    except ConfigError as exc:
        settings = f"the settings cannot be read: {exc}"
    probe = bool(getattr(args, "probe", False))
    return diagnostics(settings, config_path, environ, now, probe=probe)


def diagnostics(
    settings: Settings | str,
    config_path: Path,
    environ: Mapping[str, str],
    now: float,
    *,
    probe: bool = False,
) -> str:
    """Every section of ``casewatch diagnose`` at Unix time ``now`` (seconds), with
    secrets redacted and receipt numbers masked: for ``settings``, or, when they could
    not be read, the sections that need them say so (``settings`` is then why).
    ``probe`` adds one token request (:func:`probe_lines`). Never raises for a bad
    setting or file."""
    usable = settings if isinstance(settings, Settings) else None
    missing = [settings] if isinstance(settings, str) else []
    log_path = default_log_path()
    sections: list[tuple[str, Iterable[str]]] = [
        ("versions", versions_lines()),
        ("terminal", terminal_lines(environ, sys.stdout.isatty())),
        ("settings", describe_settings(usable, to_share=True).splitlines() if usable else missing),
        ("files", files_lines(usable, config_path, log_path)),
        ("request ledger", ledger_lines(usable, now) if usable else missing),
        (
            f"last {LOG_ERRORS} warnings and errors in the log",
            log_errors(log_path) or ["none"],
        ),
    ]
    if probe:
        sections.append(("probe", probe_lines(usable) if usable else missing))
    text = "\n\n".join(f"## {title}\n" + "\n".join(lines) for title, lines in sections)
    header = "casewatch diagnose: paste it into a bug report (no secret, receipt numbers masked)"
    return mask_receipts(redact(f"{header}\n\n{text}"))


def add_diagnose_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """``casewatch diagnose [--probe]``."""
    parser = commands.add_parser(
        "diagnose",
        parents=[common],
        help="print what a bug report needs (versions, terminal, settings, files, ledger, "
        "recent errors), with no secret and receipt numbers masked",
        description="Print, ready to paste into a bug report: the versions of casewatch, "
        "Python, the OS, Textual, httpx and platformdirs; the terminal; every effective "
        "setting and where it came from (the client id shortened, the secret never shown); "
        "each file casewatch uses with its size, mode and whether it parses; today's request "
        "ledger; the last 20 warnings and errors of the log. Receipt numbers are masked "
        "(LIN21•••••752). It sends nothing unless --probe is given. Exit status: 0.",
    )
    parser.add_argument(
        "--probe",
        action="store_true",
        help="also ask the configured host for one token (no case-status request, no quota "
        "spent): its latency and how far the server's clock is from this machine's",
    )


def run_diagnose(args: argparse.Namespace) -> int:
    """``casewatch diagnose``: print :func:`diagnose` of the process's environment now."""
    print(diagnose(args, os.environ, time.time()))
    return 0
