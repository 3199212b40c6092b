import errno
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest

from casewatch.cases import US_EASTERN, CaseStatus, HistoryEntry, parse_case_status
from casewatch.receipts import parse_receipt_number
from casewatch.watchlist import (
    SCHEMA_VERSION,
    DuplicateReceipt,
    Watchlist,
    WatchlistError,
    detect_change,
)

NOW = datetime(2026, 11, 29, 9, 30, tzinfo=US_EASTERN)
RECEIPT = parse_receipt_number("EAC9999103403")

STATUS = CaseStatus(
    receipt_number="EAC9999103403",
    form_type="I-130",
    title_en="Case Was Approved",
    description_en='We approved it. <a href="https://www.uscis.gov">uscis</a>',
    title_es="Caso Fue Aprobado",
    description_es="Aprobamos su caso.",
    submitted=datetime(2023, 5, 1, 8, 0, tzinfo=US_EASTERN),
    modified=datetime(2023, 9, 5, 14, 28, 46, tzinfo=US_EASTERN),
    history=(
        HistoryEntry(date(2023, 9, 5), "2023-09-05", "We approved it.", "Aprobamos."),
        HistoryEntry(None, "sometime", "Odd date"),
    ),
)


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    watchlist = Watchlist(tmp_path / "w.toml")
    watchlist.add(RECEIPT, label="Mom's I-130", added_at=NOW)
    watchlist.add(parse_receipt_number("IOE0123456789"), added_at=NOW)
    watchlist.record_status(RECEIPT, STATUS, NOW)
    watchlist.record_error(parse_receipt_number("IOE0123456789"), "USCIS is unavailable", NOW)
    watchlist.save()

    loaded = Watchlist.load(tmp_path / "w.toml")
    assert list(loaded.cases) == ["EAC9999103403", "IOE0123456789"]
    case = loaded.get(RECEIPT)
    assert case.label == "Mom's I-130"
    assert case.status == STATUS
    assert case.checked_at == NOW
    assert loaded.get("IOE0123456789").last_error == "USCIS is unavailable"
    assert loaded.get("IOE0123456789").status is None


def test_saved_file_is_readable_toml_with_a_schema(tmp_path: Path) -> None:
    watchlist = Watchlist(tmp_path / "w.toml")
    watchlist.add(RECEIPT, added_at=NOW)
    watchlist.save()
    text = (tmp_path / "w.toml").read_text()
    assert text.startswith(f"schema = {SCHEMA_VERSION}\n")
    assert 'receipt_number = "EAC9999103403"' in text
    assert oct((tmp_path / "w.toml").stat().st_mode & 0o777) == "0o600"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.toml", "w.toml.lock", "w.toml.sha256"]


def test_duplicates_are_refused() -> None:
    watchlist = Watchlist(Path("unused.toml"))
    watchlist.add(RECEIPT, added_at=NOW)
    with pytest.raises(DuplicateReceipt, match="already"):
        watchlist.add(parse_receipt_number("eac-9999103403"), added_at=NOW)


def test_a_known_form_type_is_kept_when_a_later_answer_lacks_it() -> None:
    watchlist = Watchlist(Path("unused.toml"))
    watchlist.add(RECEIPT, added_at=NOW)
    watchlist.record_status(RECEIPT, STATUS, NOW)
    later = CaseStatus(RECEIPT.value, "", "Case Was Approved", "text")
    case, _ = watchlist.record_status(RECEIPT, later, NOW)
    assert case.status is not None and case.status.form_type == "I-130"


def test_missing_file_is_an_empty_watchlist(tmp_path: Path) -> None:
    assert len(Watchlist.load(tmp_path / "none.toml")) == 0


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("schema = 1\n[[case]\n", "line 2"),
        ('[[case]]\nreceipt_number = "EAC123"\nadded_at = 2026-01-01T00:00:00Z\n', "case 1"),
        ('[[case]]\nreceipt_number = "EAC9999103403"\n', "added_at"),
        ("[[case]]\nreceipt_number = 5\nadded_at = 2026-01-01T00:00:00Z\n", "text"),
        ('case = "x"\n', "array of tables"),
        ("case = [1, 2]\n", "array of tables"),
        (
            '[[case]]\nreceipt_number = "EAC9999103403"\nadded_at = 2026-01-01T00:00:00Z\n'
            'status = "x"\n',
            "[case.status]",
        ),
        (
            '[[case]]\nreceipt_number = "EAC9999103403"\nadded_at = 2026-01-01T00:00:00Z\n'
            '[case.status]\ntitle_en = "Case Was Approved"\nhistory = "abc"\n',
            "[[history]]",
        ),
        (
            '[[case]]\nreceipt_number = "EAC9999103403"\nadded_at = 2026-01-01T00:00:00Z\n'
            'label = "Alice"\n[[case]]\nreceipt_number = "eac9999103403"\n'
            'added_at = 2026-01-01T00:00:00Z\nlabel = "Bob"\n',
            "listed twice",
        ),
    ],
)
def test_a_bad_file_is_reported_and_left_alone(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "w.toml"
    path.write_text(content)
    before = path.read_bytes()
    with pytest.raises(WatchlistError) as caught:
        Watchlist.load(path)
    assert problem in str(caught.value)
    assert str(path) in str(caught.value)
    assert path.read_bytes() == before


def test_a_failed_save_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "w.toml"
    watchlist = Watchlist(path)
    watchlist.add(RECEIPT, added_at=NOW)
    watchlist.save()
    before = path.read_bytes()
    watchlist.add(parse_receipt_number("LIN9999106498"), added_at=NOW)

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("casewatch.files.os.fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        watchlist.save()
    assert path.read_bytes() == before
    # No temporary file left, and no backup made by a save that did not happen.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.toml", "w.toml.lock", "w.toml.sha256"]


def test_the_first_status_is_recorded_not_marked_and_a_change_is_marked() -> None:
    watchlist = Watchlist(Path("unused.toml"))
    watchlist.add(RECEIPT, added_at=NOW)
    case, first = watchlist.record_status(RECEIPT, STATUS, NOW)
    assert first is not None and first.first and not case.unseen
    case, same = watchlist.record_status(RECEIPT, STATUS, NOW)
    assert same is None and len(case.events) == 1
    later = datetime(2026, 11, 30, 8, 0, tzinfo=US_EASTERN)
    newer = replace(STATUS, title_en="Card Was Mailed To Me", modified=later)
    case, change = watchlist.record_status(RECEIPT, newer, later)
    assert change is not None and not change.first
    assert change.previous_title == "Case Was Approved"
    assert change.title == "Card Was Mailed To Me"
    assert change.fields == ("title",)
    assert change.changed_at == later and change.seen_at == later
    assert case.unseen and len(case.events) == 2
    assert not watchlist.mark_seen(RECEIPT).unseen


def test_a_history_or_description_change_is_a_change() -> None:
    moved = replace(STATUS, history=(HistoryEntry(date(2023, 10, 1), "2023-10-01", "New"),))
    event = detect_change(STATUS, moved, NOW)
    assert event is not None and event.fields == ("history",)
    reworded = replace(STATUS, description_en="Something else")
    event = detect_change(STATUS, reworded, NOW)
    assert event is not None and event.fields == ("description",)


def test_events_and_the_unseen_mark_survive_a_save(tmp_path: Path) -> None:
    watchlist = Watchlist(tmp_path / "w.toml")
    watchlist.add(RECEIPT, added_at=NOW)
    watchlist.record_status(RECEIPT, STATUS, NOW)
    watchlist.record_status(RECEIPT, replace(STATUS, title_en="Card Was Mailed To Me"), NOW)
    watchlist.save()
    loaded = Watchlist.load(tmp_path / "w.toml").get(RECEIPT)
    assert loaded == watchlist.get(RECEIPT)
    assert loaded.unseen and [event.first for event in loaded.events] == [True, False]


def test_labels_and_texts_never_carry_terminal_control_characters(tmp_path: Path) -> None:
    # An escape sequence in an imported label once set the terminal's title.
    evil = "bom\x1b]0;PWNED\x07 \x1b[31mred\x9b\nnext"
    watchlist = Watchlist(tmp_path / "watchlist.toml")
    receipt = parse_receipt_number("EAC2677770001")
    assert watchlist.add(receipt, label=evil, added_at=NOW).label == "bom]0;PWNED [31mred next"
    assert watchlist.set_label(receipt, "\x07tab\there").label == "tab here"
    watchlist.save()
    edited = (
        (tmp_path / "watchlist.toml")
        .read_text()
        .replace('label = "tab here"', 'label = "by hand\\u001b[2J"')
    )
    (tmp_path / "watchlist.toml").write_text(edited)
    assert Watchlist.load(tmp_path / "watchlist.toml").get(receipt).label == "by hand[2J"
    status = parse_case_status(
        {
            "case_status": {
                "receiptNumber": receipt.value,
                "current_case_status_text_en": "Case Was \x1b]0;x\x07Approved",
                "current_case_status_desc_en": "Line one\nline two\x1b[5m",
            }
        }
    )
    assert status.title_en == "Case Was ]0;xApproved"
    assert status.description_en == "Line one\nline two[5m"


# --- A change is a change in meaning; the last answer's time is kept apart ------------------

ODD_ANSWER = {
    "case_status": {
        "receiptNumber": "EAC9999103403",
        "formType": "I-130",
        "current_case_status_text_en": " Case Was Approved ",
        "current_case_status_desc_en": 'We approved it.<br> See <a href="https://x.gov">this</a>'
        " &amp; USCIS&apos; page.\r\n",
        "current_case_status_text_es": "Caso Fue Aprobado",
        "current_case_status_desc_es": "Aprobamos su caso &eacute;l.",
        "hist_case_status": [
            {"date": "2023-09-05", "completed_text_en": "B &amp; b", "completed_text_es": "Bé"},
            {"date": "2023-09-05", "completed_text_en": "A <b>bold</b>  move"},
            {"date": "Sept 5th", "completed_text_en": "undated"},
            {"date": None, "completed_text_en": "no date at all"},
            {"date": "09/05/2023", "completed_text_en": "B &amp; b", "completed_text_es": "Bé"},
        ],
    },
    "message": "Query was successful",
}


def test_a_status_read_back_from_the_file_means_the_same_as_the_answer(tmp_path: Path) -> None:
    """Across restarts: what the TOML file keeps (date_text, no date, Spanish texts,
    entities, line ends) compares equal to the same answer freshly parsed."""
    watchlist = Watchlist(tmp_path / "w.toml")
    watchlist.add(RECEIPT, added_at=NOW)
    watchlist.record_status(RECEIPT, parse_case_status(ODD_ANSWER), NOW)
    watchlist.save()
    loaded = Watchlist.load(tmp_path / "w.toml")
    fresh = parse_case_status(ODD_ANSWER)
    assert detect_change(loaded.get(RECEIPT).status, fresh, NOW) is None
    case, event = loaded.record_status(RECEIPT, fresh, NOW)
    assert event is None and not case.unseen and len(case.events) == 1


def test_reordered_repeated_or_emptied_answers_are_no_change() -> None:
    first = parse_case_status(ODD_ANSWER)
    history = ODD_ANSWER["case_status"]["hist_case_status"]
    for variant in (
        {"hist_case_status": list(reversed(history))},
        {"current_case_status_desc_en": "We approved it. See this (https://x.gov) & USCIS' page."},
        {"current_case_status_text_en": "Case  Was\tApproved"},
        {"current_case_status_text_en": "Case was approved"},  # capitals of another year
    ):
        body = {**ODD_ANSWER, "case_status": {**ODD_ANSWER["case_status"], **variant}}
        body["message"] = "Successfully retrieved case status"
        assert detect_change(first, parse_case_status(body), NOW) is None, variant
    assert parse_case_status(body).history == first.history  # one stored order
    empty, null = (
        parse_case_status({**ODD_ANSWER, "case_status": {**ODD_ANSWER["case_status"], **v}})
        for v in ({"hist_case_status": []}, {"hist_case_status": None})
    )
    assert detect_change(empty, null, NOW) is None and detect_change(null, empty, NOW) is None
    # One of two identical entries going is a change: the history is a multiset.
    fewer = {**ODD_ANSWER["case_status"], "hist_case_status": history[:-1]}
    event = detect_change(first, parse_case_status({"case_status": fewer}), NOW)
    assert event is not None and event.fields == ("history",)


def test_a_failed_check_keeps_the_time_of_the_last_answer(tmp_path: Path) -> None:
    later = datetime(2026, 12, 1, 9, 14, tzinfo=US_EASTERN)
    watchlist = Watchlist(tmp_path / "w.toml")
    watchlist.add(RECEIPT, added_at=NOW)
    watchlist.record_status(RECEIPT, STATUS, NOW)
    watchlist.record_error(RECEIPT, "Could not reach USCIS: ConnectError", later)
    watchlist.save()
    case = Watchlist.load(tmp_path / "w.toml").get(RECEIPT)
    assert (case.answered_at, case.checked_at) == (NOW, later)
    assert case.status == STATUS and case.last_error.startswith("Could not reach USCIS")
    text = (tmp_path / "w.toml").read_text()
    assert "answered_at = 2026-11-29 09:30:00-05:00" in text
    assert "checked_at = 2026-12-01 09:14:00-05:00" in text


def test_a_schema_1_file_gets_the_time_of_its_last_answer(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    path.write_text(
        "schema = 1\n\n"
        '[[case]]\nreceipt_number = "EAC9999103403"\nadded_at = 2026-11-01T08:00:00-04:00\n'
        "checked_at = 2026-11-29T09:30:00-05:00\n"
        '[case.status]\ntitle_en = "Case Was Approved"\n\n'
        '[[case]]\nreceipt_number = "EAC9999103402"\nadded_at = 2026-11-01T08:00:00-04:00\n'
        'checked_at = 2026-11-29T09:30:00-05:00\nlast_error = "Could not reach USCIS"\n'
        '[case.status]\ntitle_en = "Case Was Approved"\n'
    )
    loaded = Watchlist.load(path)
    answered, failed = loaded.cases.values()
    assert answered.answered_at == NOW == answered.checked_at
    assert failed.answered_at is None and failed.checked_at == NOW  # unknown, not invented
    loaded.add(parse_receipt_number("EAC9999103401"), added_at=NOW)
    loaded.save()
    text = path.read_text()
    assert text.startswith(f"schema = {SCHEMA_VERSION}\n")
    assert text.count("answered_at = 2026-11-29 09:30:00-05:00") == 1


def test_a_failed_check_in_one_process_never_hides_an_answer_saved_by_another(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.toml"
    first = Watchlist(path)
    first.add(RECEIPT, added_at=NOW)
    first.save()
    second = Watchlist.load(path)
    answered, failed = NOW.replace(hour=10), NOW.replace(hour=11)
    second.record_status(RECEIPT, STATUS, answered)
    second.save()
    first.record_error(RECEIPT, "Could not reach USCIS", failed)  # later, but no answer
    first.save()
    case = Watchlist.load(path).get(RECEIPT)
    assert case.status == STATUS and case.answered_at == answered
    assert case.checked_at == failed and case.last_error == "Could not reach USCIS"


def test_a_date_out_of_range_stored_by_an_older_casewatch_reads_back_as_its_text(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.toml"
    path.write_text(
        "schema = 2\n[[case]]\n"
        'receipt_number = "EAC9999103403"\nadded_at = 2026-01-01T00:00:00-05:00\n'
        "[case.status]\n"
        'title_en = "Case Was Received"\n'
        "submitted = 1850-01-01T00:00:00-05:00\n"
        "modified = 9999-12-31T23:59:59-05:00\n"
        "[[case.events]]\n"
        "seen_at = 2026-01-02T00:00:00-05:00\n"
        "changed_at = 9999-12-31T23:59:59-05:00\n"
        'title = "Case Was Received"\n',
        encoding="utf-8",
    )
    case = Watchlist.load(path).get(RECEIPT)
    assert [event.changed_at for event in case.events] == [None]
    status = case.status
    assert status is not None
    assert (status.submitted, status.modified) == (None, None)
    assert status.submitted_text == "1850-01-01 00:00:00-05:00"
    assert status.modified_text == "9999-12-31 23:59:59-05:00"
