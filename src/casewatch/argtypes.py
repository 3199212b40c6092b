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


_TIME_BACK = re.compile(r"(\d{1,5})([dw])", re.IGNORECASE)

_DAYS_PER = {"d": 1, "w": 7}


def eastern_date(text: str) -> date:
    """A US Eastern calendar date: ``YYYY-MM-DD``, or ``Nd`` / ``Nw``, the date N days /
    N weeks before today in US Eastern time (``0d`` is today; the days of USCIS and of
    the daily quota are US Eastern: ``uscis-api.md``). Raises
    :class:`argparse.ArgumentTypeError` naming the three forms for anything else."""
    if back := _TIME_BACK.fullmatch(text.strip()):
        days = int(back.group(1)) * _DAYS_PER[back.group(2).lower()]
        return datetime.now(US_EASTERN).date() - timedelta(days=days)
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: give a US Eastern date as YYYY-MM-DD (2026-11-30), "
            "a number of days back such as 7d, or of weeks back such as 2w"
        ) from None
