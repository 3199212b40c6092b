"""casewatch's log file: the errors and warnings worth keeping after the screen is gone.

Tries that failed and are tried again, failed checks, refreshes that stopped, change
alerts that failed, files that could not be saved and unexpected errors (with their
traceback, never the values of local variables) go to ``casewatch.log`` in the user log
directory (``~/.local/state/casewatch/log`` on Linux, by platformdirs). The file is
private (mode 0600) from the moment it exists, and what is logged never holds a secret:
messages are the ones shown to the user, in which the client secret and the access token
never appear. It rotates at :data:`MAX_BYTES`, keeping :data:`BACKUPS` old files.
"""

from __future__ import annotations

import io
import logging
import os
from datetime import datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path

import platformdirs
from stamina.instrumentation import RetryDetails, set_on_retry_hooks

from casewatch.cases import US_EASTERN
from casewatch.receipts import ReceiptNumber

LOGGER_NAME = "casewatch"

MAX_BYTES = 1_000_000
"""Bytes after which the log file is rotated."""

BACKUPS = 3
"""Rotated log files kept (``casewatch.log.1`` ... ``casewatch.log.3``)."""

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

log = logging.getLogger(LOGGER_NAME)


class EasternFormatter(logging.Formatter):
    """Log lines whose time says its zone, as every time casewatch prints: US Eastern,
    ISO 8601 to the millisecond with the offset (``2026-11-29T09:30:00.123-05:00``)."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, US_EASTERN)
        return moment.isoformat(timespec="milliseconds")


def default_log_path() -> Path:
    """``casewatch.log`` in the user log directory (``~/.local/state/casewatch/log`` on
    Linux)."""
    return platformdirs.user_log_path(LOGGER_NAME) / "casewatch.log"


class PrivateFileHandler(RotatingFileHandler):
    """A rotating file handler whose files are created with mode 0600 (only the user can
    read them), never readable by others even for a moment; a file found with a wider
    mode is narrowed. The directory is created with mode 0700 if missing."""

    def _open(self) -> io.TextIOWrapper:
        path = Path(self.baseFilename)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(descriptor, 0o600)
        return os.fdopen(descriptor, "a", encoding=self.encoding, errors=self.errors)


def log_retry(details: RetryDetails) -> None:
    """stamina's hook for a try that failed and is tried again: one line in the log,
    with the receipt number and the error, instead of stamina's own record (which says
    only ``stamina.retry_scheduled``, on standard error when nothing else logs)."""
    receipt = next((str(arg) for arg in details.args if isinstance(arg, ReceiptNumber)), "")
    log.warning(
        "%s %s: try %d failed, trying again in %.1f s: %s",
        details.name.rsplit(".", 1)[-1],
        receipt,
        details.retry_num,
        details.wait_for,
        details.caused_by,
    )


_handler: PrivateFileHandler | None = None


def setup_logging(path: Path | None = None) -> Path:
    """Send casewatch's warnings and errors, and the tries stamina retries
    (:func:`log_retry`), to ``path`` (default: :func:`default_log_path`) and return it.
    The file is created when the first record is written. Calling it again replaces the
    previous file handler (one file at a time)."""
    global _handler
    path = path or default_log_path()
    if _handler is not None:
        log.removeHandler(_handler)
        _handler.close()
    _handler = PrivateFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
    )
    _handler.setLevel(logging.WARNING)
    _handler.setFormatter(EasternFormatter(FORMAT))
    log.addHandler(_handler)
    set_on_retry_hooks([log_retry])
    return path
