"""What a 200 says, checked before it is believed (casewatch.uscis.answers): the salvage
of description links whose quotes are not escaped, and nothing else; the receipt number
answered against the one asked. The loopback tests of the same rules, as the user sees
them, are in test_cli.py and test_refresh_cli.py."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from casewatch.receipts import parse_receipt_number
from casewatch.sandbox import synthetic_case
from casewatch.uscis.answers import case_status_from_answer, is_answer_for, repair_text_quotes
from casewatch.uscis.errors import BadResponse, UnexpectedAnswer
from conftest import LINKED_DESCRIPTION, broken_quotes_answer

RECEIPT = parse_receipt_number("EAC2612000401")


def test_the_broken_quotes_of_every_text_field_are_repaired() -> None:
    payload = synthetic_case(RECEIPT.value)
    status = payload["case_status"]
    status["current_case_status_desc_es"] = 'Vaya a <a href="https://www.uscis.gov/es">USCIS</a>.'
    status["hist_case_status"] = [
        {
            "date": "2026-01-02",
            "completed_text_en": 'See <a href="x">x</a>',
            "completed_text_es": "",
        }
    ]
    intended = json.dumps(payload)
    broken = intended.replace('\\"', '"')
    assert repair_text_quotes(broken) == intended


def test_a_salvaged_body_keeps_the_link() -> None:
    status = case_status_from_answer(RECEIPT, broken_quotes_answer(RECEIPT.value).body)
    assert status.description_en == LINKED_DESCRIPTION
    assert status.receipt_number == RECEIPT.value


@pytest.mark.parametrize(
    "damage",
    [
        lambda body: body[:-40],  # cut short as well
        lambda body: body.replace('"formType": "', '"formType": "I-"', 1),  # not a text field
        lambda body: body.replace('"receiptNumber"', "receiptNumber", 1),  # a bare key
    ],
)
def test_only_that_defect_is_salvaged(damage: Callable[[str], str]) -> None:
    body = broken_quotes_answer(RECEIPT.value).body.decode()
    damaged = damage(body)
    with pytest.raises(BadResponse) as caught:
        case_status_from_answer(RECEIPT, damaged.encode())
    assert caught.value.message == "HTTP 200 with a body that is not JSON"


def test_a_valid_body_is_read_as_it_is() -> None:
    payload = synthetic_case(RECEIPT.value)
    payload["case_status"]["current_case_status_desc_en"] = 'He said "hi", "}'
    status = case_status_from_answer(RECEIPT, json.dumps(payload).encode())
    assert status.description_en == 'He said "hi", "}'


@pytest.mark.parametrize(
    ("asked", "answered", "same"),
    [
        ("EAC2612000401", "EAC2612000401", True),
        ("EAC2612000401", "eac-26-120-00401", True),
        ("EAC*612000401", "EAC2612000401", True),  # masked: * is any one digit
        ("EAC*612000401", "EAC7612000401", True),
        ("EAC2612000401", "EAC2612000402", False),
        ("EAC2612000401", "LIN2612000401", False),
        ("EAC*612000401", "EACX612000401", False),
        ("EAC2612000401", "EAC26120004011", False),
    ],
)
def test_the_answer_must_be_for_the_receipt_asked(asked: str, answered: str, same: bool) -> None:
    assert is_answer_for(parse_receipt_number(asked), answered) is same


def test_an_answer_for_another_receipt_is_an_error_not_retried() -> None:
    body = json.dumps(synthetic_case("EAC2612000402")).encode()
    with pytest.raises(UnexpectedAnswer) as caught:
        case_status_from_answer(RECEIPT, body)
    assert not caught.value.retryable
    assert "the case status of EAC2612000402, not of EAC2612000401" in str(caught.value)
