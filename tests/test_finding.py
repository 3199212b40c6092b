"""Finding cases as a person types (issue 13, point 8; issue 14, point 2): words, accents,
the separators of receipt numbers and form types, and every field a case is found by."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from casewatch.cases import CaseStatus
from casewatch.finding import (
    COMBINING_MARKS,
    NOT_RECOGNIZED,
    SearchTexts,
    is_not_recognized,
    normalize,
    parse_query,
)
from casewatch.receipts import parse_receipt_number
from casewatch.uscis.errors import ReceiptNotRecognized
from casewatch.watchlist import WatchedCase

ADDED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def garcia() -> WatchedCase:
    return WatchedCase(
        parse_receipt_number("MSC2590612345"),
        ADDED,
        label="Garcia, Maria (I-485 AOS)",
        status=CaseStatus(
            "MSC2590612345",
            "I-485",
            "Request for Evidence Was Sent",
            "We sent you a request for evidence.",
            title_es="Se Envió una Solicitud de Evidencia",
        ),
        client="Familia Núñez",
        tags=("JD", "premium"),
        note="Call the client's sister\nbefore the RFE answer",
    )


def finds(query: str, case: WatchedCase) -> bool:
    return SearchTexts().select(parse_query(query), [case]) == [case]


def test_every_word_must_match_in_any_field() -> None:
    case = garcia()
    assert finds("garcia i-485", case)
    assert finds("i-485 garcia", case)  # in any order
    assert not finds("garcia i-765", case)  # one word missing: not found
    assert finds("", case) and finds("  ", case)  # no words: every case


def test_accents_and_case_are_ignored_both_ways() -> None:
    case = garcia()
    assert finds("garcía", case)
    assert finds("GARCÍA MARÍA", case)
    assert finds("nunez", case)  # the client is "Familia Núñez"
    assert finds("envio solicitud", case)  # USCIS's Spanish title, accents dropped
    assert finds("Søren", replace(case, label="Soren Aerø"))
    assert finds("straße", replace(case, note="Hauptstrasse 4"))


def test_the_separators_of_receipt_numbers_and_form_types_are_ignored() -> None:
    case = garcia()
    for query in ("MSC-25-906", "msc 25906", "MSC2590612345", "msc.2590612345", "i485", "I 485"):
        assert finds(query, case), query
    assert not finds("MSC-25-907", case)
    assert finds("o'brien", replace(case, client="OBrien"))
    assert finds("obrien", replace(case, client="O\u2019Brien"))  # a typographic apostrophe


def test_client_tags_note_stage_and_status_are_found() -> None:
    case = garcia()
    assert finds("familia", case)
    assert finds("premium", case) and finds("jd", case)
    assert finds("sister rfe", case)  # the note, over its two lines
    assert finds("action needed", case)  # the stage of a request for evidence
    assert finds("request evidence", case)
    # Words do not run across fields or words: "maria" and "i485" stay apart.
    assert not finds("mariai485", case)


def test_words_without_a_letter_or_digit_are_found_as_typed() -> None:
    case = replace(garcia(), label="[/] [red]boss [H-1B]")
    assert parse_query("[/] h1b") == parse_query("[/]  H-1B")
    assert finds("[/]", case) and finds("[/] boss", case) and finds("[RED]", case)
    assert not finds("[/]", garcia()) and not finds("# boss", case)


def test_a_case_uscis_does_not_recognize_is_found_by_its_error() -> None:
    error = str(ReceiptNotRecognized("Case Status Online does not recognize the receipt"))
    case = WatchedCase(parse_receipt_number("EAC1234567890"), ADDED, last_error=error)
    assert is_not_recognized(case)
    assert finds(NOT_RECOGNIZED, case)
    assert finds("not recognize", case) and finds("case status online", case)
    failing = replace(case, last_error="USCIS is unavailable: 503")
    assert not is_not_recognized(failing)
    assert finds("unavailable", failing) and not finds(NOT_RECOGNIZED, failing)
    assert not finds("unavailable", replace(failing, last_error=""))


def test_a_search_text_is_made_once_per_version_of_a_case() -> None:
    texts = SearchTexts()
    case = garcia()
    first = texts(case)
    assert texts(case) is first  # the same case: not made again
    relabelled = replace(case, label="Lopez, Ana")
    assert "lopez ana" in texts(relabelled) and "garcia" not in texts(relabelled)


_ACCENTS = ("\u0301", "\u0300", "\u0308", "\u0302", "\u0303")  # acute, grave, diaeresis, ...
_SEPARATORS = ("-", ".", "/", "_", "\u2013")

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)


@st.composite
def typed_as_a_person_would(draw: st.DrawFn, word: str) -> str:
    """``word`` with its case changed, accents put on letters and separators between
    its characters, as people type receipt numbers, form types and names."""
    typed = []
    for char in word:
        if draw(st.booleans()):
            char = char.upper()
        if char.isalpha() and draw(st.booleans()):
            char = unicodedata.normalize("NFC", char + draw(st.sampled_from(_ACCENTS)))
        typed.append(char)
        if draw(st.integers(0, 4)) == 0:
            typed.append(draw(st.sampled_from(_SEPARATORS)))
    return "".join(typed)


@given(st.data(), st.lists(words, min_size=1, max_size=6), st.sampled_from(["label", "note"]))
def test_any_words_of_a_field_typed_any_way_find_the_case(
    data: st.DataObject, label_words: list[str], field: str
) -> None:
    case = replace(garcia(), **{field: " ".join(label_words)})
    chosen = data.draw(st.lists(st.sampled_from(label_words), min_size=1, max_size=3))
    query = " ".join(data.draw(typed_as_a_person_would(word)) for word in chosen)
    assert finds(query, case), query


@given(st.text(max_size=40))
def test_normalizing_is_idempotent_and_keeps_no_accent_nor_upper_case(text: str) -> None:
    normalized = normalize(text)
    assert normalize(normalized) == normalized
    assert not COMBINING_MARKS.search(normalized)
    assert normalized == normalized.casefold()
    assert "  " not in normalized and normalized == normalized.strip()
