from datetime import date, datetime

import pytest

from casewatch.cases import (
    US_EASTERN,
    PayloadError,
    parse_case_status,
    parse_uscis_date,
    strip_html,
)
from casewatch.stages import Stage


def payload(**fields: object) -> dict[str, object]:
    body: dict[str, object] = {
        "receiptNumber": "EAC9999103403",
        "formType": "I-130",
        "submittedDate": "09-05-2023 14:28:46",
        "modifiedDate": "09-06-2023 10:00:00",
        "current_case_status_text_en": "Case Was Approved",
        "current_case_status_desc_en": "On September 5, 2023, we approved your Form I-130.",
        "current_case_status_text_es": "Caso Fue Aprobado",
        "current_case_status_desc_es": "El 5 de septiembre de 2023, aprobamos su Formulario I-130.",
        "hist_case_status": [
            {"date": "2023-09-05", "completed_text_en": "We approved your Form I-130."},
        ],
    }
    body.update(fields)
    return {"case_status": body, "message": "Query was successful"}


def test_success_payload_parses() -> None:
    case = parse_case_status(payload())
    assert case.receipt_number == "EAC9999103403"
    assert case.form_type == "I-130"
    assert case.title_es == "Caso Fue Aprobado"
    assert case.description_es.startswith("El 5 de septiembre")
    assert case.submitted == datetime(2023, 9, 5, 14, 28, 46, tzinfo=US_EASTERN)
    assert case.stage is Stage.APPROVED
    assert case.history[0].date == date(2023, 9, 5)


def test_null_history_is_empty() -> None:
    case = parse_case_status(payload(hist_case_status=None))
    assert case.history == ()
    assert case.last_changed == datetime(2023, 9, 6, 10, tzinfo=US_EASTERN)


def test_online_filing_without_dates() -> None:
    body = payload(receiptNumber="IOE0123456789")
    del body["case_status"]["submittedDate"]  # type: ignore[attr-defined]
    del body["case_status"]["modifiedDate"]  # type: ignore[attr-defined]
    case = parse_case_status(body)
    assert case.submitted is None and case.modified is None
    assert case.last_changed == datetime(2023, 9, 5, tzinfo=US_EASTERN)


def test_unordered_history_with_two_date_formats_comes_newest_first() -> None:
    history = [
        {"date": "2023-01-10", "completed_text_en": "received"},
        {"date": "06/01/2023", "completed_text_en": "fingerprints"},
        {"date": "not a date", "completed_text_en": "odd"},
        {"date": "2023-03-02", "completed_text_en": "review"},
    ]
    case = parse_case_status(payload(hist_case_status=history))
    assert [entry.text_en for entry in case.history] == [
        "fingerprints",
        "review",
        "received",
        "odd",
    ]
    assert case.history[-1].date is None
    assert case.history[-1].date_text == "not a date"


def test_html_in_descriptions_keeps_links_readable() -> None:
    text = 'Please <a href="https://www.uscis.gov/contactcenter">contact us</a> &amp; wait.<br>OK'
    assert strip_html(text) == "Please contact us (https://www.uscis.gov/contactcenter) & wait.\nOK"
    case = parse_case_status(
        payload(hist_case_status=[{"date": "2023-01-01", "completed_text_en": "<b>bold</b>"}])
    )
    assert case.history[0].text_en == "bold"


@pytest.mark.parametrize(
    "body",
    [None, [], {"message": "x"}, {"case_status": {"receiptNumber": "EAC9999103403"}}],
)
def test_payload_without_a_case_status_is_a_payload_error(body: object) -> None:
    with pytest.raises(PayloadError):
        parse_case_status(body)


def test_odd_field_types_do_not_crash() -> None:
    case = parse_case_status(payload(formType=None, submittedDate=12, hist_case_status=[1, "x"]))
    assert case.form_type == ""
    assert case.submitted is None
    assert case.history == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-09-05", date(2023, 9, 5)),
        ("09-05-2023", date(2023, 9, 5)),
        ("09/05/2023", date(2023, 9, 5)),
        ("September 5, 2023", date(2023, 9, 5)),
        ("09-05-2023 14:28:46", date(2023, 9, 5)),
        ("2023-02-30", None),
        ("", None),
    ],
)
def test_history_dates_are_parsed_tolerantly(text: str, expected: date | None) -> None:
    assert parse_uscis_date(text) == expected
