"""What the command-line modules (``cli``, ``verbs``) share: the settings of the parsed
options, the one-line failure message on stderr, and receipt numbers read from the
arguments. No heavy imports: ``casewatch check`` starts fast."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from casewatch.check import EXIT_USAGE
from casewatch.config import Settings, load_settings
from casewatch.receipts import ReceiptNumber, ReceiptNumberError, parse_receipt_number


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings of the parsed global options (``--env``, ``--base-url``, ...), the
    environment and the config file (:func:`casewatch.config.load_settings`).

    Raises :class:`casewatch.config.ConfigError` for a bad setting or config file."""
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


def fail(message: object, code: int = EXIT_USAGE) -> int:
    """Say ``casewatch: message`` on stderr; returns ``code``, the exit status (default
    2, a usage error)."""
    print(f"casewatch: {message}", file=sys.stderr)
    return code


def parse_receipts(texts: Sequence[str]) -> list[ReceiptNumber] | None:
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
        fail(problem)
    return None if problems else receipts
