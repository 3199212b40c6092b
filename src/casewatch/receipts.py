"""USCIS receipt numbers: parse, normalize and validate, with no I/O.

Rules from ``uscis-api.md`` ("Receipt numbers"): 13 characters, three letters then ten
digits, or the masked form of three letters, ``*`` and nine digits. People type spaces,
dashes and lowercase letters; those are normalized away. The digits are a string, so a
leading zero survives. An unknown prefix is only a warning: USCIS has more service
centers than the ones listed. Anything else is an error that never reaches the API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SERVICE_CENTERS: dict[str, str] = {
    "EAC": "Vermont Service Center",
    "WAC": "California Service Center",
    "LIN": "Nebraska Service Center",
    "SRC": "Texas Service Center",
    "NBC": "National Benefits Center",
    "MSC": "National Benefits Center",
    "IOE": "filed online (ELIS)",
    "YSC": "Potomac Service Center",
}

EXPECTED_FORMAT = "3 letters + 10 digits, for example EAC9999103403 (or masked: EAC*999103403)"

_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]+")
_PLAIN = re.compile(r"[A-Z]{3}\d{10}")
_MASKED = re.compile(r"[A-Z]{3}\*\d{9}")


class ReceiptNumberError(ValueError):
    """A receipt number that cannot be sent to USCIS; the message says how to fix it."""

    def __init__(self, text: str, problem: str) -> None:
        self.text = text
        self.problem = problem
        super().__init__(
            f"{text!r} is not a receipt number: {problem}. Expected {EXPECTED_FORMAT}."
        )


@dataclass(frozen=True, order=True, slots=True)
class ReceiptNumber:
    """A valid, normalized receipt number such as ``EAC9999103403``.

    Build one with :func:`parse_receipt_number`; ``value`` is what the API receives.
    """

    value: str

    def __str__(self) -> str:
        return self.value

    @property
    def prefix(self) -> str:
        """The three-letter service center prefix, such as ``EAC``."""
        return self.value[:3]

    @property
    def masked(self) -> bool:
        """True for the older masked form, ``EAC*999103403``."""
        return self.value[3] == "*"

    @property
    def service_center(self) -> str | None:
        """The office the prefix names, or None for a prefix not in the reference list."""
        return SERVICE_CENTERS.get(self.prefix)

    @property
    def warnings(self) -> tuple[str, ...]:
        """Things worth telling the user that do not stop the number from being checked."""
        if self.service_center is None:
            return (
                f"{self.prefix} is not a known USCIS prefix "
                f"({', '.join(SERVICE_CENTERS)}); check it against the receipt notice",
            )
        return ()


def normalize_receipt_text(text: str) -> str:
    """Trim, uppercase and drop spaces and dashes; keep ``*``. Never raises."""
    return _SEPARATORS.sub("", text).upper()


def parse_receipt_number(text: str) -> ReceiptNumber:
    """Parse what a person typed into a :class:`ReceiptNumber`.

    ``" eac-99-991-03403 "`` gives ``EAC9999103403``. Raises :class:`ReceiptNumberError`
    naming the problem (empty, wrong length, a letter among the digits, a bad prefix) and
    the expected format. Source: ``uscis-api.md``, "Receipt numbers".
    """
    value = normalize_receipt_text(text)
    if _PLAIN.fullmatch(value) or _MASKED.fullmatch(value):
        return ReceiptNumber(value)
    raise ReceiptNumberError(text.strip(), _describe_problem(value))


def _describe_problem(value: str) -> str:
    if not value:
        return "it is empty"
    prefix, rest = value[:3], value[3:]
    if not (len(prefix) == 3 and prefix.isascii() and prefix.isalpha()):
        return f"it must start with 3 letters, not {prefix!r}"
    digits = rest.removeprefix("*")
    bad = [c for c in digits if not ("0" <= c <= "9")]
    if bad:
        hint = " (the letter O where a zero belongs?)" if bad[0] == "O" else ""
        return f"after the prefix only digits are allowed, found {bad[0]!r}{hint}"
    return f"it has {len(value)} characters, a receipt number has 13"


_IN_TEXT = re.compile(r"[A-Za-z]{3}[0-9*][0-9]{9}")
MASK = "•••••"
"""What stands for the five middle characters of a masked receipt number."""


def mask_receipts(text: str) -> str:
    """``text`` with every receipt number in it masked: its first five characters and its
    last three kept, the five between them replaced by :data:`MASK`
    (``LIN2112345752`` gives ``LIN21•••••752``), so that a report or diagnostics can be
    shared without naming a client's case. Finds the plain and the older masked forms,
    in any case of letters, even inside a longer word (``id=LIN2112345752x``): better one
    mask too many than a receipt number shown. Never raises."""
    return _IN_TEXT.sub(lambda found: found[0][:5] + MASK + found[0][-3:], text)
