import pytest

from casewatch.receipts import (
    ReceiptNumberError,
    mask_receipts,
    normalize_receipt_text,
    parse_receipt_number,
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("EAC9999103403", "EAC9999103403"),
        ("  eac-99-991-03403 ", "EAC9999103403"),
        ("eac 9999 103 403", "EAC9999103403"),
        ("IOE0123456789", "IOE0123456789"),
        ("eac*999103403", "EAC*999103403"),
        ("LIN\u20119999106498", "LIN9999106498"),
    ],
)
def test_typed_forms_normalize(typed: str, expected: str) -> None:
    assert parse_receipt_number(typed).value == expected


def test_leading_zero_survives() -> None:
    receipt = parse_receipt_number("IOE0012345678")
    assert str(receipt) == "IOE0012345678"
    assert receipt.prefix == "IOE"
    assert receipt.service_center == "filed online (ELIS)"


def test_masked_form_is_flagged() -> None:
    assert parse_receipt_number("EAC*999103403").masked
    assert not parse_receipt_number("EAC9999103403").masked


def test_unknown_prefix_is_a_warning_not_an_error() -> None:
    receipt = parse_receipt_number("ZZZ1234567890")
    assert receipt.service_center is None
    assert len(receipt.warnings) == 1
    assert "ZZZ" in receipt.warnings[0]
    assert parse_receipt_number("EAC9999103403").warnings == ()


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("", "empty"),
        ("EAC999910340", "12 characters"),
        ("EAC99991034031", "14 characters"),
        ("EAC99991O3403", "letter O"),
        ("EAC9999x03403", "only digits"),
        ("12C9999103403", "3 letters"),
        ("EAC*99910340", "12 characters"),
    ],
)
def test_malformed_numbers_explain_the_format(typed: str, problem: str) -> None:
    with pytest.raises(ReceiptNumberError) as caught:
        parse_receipt_number(typed)
    message = str(caught.value)
    assert problem in message
    assert "3 letters + 10 digits" in message


def test_the_letter_o_hint_only_when_the_bad_character_is_an_o() -> None:
    with pytest.raises(ReceiptNumberError) as caught:
        parse_receipt_number("EAC9999x03O03")  # an O further on, but the x is named
    assert "found 'X'" in str(caught.value)
    assert "letter O" not in str(caught.value)
    with pytest.raises(ReceiptNumberError) as caught:
        parse_receipt_number("EAC99991o3403")
    assert "found 'O' (the letter O where a zero belongs?)" in str(caught.value)


def test_normalize_keeps_the_asterisk() -> None:
    assert normalize_receipt_text(" src-*999-132710 ") == "SRC*999132710"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("LIN2112345752", "LIN21•••••752"),
        ("checking LIN2112345752: 503", "checking LIN21•••••752: 503"),
        ("IOE0912345678,LIN2112345752.", "IOE09•••••678,LIN21•••••752."),
        (
            "as typed: eac-99-991-03403 and EAC\u20119999103402",
            "as typed: EAC99•••••403 and EAC99•••••402",
        ),
        ("XEAC9999103403", "XEAC99•••••403"),  # inside a word too
        ("EAC*999103403", "EAC*9•••••403"),
        ("Berlin 2026-12-02 09:30 ET", "Berlin 2026-12-02 09:30 ET"),
        (
            "EAC12345 and 2026-12-02 09:30 ET, 1234567890123",
            "EAC12345 and 2026-12-02 09:30 ET, 1234567890123",
        ),
    ],
)
def test_mask_receipts_keeps_the_first_5_and_last_3_characters_of_every_receipt(
    text: str, masked: str
) -> None:
    assert mask_receipts(text) == masked
