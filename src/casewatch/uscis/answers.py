"""What a 200 of ``GET /case-status/{receiptNumber}`` says, checked before it is believed.

From ``uscis-api.md`` ("More facts gathered later"): a body whose only defect is a
description link with unescaped quotes (``"…go to <a href="https://…">…</a>…"``) is
deterministic for a receipt, so it is salvaged, not retried, and said once in the log; a
body that is not a case status, or the case status of another receipt number than the one
asked (a caching proxy, a server bug), is an error for the receipt asked and is never
recorded on it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from casewatch.cases import CaseStatus, PayloadError, parse_case_status
from casewatch.receipts import ReceiptNumber, normalize_receipt_text
from casewatch.uscis.errors import NestingTooDeep, UnexpectedAnswer, decode_json, not_a_case_status

log = logging.getLogger(__name__)

TEXT_FIELDS = (
    "current_case_status_text_en",
    "current_case_status_desc_en",
    "current_case_status_text_es",
    "current_case_status_desc_es",
    "completed_text_en",
    "completed_text_es",
)
"""The free-text fields of a case status, the only ones whose unescaped quotes are
repaired."""

_TEXT_VALUE = re.compile(r'"(?:{})"\s*:\s*"'.format("|".join(TEXT_FIELDS)))
# What follows the closing quote of a string value inside an object: the next key, or
# the end of the object.
_AFTER_VALUE = re.compile(r'\s*(?:,\s*"\w+"\s*:|\})')

_salvaged: set[str] = set()  # receipts whose salvage was logged by this process


def _closing_quote(text: str, start: int) -> int | None:
    # The quote that ends the string value beginning at ``start``: the first one not
    # escaped that is followed by the next key or the end of the object.
    escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"' and _AFTER_VALUE.match(text, index + 1):
            return index
    return None


def _escape_quotes(value: str) -> str:
    # ``value`` with each quote that is not escaped yet escaped.
    out: list[str] = []
    escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            char = '\\"'
        out.append(char)
    return "".join(out)


def repair_text_quotes(text: str) -> str:
    """``text`` (a JSON body that does not parse) with the quotes that are not escaped
    inside the string values of :data:`TEXT_FIELDS` escaped; every other byte as it was.
    The same text when there is nothing to repair. Never raises."""
    out: list[str] = []
    done = 0
    for match in _TEXT_VALUE.finditer(text):
        start = match.end()
        end = _closing_quote(text, start) if start > done else None
        if end is None:
            continue
        out += [text[done:start], _escape_quotes(text[start:end])]
        done = end
    return "".join(out) + text[done:]


def _decode(body: bytes) -> tuple[Any, bool]:
    # The JSON of ``body``, and whether it needed repair_text_quotes; raises ValueError.
    try:
        return decode_json(body), False
    except NestingTooDeep:
        raise
    except ValueError:
        text = body.decode("utf-8")  # a UnicodeDecodeError is a ValueError
        repaired = repair_text_quotes(text)
        if repaired == text:
            raise
        return decode_json(repaired), True


def is_answer_for(asked: ReceiptNumber, answered: str) -> bool:
    """Whether USCIS's ``receiptNumber`` ``answered`` is the receipt number ``asked``:
    the same once normalized; in a masked number (``EAC*999103403``) the ``*`` stands for
    any one digit (``uscis-api.md``, "Receipt numbers")."""
    answered = normalize_receipt_text(answered)
    return len(answered) == len(asked.value) and all(
        mine == theirs or (mine == "*" and theirs.isdigit())
        for mine, theirs in zip(asked.value, answered, strict=True)
    )


def case_status_from_answer(asked: ReceiptNumber, body: bytes) -> CaseStatus:
    """The case status in the body of a 200 answer to the request for ``asked``.

    A body whose only defect is quotes not escaped in a text field (a description link)
    is salvaged, the link kept, and logged once per receipt number and process. Raises
    :class:`~casewatch.uscis.errors.BadResponse` (retried) for an empty body or one that
    is not JSON, :class:`~casewatch.uscis.errors.UnexpectedAnswer` for an HTML page,
    JSON that is not a case status or is nested too deeply to read, or the case status
    of another receipt number.
    """
    try:
        payload, repaired = _decode(body)
        status = parse_case_status(payload)
    except (ValueError, PayloadError):
        raise not_a_case_status(body) from None
    if not is_answer_for(asked, status.receipt_number):
        raise UnexpectedAnswer(
            f"HTTP 200 with the case status of {status.receipt_number[:40]}, not of "
            f"{asked} (a caching proxy or a server bug?)",
            status=200,
        )
    if repaired and asked.value not in _salvaged:
        _salvaged.add(asked.value)
        log.warning(
            "%s: USCIS's answer had quotes not escaped in a text field (a link in the "
            "description); salvaged, the link kept",
            asked,
        )
    return status
