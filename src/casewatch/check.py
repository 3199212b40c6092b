"""``casewatch check``: the status of receipt numbers, once, for people and scripts.

It shares the client, the limits and the quota ledger with the dashboard, and imports
no Textual, so it starts fast.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from casewatch.cases import CaseStatus, strip_html
from casewatch.receipts import ReceiptNumber
from casewatch.refresh import pool_size
from casewatch.uscis.client import CaseStatusClient
from casewatch.uscis.errors import (
    AuthenticationError,
    MalformedReceipt,
    QuotaExhausted,
    ReceiptNotRecognized,
    SpikeArrest,
    USCISError,
)

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_NOT_RECOGNIZED = 3
EXIT_AUTHENTICATION = 4
EXIT_RATE_LIMITED = 5
EXIT_UNAVAILABLE = 6
"""USCIS or the network unavailable, or an answer that is not USCIS's case status or
error (an :class:`~casewatch.uscis.errors.UnexpectedAnswer`): no answer to trust."""

Result = CaseStatus | USCISError


def exit_code(results: Sequence[Result]) -> int:
    """The exit status for ``results``: 0 when every receipt was found; else the most
    pressing failure: 4 authentication, 5 rate limit or quota, 6 USCIS or the network
    unavailable or an unexpected answer (an HTML page from a proxy, even with a 404), 3 a
    receipt USCIS itself says it does not recognize (or calls malformed)."""
    codes = {EXIT_OK}
    for result in results:
        if isinstance(result, AuthenticationError):
            codes.add(EXIT_AUTHENTICATION)
        elif isinstance(result, (QuotaExhausted, SpikeArrest)):
            codes.add(EXIT_RATE_LIMITED)
        elif isinstance(result, (ReceiptNotRecognized, MalformedReceipt)):
            codes.add(EXIT_NOT_RECOGNIZED)
        elif isinstance(result, USCISError):
            codes.add(EXIT_UNAVAILABLE)
    for code in (EXIT_AUTHENTICATION, EXIT_RATE_LIMITED, EXIT_UNAVAILABLE, EXIT_NOT_RECOGNIZED):
        if code in codes:
            return code
    return EXIT_OK


async def check_receipts(
    client: CaseStatusClient, receipts: Sequence[ReceiptNumber]
) -> list[Result]:
    """Ask USCIS for each receipt, pipelined within the client's limits; the results in
    the order of ``receipts``, each a :class:`CaseStatus` or the :class:`USCISError`."""
    slots = asyncio.Semaphore(pool_size(client.limiter.tps, len(receipts)))

    async def one(receipt: ReceiptNumber) -> Result:
        async with slots:
            try:
                return await client.get_case_status(receipt)
            except USCISError as exc:
                return exc

    return list(await asyncio.gather(*(one(receipt) for receipt in receipts)))


def result_to_json(receipt: ReceiptNumber, result: Result) -> dict[str, Any]:
    """One receipt's result as a JSON-ready object (dates ISO 8601, US Eastern)."""
    if isinstance(result, USCISError):
        return {
            "receipt_number": receipt.value,
            "found": False,
            "error": {
                "type": type(result).__name__,
                "http_status": result.status,
                "code": result.code,
                "message": result.message,
                "summary": result.summary,
            },
        }
    return {
        "receipt_number": receipt.value,
        "found": True,
        "form_type": result.form_type,
        "status": result.title_en,
        "stage": result.stage.value,
        "description": strip_html(result.description_en),
        "status_es": result.title_es,
        "description_es": strip_html(result.description_es),
        "submitted": result.submitted.isoformat() if result.submitted else None,
        "submitted_text": result.submitted_text,
        "modified": result.modified.isoformat() if result.modified else None,
        "modified_text": result.modified_text,
        "history": [
            {
                "date": entry.date.isoformat() if entry.date else None,
                "date_text": entry.date_text,
                "text": entry.text_en,
                "text_es": entry.text_es,
            }
            for entry in result.history
        ],
        "history_dropped": result.history_dropped,
    }


def format_json_lines(receipts: Sequence[ReceiptNumber], results: Sequence[Result]) -> str:
    """One JSON object per line, per receipt, in order."""
    return "\n".join(
        json.dumps(result_to_json(receipt, result), ensure_ascii=False)
        for receipt, result in zip(receipts, results, strict=True)
    )


def format_table(receipts: Sequence[ReceiptNumber], results: Sequence[Result]) -> str:
    """A plain-text table: receipt, form, stage, changed (US Eastern date), status or
    the error with USCIS's message."""
    rows = [("RECEIPT", "FORM", "STAGE", "CHANGED", "STATUS")]
    for receipt, result in zip(receipts, results, strict=True):
        if isinstance(result, USCISError):
            rows.append((receipt.value, "-", "error", "-", str(result)))
        else:
            rows.append(
                (
                    receipt.value,
                    result.form_type or "-",
                    result.stage.value,
                    result.changed_on() or "-",
                    result.title_en,
                )
            )
    return align_columns(rows)


def align_columns(rows: Sequence[Sequence[str]]) -> str:
    """Rows of cells as plain text, each column as wide as its widest cell, two spaces
    apart, no trailing spaces."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(aligned_line(row, widths) for row in rows)


def aligned_line(row: Sequence[str], widths: Sequence[int]) -> str:
    """``row``'s cells, each padded to its column's width in characters, two spaces
    apart, no trailing spaces: a line of :func:`align_columns`."""
    return "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
