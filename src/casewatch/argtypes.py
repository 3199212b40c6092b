"""Argument types for argparse: they turn bad values into usage errors that say what to
give instead, never a traceback. No heavy imports: ``casewatch check`` starts fast."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


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
