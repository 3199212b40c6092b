"""Fuzzing (issue 6, item 7): whatever a person types, USCIS sends or a hand edit leaves in
a watchlist, casewatch answers with a typed, user-facing error, never a crash.

Hypothesis, derandomized (the same examples on every run, so CI is repeatable) and
without an example database (the examples never depend on earlier runs): receipt
numbers as typed; API bodies as random JSON and random bytes, given to the parsers and
to the client as HTTP responses with various status codes, on the case-status and the
token URL; watchlist files as random bytes and as valid watchlists mutated in their
text and in their values.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import string
import tempfile
import tomllib
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
import stamina
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casewatch.cases import (
    DATE_LAYOUTS,
    EARLIEST_YEAR,
    US_EASTERN,
    CaseStatus,
    HistoryEntry,
    PayloadError,
    latest_year,
    parse_case_status,
    parse_uscis_datetime,
    printable,
    strip_html,
)
from casewatch.receipts import (
    ReceiptNumber,
    ReceiptNumberError,
    normalize_receipt_text,
    parse_receipt_number,
)
from casewatch.redact import redact, secrets_redacted
from casewatch.sandbox import staging_case
from casewatch.uscis.auth import Credentials, Secret
from casewatch.uscis.bodies import BoundedBody
from casewatch.uscis.client import CaseStatusClient
from casewatch.uscis.errors import (
    AnswerTooLarge,
    UnexpectedAnswer,
    USCISError,
    error_from_response,
    not_a_case_status,
    parse_error_body,
)
from casewatch.uscis.limits import RateLimiter
from casewatch.watchlist import Watchlist, WatchlistError, parse_watchlist, watchlist_text

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow],
)
"""Pure functions: 300 examples each."""

FUZZ_IO = settings(FUZZ, max_examples=100)
"""Examples that write a file or run an HTTP exchange: 100 each."""

RECEIPT = parse_receipt_number("EAC9999103403")
NOW = datetime(2026, 11, 29, 9, 30, tzinfo=US_EASTERN)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
"""Any JSON value (NaN and infinities included: Python's json writes and reads them)."""

FIELDS = tuple(staging_case("EAC9999103403")["case_status"])
"""The fields of a case status, as the sandbox sends them."""

html_texts = st.text(alphabet="<>![]/-&#;:=\"' ?abxCDAT", max_size=40) | st.sampled_from(
    ["<![foo bar]>", "<![CDATA[x]]>", "<!--", "&#99999999999;", '<a href="x">y</a>', "<br>"]
)
"""Text in and around HTML markup, as USCIS descriptions and history texts carry."""

field_values = (
    json_values
    | html_texts
    | st.sampled_from(["EAC9999103403", "03-01-2023 10:00:00", "2023-13-45", "<b>x</b>", ""])
    | st.lists(
        st.dictionaries(
            st.sampled_from(["date", "completed_text_en", "completed_text_es", "x"]),
            json_values | html_texts,
        ),
        max_size=3,
    )
)
case_payloads = st.builds(
    lambda fields, extra: {"case_status": fields, **extra},
    st.dictionaries(st.sampled_from(FIELDS), field_values),
    st.dictionaries(st.sampled_from(["message", "code", "error"]), json_values, max_size=2),
)
"""Bodies shaped like a case status, with random values for its fields."""

error_bodies = st.one_of(
    json_values.map(lambda value: json.dumps(value).encode()),
    json_values.map(lambda value: b"\n\n  " + json.dumps({"error": value}).encode()),
    st.dictionaries(
        st.sampled_from(["fault", "errors", "Error", "ErrorCode", "message"]), json_values
    )
    .map(json.dumps)
    .map(str.encode),
    st.text().map(lambda text: f"<html><title>{text}</title></html>".encode()),
    st.binary(max_size=200),
)
"""Error bodies: random JSON in the known shapes, HTML, random bytes."""


# Receipt numbers ------------------------------------------------------------------------

typed_receipts = st.one_of(
    st.text(),
    st.text(alphabet=string.ascii_letters + string.digits + " -*\u2010\u2011\t", max_size=20),
    st.from_regex(r"\s*[A-Za-z]{3}[\s-]?[0-9*]{2,12}[\s-]?[0-9OoIl]{0,4}\s*", fullmatch=True),
)


@FUZZ
@given(typed_receipts)
def test_a_typed_receipt_is_a_receipt_number_or_a_receipt_number_error(text: str) -> None:
    normalize_receipt_text(text)  # never raises
    try:
        receipt = parse_receipt_number(text)
    except ReceiptNumberError as exc:
        assert isinstance(exc, ValueError)
        assert "Expected 3 letters + 10 digits" in str(exc)
        assert exc.problem
        return
    assert isinstance(receipt, ReceiptNumber)
    assert len(receipt.value) == 13
    assert parse_receipt_number(receipt.value) == receipt
    assert all(isinstance(warning, str) for warning in receipt.warnings)


# API bodies -------------------------------------------------------------------------------


def check_case_status(status: CaseStatus) -> None:
    """Everything the dashboard and the watchlist read of a parsed status."""
    assert status.receipt_number and status.title_en
    status.stage  # noqa: B018
    status.last_changed  # noqa: B018
    assert all(isinstance(entry, HistoryEntry) for entry in status.history)


@FUZZ
@given(html_texts | st.text())
def test_any_description_gives_plain_text(text: str) -> None:
    assert isinstance(strip_html(text), str)


@FUZZ
@given(json_values | case_payloads)
def test_a_200_body_is_a_case_status_or_a_payload_error(payload: Any) -> None:
    try:
        status = parse_case_status(payload)
    except PayloadError as exc:
        assert str(exc)
        return
    check_case_status(status)


@FUZZ
@given(st.integers(min_value=400, max_value=599), error_bodies)
def test_an_error_body_gives_a_typed_error_with_a_message(status: int, body: bytes) -> None:
    code, message = parse_error_body(body)
    assert isinstance(code, str) and isinstance(message, str)
    error = error_from_response(status, body)
    assert isinstance(error, USCISError)
    assert error.status == status
    assert error.message and str(error)


def client_answering(transport: httpx.MockTransport, directory: Path) -> CaseStatusClient:
    limiter = RateLimiter(directory / "limits.json", tps=1_000_000.0, daily_quota=1_000_000)
    credentials = Credentials("casewatch-fuzz", Secret("casewatch-fuzz-secret"))
    return CaseStatusClient(
        host_url="http://sandbox.invalid",
        credentials=credentials,
        limiter=limiter,
        transport=transport,
    )


TOKEN = {"access_token": "fuzz-token", "expires_in": "1799", "token_type": "Bearer"}

statuses = st.sampled_from([200, 200, 200, 400, 401, 403, 404, 422, 429, 500, 502, 503, 504])
bodies = st.one_of(case_payloads.map(lambda payload: json.dumps(payload).encode()), error_bodies)


def fetch(transport: httpx.MockTransport) -> CaseStatus | USCISError:
    """One case-status request through the client, with retries but no waits."""

    async def run() -> CaseStatus:
        with tempfile.TemporaryDirectory() as directory:
            async with client_answering(transport, Path(directory)) as client:
                return await client.get_case_status(RECEIPT)

    try:
        with stamina.set_testing(True, attempts=2):
            return asyncio.run(run())
    except USCISError as exc:
        return exc


@FUZZ_IO
@given(statuses, bodies)
def test_any_case_status_response_gives_a_status_or_a_typed_error(status: int, body: bytes) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/accesstoken":
            return httpx.Response(200, json=TOKEN)
        return httpx.Response(status, content=body)

    result = fetch(httpx.MockTransport(answer))
    if isinstance(result, USCISError):
        assert result.message and str(result)
    else:
        check_case_status(result)


token_values = json_values | st.sampled_from(["1799", "0", "-5", "nan", "inf", "1e400", "", "x"])


@FUZZ_IO
@given(
    statuses,
    st.one_of(
        st.dictionaries(st.sampled_from(["access_token", "expires_in", "x"]), token_values)
        .map(json.dumps)
        .map(str.encode),
        error_bodies,
    ),
)
def test_any_token_response_gives_a_status_or_a_typed_error(status: int, body: bytes) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/accesstoken":
            return httpx.Response(status, content=body)
        return httpx.Response(
            200,
            json={
                "case_status": {
                    "receiptNumber": RECEIPT.value,
                    "current_case_status_text_en": "Case Was Approved",
                }
            },
        )

    result = fetch(httpx.MockTransport(answer))
    if isinstance(result, USCISError):
        assert result.message and str(result)
    else:
        check_case_status(result)


# Watchlist files ----------------------------------------------------------------------------


def valid_watchlist_text() -> str:
    watchlist = Watchlist(Path("unused.toml"))
    watchlist.add(RECEIPT, label="Mom's I-130", added_at=NOW)
    status = CaseStatus(
        receipt_number=RECEIPT.value,
        form_type="I-130",
        title_en="Case Was Received",
        description_en="We received it.",
        modified=NOW - timedelta(days=30),
        history=(HistoryEntry(date(2026, 10, 1), "2026-10-01", "Received."),),
    )
    watchlist.record_status(RECEIPT, status, NOW)
    changed = CaseStatus(
        receipt_number=RECEIPT.value,
        form_type="I-130",
        title_en="Case Was Approved",
        description_en="We approved it.",
        modified=NOW,
        history=status.history,
    )
    watchlist.record_status(RECEIPT, changed, NOW + timedelta(hours=1))
    other = parse_receipt_number("IOE0123456789")
    watchlist.add(other, added_at=NOW)
    watchlist.record_error(other, "USCIS is unavailable", NOW)
    return watchlist_text(watchlist.cases)


VALID = valid_watchlist_text()

toml_values = st.recursive(
    st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.datetimes(timezones=st.none() | st.just(UTC) | st.timezones())
    | st.dates()
    | st.times(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=6,
)
"""Any value TOML can hold (tomli-w writes it)."""

extreme_datetimes = st.sampled_from(
    [
        datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=14))),
        datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14))),
        datetime(1, 1, 1, 0, 0),
        datetime(9999, 12, 31, 23, 59, 59),
    ]
)


def replace_leaf(document: Any, path: list[int], value: Any) -> Any:
    """``document`` with one of its values (chosen by ``path``) replaced by ``value``."""
    if not path or not isinstance(document, dict | list) or not document:
        return value
    keys = list(document) if isinstance(document, dict) else list(range(len(document)))
    key = keys[path[0] % len(keys)]
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[key] = replace_leaf(document[key], path[1:], value)
    return copy


def load(tmp_path: Path, content: bytes) -> None:
    """Load ``content`` as a watchlist file: a Watchlist, or a WatchlistError with a
    message naming the file; the same cases, or the same error, as when the text is
    parsed whole (a file as casewatch writes it is read case by case)."""
    path = tmp_path / "watchlist.toml"
    path.write_bytes(content)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    try:
        watchlist = Watchlist.load(path)
    except WatchlistError as exc:
        assert str(path) in str(exc) or "case" in str(exc)
        if text is not None:
            with pytest.raises(WatchlistError) as whole:
                parse_watchlist(text, path)
            assert str(whole.value) == str(exc)
        return
    assert text is not None and watchlist.cases == parse_watchlist(text, path)
    watchlist_text(watchlist.cases)  # what a save would write


@FUZZ_IO
@given(st.binary(max_size=300))
def test_random_bytes_are_a_watchlist_or_a_watchlist_error(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        load(Path(directory), content)


@FUZZ_IO
@given(
    st.integers(min_value=0, max_value=len(VALID)),
    st.integers(min_value=0, max_value=20),
    st.text(max_size=10)
    | st.sampled_from(["[[case]]", "\n[[case]]\n", "=", '"', '"""', "\n", "[", "]", "'''", "#"])
    | st.sampled_from(["[other]\n", "\n[case.status]\n", "schema = 1\n", "\r\n"]),
)
def test_an_edited_watchlist_is_a_watchlist_or_a_watchlist_error(
    position: int, deleted: int, inserted: str
) -> None:
    text = VALID[:position] + inserted + VALID[position + deleted :]
    with tempfile.TemporaryDirectory() as directory:
        load(Path(directory), text.encode("utf-8", "surrogatepass"))


@FUZZ_IO
@given(
    st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=6),
    toml_values | extreme_datetimes,
)
def test_a_watchlist_with_a_wrong_value_is_a_watchlist_or_a_watchlist_error(
    path: list[int], value: Any
) -> None:
    mutated = replace_leaf(tomllib.loads(VALID), path, value)
    if not isinstance(mutated, dict):
        mutated = {"case": mutated}
    with tempfile.TemporaryDirectory() as directory:
        load(Path(directory), tomli_w.dumps(mutated).encode())


# Dates USCIS sends (issue 11, point 2) --------------------------------------------------------

date_texts = st.one_of(
    st.builds(
        lambda moment, layout: moment.strftime(layout.replace("%Y", f"{moment.year:04d}")),
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
        st.sampled_from(DATE_LAYOUTS),
    ),
    st.sampled_from(["01-01-1800 00:00:00", "03-11-1883 12:03:58", "01-01-1900 00:00:00"]),
    st.text(max_size=20),
)
"""Dates of any year from 1 to 9999 in the layouts USCIS sends (uscis-api.md, "Case
status"), around the end of local mean
time in 1883, and random text."""


@FUZZ
@given(date_texts, date_texts, date_texts)
def test_any_date_uscis_sends_is_written_and_read_back(
    submitted: str, modified: str, day: str
) -> None:
    payload = staging_case(RECEIPT.value)
    payload["case_status"].update(
        submittedDate=submitted,
        modifiedDate=modified,
        hist_case_status=[{"date": day, "completed_text_en": "We received your case."}],
    )
    status = parse_case_status(payload)
    for moment in (status.submitted, status.modified):
        assert moment is None or EARLIEST_YEAR <= moment.year <= latest_year()
    if status.modified is None:  # kept as USCIS's text, cleaned of controls
        assert status.modified_text == printable(modified).strip()
    assert parse_uscis_datetime(modified) == status.modified
    watchlist = Watchlist(Path("unused.toml"))
    watchlist.add(RECEIPT, added_at=NOW)
    watchlist.record_status(RECEIPT, status, NOW)
    text = watchlist_text(watchlist.cases)
    assert parse_watchlist(text, Path("unused.toml")) == watchlist.cases


# Echoed secrets and bounded bodies (issue 11, points 3 and 5) ------------------------------

FUZZ_SECRET = "fuzz-Secret+/=%&\"'\\ 9d7e1b"
"""A client secret with every character a form, a URL or JSON escapes, registered as
any :class:`Secret` is."""

FUZZ_TOKEN = "fuzz-Token.5f0c9d7e1b8a2e4c"

LIVE = (Secret(FUZZ_SECRET), Secret(FUZZ_TOKEN))
"""The secrets of the echo tests, alive (registered) as the client's are."""

echo_shapes = st.sampled_from(
    [
        "{}",  # as sent
        "client_secret={}",
        "grant_type=client_credentials&client_secret={}&x=1",
        '"client_secret": "{}"',
        "'access_token': '{}'",
        "Authorization: Bearer {}",
        '{{"headers": {{"authorization": "Bearer {}"}}}}',
        "access_token={}",
    ]
)
secret_forms = st.sampled_from(
    [
        lambda value: value,
        quote_plus,
        lambda value: quote(value, safe=""),
        lambda value: json.dumps(value)[1:-1],
    ]
)


@FUZZ
@given(
    st.integers(min_value=400, max_value=599),
    st.text(max_size=400),
    st.text(max_size=40),
    echo_shapes,
    secret_forms,
    st.sampled_from([FUZZ_SECRET, FUZZ_TOKEN]),
    st.sampled_from(["{}", '{{"message": {}}}', '{{"Error": {}}}', "<title>{}</title>"]),
)
def test_an_echoed_secret_never_reaches_an_error_message(
    status: int,
    before: str,
    after: str,
    shape: str,
    form: Any,
    secret: str,
    wrapper: str,
) -> None:
    echoed = before + shape.format(form(secret)) + after
    body = wrapper.format(json.dumps(echoed) if wrapper != "{}" else echoed)
    for error in (error_from_response(status, body.encode()), not_a_case_status(body.encode())):
        for text in (str(error), error.message, error.code):
            for value in (FUZZ_SECRET, FUZZ_TOKEN):
                for sent in (value, quote_plus(value), json.dumps(value)[1:-1]):
                    assert sent not in text
    payload = staging_case(RECEIPT.value)
    payload["case_status"].update(current_case_status_desc_en=echoed, formType=echoed)
    status_kept = parse_case_status(payload)
    assert secret not in status_kept.description_en + status_kept.form_type


@FUZZ
@given(st.text(alphabet="abc XYZ-.'", max_size=80))
def test_texts_without_credentials_are_not_redacted(text: str) -> None:
    # "bearer" and "token" as English words, short values: USCIS's texts stay as sent.
    for sample in (text, f"the bearer of {text}", f"token {text}"):
        assert redact(sample) == sample


class Chunks(httpx.AsyncByteStream):
    """A body as the network gives it: in chunks."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


def encoded(data: bytes, coding: str) -> bytes:
    wbits = {"gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS, "raw": -zlib.MAX_WBITS}
    if coding not in wbits:
        return data
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits[coding])
    return compressor.compress(data) + compressor.flush()


async def read_all(stream: BoundedBody) -> bytes:
    return b"".join([piece async for piece in stream])


@FUZZ
@given(
    st.binary(max_size=3000) | st.integers(0, 300_000).map(bytes),
    st.sampled_from(["", "identity", "gzip", "deflate", "raw"]),
    st.lists(st.integers(1, 5000), max_size=5),
    st.integers(0, 200_000),
)
def test_a_body_is_read_whole_up_to_the_limit_and_refused_past_it(
    data: bytes, coding: str, cuts: list[int], limit: int
) -> None:
    wire = encoded(data, coding)
    points = sorted({0, len(wire), *(cut % (len(wire) + 1) for cut in cuts)})
    chunks = [wire[start:end] for start, end in itertools.pairwise(points)]
    stream = BoundedBody(
        Chunks(chunks),
        status=200,
        encoding="deflate" if coding == "raw" else coding,
        token=False,
        limit=limit,
    )
    if max(len(data), len(wire)) > limit:
        with pytest.raises(AnswerTooLarge, match=f"larger than {limit:,} bytes"):
            asyncio.run(read_all(stream))
    else:
        assert asyncio.run(read_all(stream)) == data


@FUZZ
@given(st.binary(min_size=1, max_size=200), st.sampled_from(["gzip", "deflate", "br", "gzip, br"]))
def test_a_body_that_does_not_decompress_is_a_typed_error(data: bytes, coding: str) -> None:
    stream = BoundedBody(Chunks([data]), status=200, encoding=coding, token=True, limit=10_000)
    try:
        asyncio.run(read_all(stream))
    except UnexpectedAnswer as error:  # BadResponse and AnswerTooLarge are ones
        assert str(error).startswith("An unexpected answer: the token URL answered HTTP 200")


def test_a_token_is_redacted_while_it_lives_and_the_redaction_stays_small() -> None:
    # A dashboard fetches 48 tokens a day: only the live ones are redacted by value.
    client_secret = Secret("casewatch-lived-secret")
    before = secrets_redacted()
    for number in range(1000):
        token = Secret(f"fuzz-token-{number:06d}-5f0c9d7e1b")
        assert redact(f"echo {token.reveal()}") == "echo [redacted]"
    assert secrets_redacted() == before + 1
    assert redact(f"x {client_secret.reveal()} y") == "x [redacted] y"
