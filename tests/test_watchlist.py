import errno
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest

from casewatch.cases import US_EASTERN, CaseStatus, HistoryEntry, parse_case_status
from casewatch.receipts import parse_receipt_number
from casewatch.watchlist import DuplicateReceipt, Watchlist, WatchlistError, detect_change

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
    assert text.startswith("schema = 1")
    assert 'receipt_number = "EAC9999103403"' in text
    assert oct((tmp_path / "w.toml").stat().st_mode & 0o777) == "0o600"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.toml", "w.toml.lock"]


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
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.toml", "w.toml.bak", "w.toml.lock"]


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
