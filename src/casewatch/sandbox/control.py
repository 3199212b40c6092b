"""The sandbox's control routes (``/__sandbox/...``, not in the API): what it saw, and
moving a case so that change alerts can be seen and tested. They need no token and
ignore ``hours``, faults and rate limits; served on a socket, they answer loopback
requests only (``guard``)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from casewatch.sandbox.data import RECEIPT_PATTERN
from casewatch.sandbox.responses import MALFORMED_RECEIPT, UNKNOWN_RECEIPT, api_error
from casewatch.sandbox.state import state_of


async def stats(request: Request) -> JSONResponse:
    """``GET /__sandbox/stats``: counters of the case-status traffic seen so far.

    ``requests`` (all case-status requests), ``by_status`` (status code string -> count;
    a dropped connection counts as ``"reset"``), ``spike_arrests`` (real ones only: an
    injected 429 is a fault), ``tokens_issued``, ``max_requests_per_second`` (most requests
    accepted by the rate limits within any sliding one-second window), ``faults``
    (injected fault kind -> count) and ``advances`` (cases moved, by ``POST
    /__sandbox/advance`` or ``evolve_s``; a final case that stayed put does not count).
    """
    state = state_of(request)
    body: dict[str, Any] = {
        "requests": state.requests,
        "by_status": dict(state.by_status),
        "spike_arrests": state.spike_arrests,
        "tokens_issued": state.tokens_issued,
        "max_requests_per_second": state.max_requests_per_second,
        "faults": dict(state.faults),
        "advances": state.advances,
    }
    return JSONResponse(body)


async def advance(request: Request) -> JSONResponse:
    """``POST /__sandbox/advance/{receiptNumber}``: move a known case to a plausible next status.

    Known: a staging receipt, or with ``synthetic`` any receipt ``data.synthetic_case``
    answers. The next status follows ``data.advance_case`` (received -> biometrics -> in
    review -> interview -> approved -> card produced -> mailed -> delivered; action needed
    -> response received -> in review; ...), chosen deterministically from the receipt and
    how often it moved; ``GET /case-status/{receiptNumber}`` then answers the moved case.

    Answers: 200 ``{"receiptNumber", "previous", "current"}`` (English titles); 409
    ``{"code": 409, "message"}`` when the case is final (denied, withdrawn, card delivered,
    ...: it stays put); 404 and 422 with the API's bodies for an unknown or malformed
    receipt. No token needed; hours, faults and rate limits do not apply.
    """
    state = state_of(request)
    receipt: str = request.path_params["receipt_number"]
    if not RECEIPT_PATTERN.fullmatch(receipt):
        return api_error(422, MALFORMED_RECEIPT)
    moved = state.advance(receipt)
    if moved is None:
        return api_error(404, UNKNOWN_RECEIPT)
    before, after = moved
    previous = before["case_status"]["current_case_status_text_en"]
    if after is None:
        return api_error(
            409, f"Case {receipt} is final ({previous}): it does not move any further."
        )
    current = after["case_status"]["current_case_status_text_en"]
    return JSONResponse({"receiptNumber": receipt, "previous": previous, "current": current})
