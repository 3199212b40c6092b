"""Typed errors of the USCIS Case Status API, parsed from every body shape seen.

Shapes from ``uscis-api.md`` ("Errors"): flat ``{code, message}`` or a bare
``{message}``; a nested ``error`` object with a string code, possibly after leading
whitespace; an RFC 9457 style ``errors`` list; a raw Apigee ``fault``; Apigee's token
errors ``{ErrorCode, Error}``; an HTML page; an empty body. Whatever the shape, the error
carries USCIS's own message; an answer that is not USCIS's (an HTML page, an empty body)
says what it is instead of a parser's words. Every text taken from a body passes
:func:`casewatch.cases.printable` (issue 11, point 4: no escape sequence, bidi override
or zero-width character from the network reaches a screen, a log or a file) and
:func:`casewatch.redact.redact` (point 3: no client secret or access token that a server
echoes back does).
"""

from __future__ import annotations

import json
import re
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

from casewatch.cases import one_line, printable, strip_html
from casewatch.redact import redact


class USCISError(Exception):
    """A request to USCIS that did not give a case status.

    ``status`` is the HTTP status (None when no response came), ``code`` USCIS's own
    code, ``message`` USCIS's own words (shown to the user as they are, but for what
    :func:`casewatch.cases.printable` removes and the secrets
    :func:`casewatch.redact.redact` hides), ``summary`` a line in plain terms.
    ``retryable`` says whether trying again later can help.
    """

    summary: ClassVar[str] = "USCIS answered with an error"
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        message, code = redact(printable(message)), redact(printable(code))
        self.message = message
        self.status = status
        self.code = code
        super().__init__(f"{self.summary}: {message}" if message else self.summary)


class AuthenticationError(USCISError):
    """The credentials or the access token were refused (HTTP 400/401 from the token URL,
    or 401 again after a fresh token)."""

    summary = "USCIS refused the credentials"


class ReceiptNotRecognized(USCISError):
    """HTTP 404: a well-formed receipt number USCIS does not know.

    Not proof of a typo: cases protected by law (8 U.S.C. 1367) and staging receipts in
    production answer the same (``uscis-api.md``).
    """

    summary = (
        "USCIS does not recognize this receipt number "
        "(protected cases and staging receipts in production answer the same)"
    )


class MalformedReceipt(USCISError):
    """HTTP 422: USCIS says the receipt number is not formatted correctly."""

    summary = "USCIS says the receipt number is malformed"


class SpikeArrest(USCISError):
    """HTTP 429 "Spike Arrest Violation": requests came faster than the per-second limit."""

    summary = "Too many requests per second (spike arrest)"
    retryable = True


class QuotaExhausted(USCISError):
    """The daily quota is spent (HTTP 429 from USCIS, or the local ledger said so first).

    It resets at midnight US Eastern (``uscis-api.md``, "Hosts and environments").
    """

    summary = "The daily quota is used up until midnight US Eastern"


class ServiceUnavailable(USCISError):
    """HTTP 503: an outage, or the sandbox outside Mon-Fri 07:00-20:00 US Eastern."""

    summary = "USCIS is unavailable"
    retryable = True


class ServerError(USCISError):
    """Any other HTTP 5xx."""

    summary = "USCIS had a server error"
    retryable = True


class RequestRefused(USCISError):
    """Any other HTTP 4xx, such as 400 or 403."""

    summary = "USCIS refused the request"


class NetworkError(USCISError):
    """No response: a timeout, a refused or dropped connection."""

    summary = "Could not reach USCIS"
    retryable = True


class DeadlineExceeded(NetworkError):
    """No complete answer within the request's deadline
    (:data:`~casewatch.uscis.client.REQUEST_DEADLINE_S`): a server that never answers,
    or sends its answer a byte at a time. Not retried: another try would hold the run
    (and a cron refresh's lease) as long again; the next refresh asks again."""

    retryable = False


class TokenUnanswered(DeadlineExceeded):
    """The token URL gave no complete answer within the deadline. No request can be made
    without a token, so a refresh pass stops (:class:`~casewatch.refresh.Refresher`)
    rather than wait out the deadline once per case."""


class UnexpectedAnswer(USCISError):
    """An answer that is neither the case status asked for nor a USCIS error body
    (``uscis-api.md``, "More facts gathered later"): a 404 or a 200 with an HTML page or
    an empty body (a proxy, a captive portal, a moved address), a 200 with JSON that is
    not a case status, or the case status of another receipt number (a caching proxy, a
    server bug). Not retried: asked again, the same proxy or cache answers the same, and
    each try counts against the quota; the next refresh asks again.
    """

    summary = "An unexpected answer"


class BadResponse(UnexpectedAnswer):
    """A 200 whose body is not JSON, or is empty: cut short or garbled on the way (seen
    on the sandbox), also from the token URL. Retried: a later try may bring it whole."""

    retryable = True


class AnswerTooLarge(UnexpectedAnswer):
    """An answer whose body, as sent or decompressed, is larger than casewatch reads
    (:data:`~casewatch.uscis.bodies.MAX_BODY_BYTES`; a case status is a few kB): a
    hostile or broken server, a gzip bomb. Not retried, as any unexpected answer."""


_MAX_MESSAGE = 300


def _clip(text: str) -> str:
    # Redacted before it is cut: a secret cut in two would no longer be recognized.
    text = redact(one_line(text))
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _from_json(data: Any) -> tuple[str, str] | None:
    # (code, message) of a USCIS error shape, or None for JSON of another shape.
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("error"), dict):
        return _from_json(data["error"])
    if isinstance(data.get("errors"), list) and data["errors"]:
        parts = [_from_json(item) for item in data["errors"]]
        found = [part for part in parts if part is not None]
        if found:
            return found[0][0], "; ".join(message for _, message in found)
    if isinstance(data.get("fault"), dict):
        fault = data["fault"]
        detail = fault.get("detail")
        code = detail.get("errorcode", "") if isinstance(detail, dict) else ""
        return str(code), str(fault.get("faultstring", ""))
    if "Error" in data or "ErrorCode" in data:
        return str(data.get("ErrorCode", "")), str(data.get("Error", ""))
    if "message" in data:
        return str(data.get("code", "")), str(data["message"])
    return None


def _text_of(body: bytes | str) -> str:
    return (body.decode("utf-8", "replace") if isinstance(body, bytes) else body).strip()


class NestingTooDeep(ValueError):
    """JSON nested deeper than Python's parser can follow (about 1,000 levels: the
    recursion limit). No USCIS answer is nested more than a few levels."""


def decode_json(text: bytes | str) -> Any:
    """The JSON value of ``text``, a body from the network.

    Raises :class:`ValueError` for text that is not JSON, and :class:`NestingTooDeep` (a
    ``ValueError``) for JSON nested too deeply to parse, instead of the parser's
    ``RecursionError``.
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise NestingTooDeep("JSON nested too deeply to read") from None


def _uscis_error(text: str) -> tuple[str, str] | None:
    # (code, message) when ``text`` is one of USCIS's JSON error shapes, else None.
    try:
        found = _from_json(decode_json(text))
    except ValueError:
        return None
    return None if found is None else (one_line(found[0]), _clip(found[1]))


def _is_html(text: str) -> bool:
    return text.startswith("<")


def _html_title(text: str) -> str:
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    return _clip(strip_html(title.group(1))) if title else ""


def _json_kind(text: str) -> str | None:
    # "JSON", "JSON nested too deeply to read", or None for text that is not JSON.
    try:
        decode_json(text)
    except NestingTooDeep as exc:
        return str(exc)
    except ValueError:
        return None
    return "JSON"


def _gateway_fault(body: bytes | str) -> bool:
    # Apigee's own {"fault": ...}: the gateway speaking (a wrong or moved address answers
    # 404 "ApplicationNotFound" so), not the case-status service.
    try:
        data = decode_json(_text_of(body))
    except ValueError:
        return False
    return isinstance(data, dict) and isinstance(data.get("fault"), dict)


def describe_body(body: bytes | str, *, expected: str) -> str:
    """What ``body`` is, in words for the user, when it is not ``expected`` (such as
    "a case status"): "an empty body", "an HTML page: <its title>", "JSON that is not
    <expected>", "JSON nested too deeply to read" or "a body that is not JSON"; never a
    JSON parser's words. Never raises.
    """
    text = _text_of(body)
    if not text:
        return "an empty body"
    if _is_html(text):
        title = _html_title(text)
        return f"an HTML page: {title}" if title else "an HTML page"
    kind = _json_kind(text)
    if kind is None:
        return "a body that is not JSON"
    return f"JSON that is not {expected}" if kind == "JSON" else kind


def not_a_case_status(body: bytes | str) -> UnexpectedAnswer:
    """The error for a 200 whose ``body`` is not a case status: a :class:`BadResponse`
    (retried) when it is empty or not JSON (cut short on the way, seen on the sandbox),
    an :class:`UnexpectedAnswer` for an HTML page, JSON of another shape or JSON nested
    too deeply to read (deterministic: not retried). Never raises.
    """
    text = _text_of(body)
    kind = UnexpectedAnswer if _is_html(text) or _json_kind(text) else BadResponse
    return kind(f"HTTP 200 with {describe_body(text, expected='a case status')}", status=200)


def parse_error_body(body: bytes | str) -> tuple[str, str]:
    """USCIS's ``(code, message)`` from an error body of any known shape; the title of an
    HTML page, or the text itself, for a body of no known shape.

    Returns empty strings for what the body does not say. Never raises.
    """
    text = _text_of(body)
    found = _uscis_error(text)
    if found is not None:
        return found
    if _is_html(text):
        return "", _html_title(text) or _clip(strip_html(text))
    return "", _clip(text)


def error_from_response(status: int, body: bytes | str) -> USCISError:
    """The typed error for an HTTP error response of the case-status endpoint.

    A 404 is a :class:`ReceiptNotRecognized` only when its body is one of USCIS's error
    shapes; an HTML page, an empty body, other JSON or an Apigee ``fault`` (the gateway's
    own answer to an unknown address) is an :class:`UnexpectedAnswer`
    (a proxy or a moved address answered: ``uscis-api.md``, "More facts gathered
    later"). A 429 is a :class:`QuotaExhausted` when its message speaks of a quota,
    otherwise a :class:`SpikeArrest`. Never raises.
    """
    if status == 404 and (_uscis_error(_text_of(body)) is None or _gateway_fault(body)):
        what = (
            f"a gateway fault: {parse_error_body(body)[1]}"
            if _gateway_fault(body)
            else describe_body(body, expected="a USCIS error")
        )
        return UnexpectedAnswer(
            f"HTTP 404 with {what} (a proxy or a moved address, not USCIS: the receipt "
            "number may well be known)",
            status=status,
        )
    code, message = parse_error_body(body)
    kind: type[USCISError]
    if status == 401:
        kind = AuthenticationError
    elif status == 404:
        kind = ReceiptNotRecognized
    elif status == 422:
        kind = MalformedReceipt
    elif status == 429:
        kind = QuotaExhausted if "quota" in message.lower() else SpikeArrest
    elif status == 503:
        kind = ServiceUnavailable
    elif status >= 500:
        kind = ServerError
    else:
        kind = RequestRefused
    return kind(message or f"HTTP {status}", status=status, code=code)


def parse_retry_after(value: str, *, now: float, server_date: str | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (RFC 9110, section 10.2.3): delta
    seconds (``"2"``) or an HTTP date (``"Wed, 02 Dec 2026 19:02:07 GMT"``).

    A date is measured from the response's ``Date`` header ``server_date`` when it has
    one (so a skewed local clock does not stretch or cut the wait), else from ``now``
    (Unix time, seconds). Returns None for a value that is neither (the header is then
    ignored); a date in the past gives 0. Never raises.
    """
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        until = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if until.tzinfo is None:  # "-0000": a date whose zone is unknown; HTTP dates are GMT
        return None
    origin = now
    if server_date:
        try:
            sent = parsedate_to_datetime(server_date)
            origin = sent.timestamp() if sent.tzinfo is not None else now
        except (TypeError, ValueError, IndexError):
            pass
    return max(0.0, until.timestamp() - origin)
