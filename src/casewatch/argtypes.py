"""Argument types for argparse: they turn bad values into usage errors that say what to
give instead, never a traceback. No heavy imports: ``casewatch check`` starts fast."""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta

from casewatch.cases import US_EASTERN
from casewatch.stages import Stage


def positive_float(text: str) -> float:
    """A finite number above 0, such as a rate in requests per second."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number: give one above 0") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number above 0")
    return value


def whole(minimum: int, unit: str) -> Callable[[str], int]:
    """A converter to a whole number of ``unit`` (for the message), ``minimum`` or more."""

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a whole number: give {unit}, {minimum} or more"
            ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(
                f"{value} is too small: give {unit}, {minimum} or more"
            )
        return value

    return convert


def stage(text: str) -> Stage:
    """A stage of :class:`casewatch.stages.Stage` by its name, any case, with ``-`` or
    ``_`` for its spaces (``action-needed``)."""
    wanted = " ".join(text.replace("-", " ").replace("_", " ").lower().split())
    try:
        return Stage(wanted)
    except ValueError:
        names = ", ".join(member.value for member in Stage)
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a stage: give one of {names} (- or _ for the spaces)"
        ) from None


_DAYS_BACK = re.compile(r"(\d{1,5})d", re.IGNORECASE)


def eastern_date(text: str) -> date:
    """A US Eastern calendar date: ``YYYY-MM-DD``, or ``Nd``, the date N days before today
    in US Eastern time (``0d`` is today; the days of USCIS and of the daily quota are US
    Eastern: ``uscis-api.md``)."""
    if days := _DAYS_BACK.fullmatch(text.strip()):
        return datetime.now(US_EASTERN).date() - timedelta(days=int(days.group(1)))
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: give a US Eastern date as YYYY-MM-DD (2026-11-30) or "
            "a number of days back, such as 7d"
        ) from None
