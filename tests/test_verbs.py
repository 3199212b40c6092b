"""Tests of the headless watchlist verbs: add, remove, list, import, export.

They call ``casewatch.cli.main`` in-process with ``--watchlist`` in ``tmp_path`` and read
what it printed with capsys; nothing here touches the network or the dashboard. One test
starts ``python -m``-style subprocesses to see that no verb imports Textual. The rules
tested are those of each verb's ``--help`` (docs/command-line.md).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from casewatch.cases import US_EASTERN, CaseStatus, HistoryEntry
from casewatch.cli import main
from casewatch.importing import read_rows
from casewatch.listing import EXPORT_COLUMNS
from casewatch.receipts import parse_receipt_number
from casewatch.stages import classify_stage
from casewatch.watchlist import Watchlist

FIRST = "EAC9999103403"
SECOND = "EAC9999103402"
THIRD = "WAC2190012345"


@pytest.fixture(autouse=True)
def no_config_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """CASEWATCH_CONFIG of the developer's shell must not reach the tests."""
    monkeypatch.delenv("CASEWATCH_CONFIG", raising=False)


@pytest.fixture
def watchlist_path(tmp_path: Path) -> Path:
    """Where the tests keep their watchlist (not created yet)."""
    return tmp_path / "watchlist.toml"


def run(capsys: pytest.CaptureFixture[str], watchlist: Path, *argv: str) -> tuple[int, str, str]:
    """``casewatch ARGV --watchlist WATCHLIST``: (exit status, stdout, stderr)."""
    code = main([*argv, "--watchlist", str(watchlist)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def listed(capsys: pytest.CaptureFixture[str], watchlist: Path) -> list[dict[str, object]]:
    """The objects of ``casewatch list --json``."""
    code, out, err = run(capsys, watchlist, "list", "--json")
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


# --- add -------------------------------------------------------------------------------------


def test_add_with_a_label_then_list_json_shows_it(
    capsys: pytest.CaptureFixture[str], watchlist_path: Path
) -> None:
    code, out, err = run(capsys, watchlist_path, "add", "eac-9999-103403", "--label", " Mom ")
    assert code == 0, err
    assert out.strip() == f"added {FIRST} (Mom)"
    [case] = listed(capsys, watchlist_path)
    assert case["receipt_number"] == FIRST
    assert case["label"] == "Mom"
    assert case["checked_at"] is None and case["status"] is None and case["found"] is None
    added_at = datetime.fromisoformat(str(case["added_at"]))
    assert added_at.utcoffset() == US_EASTERN.utcoffset(added_at.replace(tzinfo=None))


def test_add_malformed_exits_2_and_saves_nothing(
    capsys: pytest.CaptureFixture[str], watchlist_path: Path
) -> None:
    code, _, err = run(capsys, watchlist_path, "add", FIRST, "EAC99991O3403")
    assert code == 2
    assert "3 letters + 10 digits" in err and "nothing was added" in err
    assert not watchlist_path.exists()

    run(capsys, watchlist_path, "add", SECOND)
    before = watchlist_path.read_bytes()
    code, _, err = run(capsys, watchlist_path, "add", FIRST, "12")
    assert code == 2
    assert watchlist_path.read_bytes() == before


def test_add_duplicate_is_reported_and_skipped(
    capsys: pytest.CaptureFixture[str], watchlist_path: Path
) -> None:
    run(capsys, watchlist_path, "add", FIRST, "--label", "mom")
    code, out, err = run(capsys, watchlist_path, "add", FIRST.lower(), SECOND)
    assert code == 0, err
    assert out.strip() == f"added {SECOND}"
    assert f"{FIRST} is already on the watchlist (label 'mom', added " in err
    assert [case["label"] for case in listed(capsys, watchlist_path)] == ["mom", ""]


def test_add_unknown_prefix_warns_and_adds(
    capsys: pytest.CaptureFixture[str], watchlist_path: Path
) -> None:
    code, out, err = run(capsys, watchlist_path, "add", "XYZ1234567890")
    assert code == 0
    assert "warning: XYZ1234567890: XYZ is not a known USCIS prefix" in err
    assert "added XYZ1234567890" in out


def test_corrupt_watchlist_exits_2_and_stays_byte_for_byte(
    capsys: pytest.CaptureFixture[str], watchlist_path: Path
) -> None:
    watchlist_path.write_bytes(b"schema = 1\n[[case]\nreceipt_number = 'EAC'\n")
    before = watchlist_path.read_bytes()
    for argv in (
        ("add", FIRST),
        ("remove", FIRST),
        ("list",),
        ("export", "--format", "json"),
    ):
        code, out, err = run(capsys, watchlist_path, *argv)
        assert code == 2, argv
        assert "not valid TOML" in err and str(watchlist_path) in err
        assert out == ""
        assert watchlist_path.read_bytes() == before


# --- remove ----------------------------------------------------------------------------------


def test_remove(capsys: pytest.CaptureFixture[str], watchlist_path: Path) -> None:
    run(capsys, watchlist_path, "add", FIRST, SECOND)
    code, out, err = run(capsys, watchlist_path, "remove", FIRST, THIRD)
    assert code == 0, err
    assert out.strip() == f"removed {FIRST}"
    assert f"{THIRD} is not on the watchlist" in err
    assert [case["receipt_number"] for case in listed(capsys, watchlist_path)] == [SECOND]

    before = watchlist_path.read_bytes()
    code, out, err = run(capsys, watchlist_path, "remove", FIRST)
    assert code == 2
    assert "nothing was removed" in err and out == ""
    assert watchlist_path.read_bytes() == before


def test_watchlist_remove_raises_key_error(tmp_path: Path) -> None:
    watchlist = Watchlist(tmp_path / "w.toml")
    with pytest.raises(KeyError, match="is not on the watchlist"):
        watchlist.remove(FIRST)


# --- import ----------------------------------------------------------------------------------


def test_parse_import_text() -> None:
    parsed = read_rows(f"# my cases\n\n{FIRST}\n  eac 9999 103402  # dad\nEAC12\n")
    good, bad = parsed.good, parsed.bad
    assert parsed.ignored_columns == ()
    assert [(row.line, str(row.receipt), row.details.label) for row in good] == [
        (3, FIRST, ""),
        (4, SECOND, ""),
    ]
    [(line, text, problem)] = bad
    assert (line, text) == (5, "EAC12")
    assert "13" in problem


def test_parse_import_csv_header_and_labels() -> None:
    text = (
        "\ufeff# exported\nName;Receipt Number;Label\n"
        f'x;{FIRST};mom\n\n y ; wac-219-001-2345 ; "dad; I-485"\nz;EACNOPE;\n'
    )
    parsed = read_rows(text)
    good, bad = parsed.good, parsed.bad
    assert parsed.ignored_columns == ("Name",)
    assert [(row.line, str(row.receipt), row.details.label) for row in good] == [
        (3, FIRST, "mom"),
        (5, THIRD, "dad; I-485"),
    ]
    assert [(line, text) for line, text, _ in bad] == [(6, "EACNOPE")]


def test_import_a_text_file_with_a_bad_line(
    capsys: pytest.CaptureFixture[str], watchlist_path: Path, tmp_path: Path
) -> None:
    run(capsys, watchlist_path, "add", SECOND, "--label", "already")
    source = tmp_path / "cases.txt"
    source.write_text(f"# family\n{FIRST}\nnot a receipt\n\n{SECOND}\n{FIRST}\n")
    code, out, err = run(capsys, watchlist_path, "import", str(source))
    assert code == 0, err
    assert out.strip() == f"added {FIRST}"
    assert f"{source}, line 3: 'not a receipt' is not a receipt number" in err
    assert "3 letters + 10 digits" in err
    assert f"line 5: {SECOND} is already on the watchlist (label 'already'" in err
    assert f"line 6: {FIRST} repeats line 2; skipped" in err
    assert [case["receipt_number"] for case in listed(capsys, watchlist_path)] == [SECOND, FIRST]


def test_import_a_csv_file_with_labels(
    capsys: pytest.CaptureFixture[str], watchlist_path: Path, tmp_path: Path
) -> None:
    source = tmp_path / "cases.csv"
    source.write_text(f'receipt_number,label\n{FIRST},Mom\n{SECOND},"Dad, I-130"\n')
    code, out, err = run(capsys, watchlist_path, "import", str(source))
    assert code == 0, err
    assert out.splitlines() == [f"added {FIRST} (Mom)", f"added {SECOND} (Dad, I-130)"]
    cases = listed(capsys, watchlist_path)
    assert [(case["receipt_number"], case["label"]) for case in cases] == [
        (FIRST, "Mom"),
        (SECOND, "Dad, I-130"),
    ]


def test_a_pasted_two_column_list_without_a_header_imports_both_fields(
    capsys: pytest.CaptureFixture[str], watchlist_path: Path, tmp_path: Path
) -> None:
    run(capsys, watchlist_path, "add", THIRD, "--label", "already")
    source = tmp_path / "pasted.txt"
    source.write_text(
        f"{FIRST}\tSmith, John (I-130)\n"  # copied from a spreadsheet: a tab
        f'eac-9999-103402, "Doe; Jane"\n'  # typed: a comma, a quoted label
        f"{THIRD}, Case #4\n"
        ", a label with no receipt\n"
    )
    code, out, err = run(capsys, watchlist_path, "import", str(source))
    assert code == 0, err
    assert out.splitlines() == [
        f"added {FIRST} (Smith, John (I-130))",
        f"added {SECOND} (Doe; Jane)",
    ]
    assert f"line 3: {THIRD} is already on the watchlist (label 'already', added 20" in err
    # When it was added says its zone; the label it has stays without --update.
    assert " ET); label 'Case #4' not set: --update replaces it" in err
    assert "line 4: '' is not a receipt number: it is empty" in err
    labels = {case["receipt_number"]: case["label"] for case in listed(capsys, watchlist_path)}
    assert labels == {THIRD: "already", FIRST: "Smith, John (I-130)", SECOND: "Doe; Jane"}


def test_import_a_missing_file_exits_2(
    capsys: pytest.CaptureFixture[str], watchlist_path: Path, tmp_path: Path
) -> None:
    code, _, err = run(capsys, watchlist_path, "import", str(tmp_path / "missing.txt"))
    assert code == 2
    assert "cannot read" in err
    assert not watchlist_path.exists()


def test_import_a_utf16_file_says_to_save_it_as_utf8(
    capsys: pytest.CaptureFixture[str], watchlist_path: Path, tmp_path: Path
) -> None:
    for encoding in ("utf-16", "utf-16-le"):  # a spreadsheet's "Unicode text", BOM or not
        source = tmp_path / f"{encoding}.txt"
        source.write_text("receipt\nEAC9999103403\n", encoding=encoding)
        code, _, err = run(capsys, watchlist_path, "import", str(source))
        assert code == 2
        assert f"{source} is not UTF-8 text" in err and "CSV UTF-8" in err
        assert "codec" not in err
        assert not watchlist_path.exists()


# --- labels for cases already watched (issue 13, point 2) -------------------------------------


def test_reimporting_a_csv_with_labels_fills_the_empty_ones_and_names_unknown_columns(
    capsys: pytest.CaptureFixture[str], watchlist_path: Path, tmp_path: Path
) -> None:
    run(capsys, watchlist_path, "add", FIRST, SECOND, THIRD)
    run(capsys, watchlist_path, "add", SECOND, "--label", "Doe, Jane (I-130)")
    capsys.readouterr()
    source = tmp_path / "clients.csv"
    source.write_text(
        "Receipt Number,Label,Phone,\n"
        f'{FIRST},"Garcia, Maria",555-0100,\n'
        f"{SECOND},Doe,555-0101,\n"  # a label already there: kept without --update
        f"{THIRD},,555-0102,\n"  # an empty cell never blanks a label
    )
    code, out, err = run(capsys, watchlist_path, "import", str(source))
    assert code == 0, err
    assert out.splitlines() == [f"{FIRST}: label set to 'Garcia, Maria'"]
    assert f"{source}: column 'Phone' ignored" in err
    assert f"line 3: {SECOND} is already on the watchlist (label 'Doe, Jane (I-130)'" in err
    assert "label 'Doe' not set: --update replaces it" in err
    assert f"line 4: {THIRD} is already on the watchlist (no label, added " in err
    assert "1 updated, 2 skipped" in err
    labels = {case["receipt_number"]: case["label"] for case in listed(capsys, watchlist_path)}
    assert labels == {FIRST: "Garcia, Maria", SECOND: "Doe, Jane (I-130)", THIRD: ""}

    code, out, err = run(capsys, watchlist_path, "import", "--update", str(source))
    assert code == 0, err
    assert out.splitlines() == [f"{SECOND}: label 'Doe, Jane (I-130)' replaced by 'Doe'"]
    assert f"line 2: {FIRST} is already on the watchlist (label 'Garcia, Maria'" in err
    assert "0 added, 1 updated, 2 skipped" in err
    labels = {case["receipt_number"]: case["label"] for case in listed(capsys, watchlist_path)}
    assert labels == {FIRST: "Garcia, Maria", SECOND: "Doe", THIRD: ""}


def test_add_label_on_a_watched_case_sets_an_empty_one_and_replaces_with_update(
    capsys: pytest.CaptureFixture[str], watchlist_path: Path
) -> None:
    run(capsys, watchlist_path, "add", FIRST)
    capsys.readouterr()
    code, out, err = run(capsys, watchlist_path, "add", FIRST, THIRD, "--label", "Garcia, Maria")
    assert code == 0, err
    assert out.splitlines() == [
        f"{FIRST}: label set to 'Garcia, Maria'",
        f"added {THIRD} (Garcia, Maria)",
    ]
    code, out, err = run(capsys, watchlist_path, "add", FIRST, "--label", "Garcia, M.")
    assert (code, out) == (0, "")
    assert "(label 'Garcia, Maria', added " in err and "label 'Garcia, M.' not set" in err
    assert "--update replaces it" in err
    code, out, err = run(capsys, watchlist_path, "add", FIRST, "--label", "Garcia, M.", "--update")
    assert code == 0, err
    assert out.strip() == f"{FIRST}: label 'Garcia, Maria' replaced by 'Garcia, M.'"
    code, out, err = run(capsys, watchlist_path, "add", FIRST, "--update")  # no --label
    assert (code, out) == (0, "")
    assert "(label 'Garcia, M.', added" in err and "; unchanged" in err
    assert [case["label"] for case in listed(capsys, watchlist_path)] == [
        "Garcia, M.",
        "Garcia, Maria",
    ]


# --- list and export -------------------------------------------------------------------------


def checked_watchlist(path: Path) -> None:
    """A watchlist of two cases: FIRST answered by USCIS, SECOND never checked."""
    watchlist = Watchlist.load(path)
    added_at = datetime(2026, 10, 20, 8, 0, tzinfo=US_EASTERN)
    watchlist.add(parse_receipt_number(FIRST), label="Mom, I-130", added_at=added_at)
    watchlist.add(parse_receipt_number(SECOND), added_at=added_at)
    status = CaseStatus(
        receipt_number=FIRST,
        form_type="I-130",
        title_en="Case Was Approved",
        description_en="<p>We approved your case.</p>",
        modified=datetime(2026, 11, 20, 14, 0, tzinfo=US_EASTERN),
        history=(HistoryEntry(date=None, date_text="", text_en="Received"),),
    )
    watchlist.record_status(
        parse_receipt_number(FIRST), status, datetime(2026, 11, 29, 9, 30, tzinfo=US_EASTERN)
    )
    watchlist.save()


def test_list_table_and_json(capsys: pytest.CaptureFixture[str], watchlist_path: Path) -> None:
    checked_watchlist(watchlist_path)
    code, out, err = run(capsys, watchlist_path, "list")
    assert code == 0, err
    header, first, second = out.splitlines()
    assert header.split() == ["RECEIPT", "LABEL", "FORM", "STAGE", "STATUS", "CHANGED", "CHECKED"]
    assert first.startswith(f"{FIRST}  Mom, I-130  I-130")
    assert "Case Was Approved" in first and "2026-11-20" in first
    assert first.endswith("2026-11-29 09:30 ET")  # when USCIS answered, with the zone
    assert second.split() == [SECOND, "-", "-", "-", "-", "-", "-"]

    found, unchecked = listed(capsys, watchlist_path)
    assert found["found"] is True and found["status"] == "Case Was Approved"
    assert found["description"] == "We approved your case."
    assert found["checked_at"] == "2026-11-29T09:30:00-05:00"
    assert found["added_at"] == "2026-10-20T08:00:00-04:00"
    assert unchecked["found"] is None and unchecked["label"] == ""


def test_a_long_error_does_not_widen_the_list_table(
    capsys: pytest.CaptureFixture[str], watchlist_path: Path
) -> None:
    checked_watchlist(watchlist_path)
    watchlist = Watchlist.load(watchlist_path)
    watchlist.record_error(
        parse_receipt_number(SECOND), "USCIS is unavailable " * 20, datetime.now(US_EASTERN)
    )
    watchlist.save()
    code, out, err = run(capsys, watchlist_path, "list")
    assert code == 0, err
    assert "error: USCIS is unavailable" in out and "…" in out
    assert max(len(line) for line in out.splitlines()) < 160
    code, out, err = run(capsys, watchlist_path, "list", "--json")
    assert ("USCIS is unavailable " * 20).strip() in out


def on_a_terminal(monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    """Standard output (capsys's) is a terminal ``columns`` wide."""
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", str(columns))


EVERY_COLUMN = ["RECEIPT", "LABEL", "FORM", "STAGE", "STATUS", "CHANGED", "CHECKED"]


@pytest.mark.parametrize(
    ("columns", "shown"),
    [
        (200, EVERY_COLUMN),
        (100, EVERY_COLUMN),
        (80, EVERY_COLUMN[:-1]),
        (60, ["RECEIPT", "LABEL", "STAGE", "STATUS"]),
        (45, ["RECEIPT", "LABEL", "STAGE"]),  # the label outlasts the status
        (20, ["RECEIPT", "STAGE"]),  # never fewer, even past the width
    ],
)
def test_list_on_a_terminal_fits_its_width_and_piped_prints_whole_rows(
    capsys: pytest.CaptureFixture[str],
    watchlist_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    columns: int,
    shown: list[str],
) -> None:
    checked_watchlist(watchlist_path)
    watchlist = Watchlist.load(watchlist_path)
    label = "Garcia, Maria (I-485 AOS) and her husband's I-130 petition"
    watchlist.set_label(SECOND, label)
    watchlist.save()
    code, piped, _ = run(capsys, watchlist_path, "list")
    assert code == 0
    assert f"{SECOND}  {label}  -" in piped  # whole rows when piped

    on_a_terminal(monkeypatch, columns)
    code, out, err = run(capsys, watchlist_path, "list")
    assert code == 0, err
    header, first, second = out.splitlines()
    assert header.split() == shown
    if columns >= 45:
        assert max(len(line) for line in (header, first, second)) <= columns
    assert first.startswith(f"{FIRST}  ") and second.startswith(f"{SECOND}  ")
    assert "approved" in first
    if columns == 200:
        assert out == piped  # room enough: nothing cut
    elif "LABEL" in shown:
        cut = second.split("  ")[1]
        assert cut.endswith("…") and label.startswith(cut[:-1])


def et(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A US Eastern time."""
    return datetime(year, month, day, hour, minute, tzinfo=US_EASTERN)


def record(
    watchlist: Watchlist, receipt: str, title: str, modified: datetime, seen_at: datetime
) -> None:
    """Record in ``watchlist`` that USCIS answered ``title`` for ``receipt``, changed at
    ``modified`` by USCIS's clock, seen by casewatch at ``seen_at``."""
    status = CaseStatus(
        receipt_number=receipt,
        form_type="I-485",
        title_en=title,
        description_en=f"{title}.",
        modified=modified,
    )
    watchlist.record_status(parse_receipt_number(receipt), status, seen_at)


def test_list_and_export_select_by_stage_and_change_date(
    capsys: pytest.CaptureFixture[str], watchlist_path: Path
) -> None:
    checked_watchlist(watchlist_path)  # FIRST: USCIS changed it 2026-11-20, seen 11-29
    watchlist = Watchlist.load(watchlist_path)
    record(watchlist, SECOND, "Card Was Mailed To Me", et(2026, 11, 2, 10), et(2026, 11, 3, 8))
    # USCIS dates this change before the last: casewatch saw it on 12-01.
    record(watchlist, SECOND, "New Card Is Being Produced", et(2026, 10, 30), et(2026, 12, 1))
    watchlist.add(parse_receipt_number(THIRD), added_at=datetime.now(US_EASTERN))  # unchecked
    watchlist.save()

    def receipts(*argv: str) -> list[str]:
        code, out, err = run(capsys, watchlist_path, "list", "--json", *argv)
        assert code == 0, err
        return [json.loads(line)["receipt_number"] for line in out.splitlines()]

    assert receipts("--stage", "approved") == [FIRST]
    assert receipts("--stage", "Card-Or_Document") == [SECOND]
    assert receipts("--changed-since", "2026-11-20") == [FIRST, SECOND]
    # SECOND: USCIS dated it 10-30, but casewatch saw the change on 12-01.
    assert receipts("--changed-since", "2026-11-21") == [SECOND]
    # FIRST's first status, recorded on 11-29 when it was added, is no change.
    assert receipts("--changed-since", "2026-12-02", "--stage", "approved") == []
    code, out, err = run(capsys, watchlist_path, "list", "--stage", "action needed")
    assert (code, out) == (0, "")
    assert f"no case of {watchlist_path} matches --stage 'action needed'" in err

    code, out, err = run(
        capsys, watchlist_path, "export", "--changed-since", "2026-11-21", "--format", "csv"
    )
    assert code == 0, err
    assert [row["receipt_number"] for row in csv.DictReader(io.StringIO(out))] == [SECOND]
    code, out, err = run(
        capsys, watchlist_path, "export", "--stage", "approved", "--format", "json"
    )
    assert [case["receipt_number"] for case in json.loads(out)] == [FIRST]


def test_changed_since_counts_days_back_from_today_in_us_eastern(
    capsys: pytest.CaptureFixture[str], watchlist_path: Path
) -> None:
    today = datetime.now(US_EASTERN)
    watchlist = Watchlist.load(watchlist_path)
    for receipt, days in ((FIRST, 3), (SECOND, 10)):
        watchlist.add(parse_receipt_number(receipt), added_at=today)
        modified = (today - timedelta(days=days)).replace(microsecond=0)
        record(watchlist, receipt, "Case Was Received", modified=modified, seen_at=today)
    watchlist.save()
    code, out, err = run(capsys, watchlist_path, "list", "--changed-since", "7d")
    assert code == 0, err
    assert [line.split()[0] for line in out.splitlines()[1:]] == [FIRST]
    code, out, err = run(capsys, watchlist_path, "list", "--changed-since", "10D")
    assert [line.split()[0] for line in out.splitlines()[1:]] == [FIRST, SECOND]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("--stage", "pending"),
            "'pending' is not a stage: give one of received, biometrics, in review, "
            "transferred, action needed, interview, approved, card or document, returned, "
            "denied, withdrawn, unknown",
        ),
        (
            ("--changed-since", "11/30/2026"),
            "'11/30/2026' is not a date: give a US Eastern date as YYYY-MM-DD (2026-11-30) "
            "or a number of days back, such as 7d",
        ),
        (("--changed-since", "7 days"), "'7 days' is not a date"),
    ],
)
@pytest.mark.parametrize("verb", ["list", "export"])
def test_a_bad_stage_or_date_is_a_usage_error_that_says_what_to_give(
    capsys: pytest.CaptureFixture[str],
    watchlist_path: Path,
    verb: str,
    argv: tuple[str, ...],
    message: str,
) -> None:
    with pytest.raises(SystemExit) as exit_status:
        run(capsys, watchlist_path, verb, *argv)
    assert exit_status.value.code == 2
    assert message in capsys.readouterr().err


def test_list_json_includes_the_change_events(
    capsys: pytest.CaptureFixture[str], watchlist_path: Path
) -> None:
    checked_watchlist(watchlist_path)
    watchlist = Watchlist.load(watchlist_path)
    record(watchlist, FIRST, "Card Was Mailed To Me", et(2026, 11, 30, 16), et(2026, 12, 1, 7, 5))
    watchlist.save()
    first, unchecked = listed(capsys, watchlist_path)
    assert unchecked["events"] == []
    recorded, change = first["events"]
    assert recorded["first"] is True and recorded["status"] == "Case Was Approved"
    assert change == {
        "previous_status": "Case Was Approved",
        "status": "Card Was Mailed To Me",
        "changed": ["title", "description", "history"],
        "changed_at": "2026-11-30T16:00:00-05:00",
        "seen_at": "2026-12-01T07:05:00-05:00",
        "first": False,
    }


def test_export_csv_to_a_file(
    capsys: pytest.CaptureFixture[str], watchlist_path: Path, tmp_path: Path
) -> None:
    checked_watchlist(watchlist_path)
    target = tmp_path / "out" / "cases.csv"
    target.parent.mkdir()
    code, out, err = run(
        capsys, watchlist_path, "export", "--format", "csv", "--output", str(target)
    )
    assert code == 0, err
    assert str(target) in out
    reader = csv.DictReader(io.StringIO(target.read_text(encoding="utf-8")))
    assert tuple(reader.fieldnames or ()) == EXPORT_COLUMNS
    first, second = list(reader)
    assert first == {
        "receipt_number": FIRST,
        "label": "Mom, I-130",
        "client": "",
        "tags": "",
        "note": "",
        "form_type": "I-130",
        "stage": classify_stage("Case Was Approved").value,
        "status": "Case Was Approved",
        "changed": "2026-11-20",
        "checked": "2026-11-29T09:30-05:00",
        "answered": "2026-11-29T09:30-05:00",
        "last_error": "",
    }
    assert second["receipt_number"] == SECOND and second["status"] == ""
    assert [p.name for p in target.parent.iterdir()] == ["cases.csv"]


def test_a_failed_check_keeps_the_time_of_the_last_answer_in_list_and_json(
    capsys: pytest.CaptureFixture[str], watchlist_path: Path
) -> None:
    checked_watchlist(watchlist_path)
    watchlist = Watchlist.load(watchlist_path)
    failed_at = datetime(2026, 12, 1, 9, 14, tzinfo=US_EASTERN)
    watchlist.record_error(parse_receipt_number(FIRST), "Could not reach USCIS", failed_at)
    watchlist.save()
    code, out, err = run(capsys, watchlist_path, "list")
    assert code == 0, err
    first = out.splitlines()[1]
    assert "Case Was Approved" in first and first.endswith("⚠ 2026-11-29 09:30 ET")
    found = listed(capsys, watchlist_path)[0]
    assert found["answered_at"] == "2026-11-29T09:30:00-05:00"
    assert found["checked_at"] == "2026-12-01T09:14:00-05:00"
    assert found["last_error"] == "Could not reach USCIS"
    assert found["status"] == "Case Was Approved"


def test_export_to_a_folder_that_does_not_exist_names_it(
    capsys: pytest.CaptureFixture[str], watchlist_path: Path, tmp_path: Path
) -> None:
    checked_watchlist(watchlist_path)
    folder = tmp_path / "mistyped"
    code, out, err = run(capsys, watchlist_path, "export", "--output", str(folder / "c.csv"))
    assert code == 1 and out == ""
    assert f"the folder {folder} does not exist" in err
    assert "Errno" not in err
    assert not folder.exists()


def test_export_json_to_stdout(capsys: pytest.CaptureFixture[str], watchlist_path: Path) -> None:
    checked_watchlist(watchlist_path)
    code, out, err = run(capsys, watchlist_path, "export", "--format", "json")
    assert code == 0, err
    cases = json.loads(out)
    assert [case["receipt_number"] for case in cases] == [FIRST, SECOND]
    assert cases == listed(capsys, watchlist_path)


def test_export_guesses_the_format_from_the_file_name_and_defuses_formulas(
    capsys: pytest.CaptureFixture[str], watchlist_path: Path, tmp_path: Path
) -> None:
    checked_watchlist(watchlist_path)
    watchlist = Watchlist.load(watchlist_path)
    watchlist.set_label(SECOND, '=HYPERLINK("http://example.test","click")')
    watchlist.save()
    target = tmp_path / "cases.json"
    code, _, err = run(capsys, watchlist_path, "export", "--output", str(target))
    assert code == 0, err
    assert [case["receipt_number"] for case in json.loads(target.read_text())] == [FIRST, SECOND]
    code, out, err = run(capsys, watchlist_path, "export")
    assert code == 0, err
    second = list(csv.DictReader(io.StringIO(out)))[1]
    assert second["label"] == '\'=HYPERLINK("http://example.test","click")'


def test_verbs_on_an_empty_watchlist(
    capsys: pytest.CaptureFixture[str], watchlist_path: Path
) -> None:
    code, out, err = run(capsys, watchlist_path, "list")
    assert (code, out) == (0, "")
    assert "is empty" in err
    code, out, _ = run(capsys, watchlist_path, "export")
    assert (code, out) == (0, ",".join(EXPORT_COLUMNS) + "\n")
    assert not watchlist_path.exists()


# --- no Textual ------------------------------------------------------------------------------


def test_verbs_do_not_import_textual(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CASEWATCH_")}
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        env[name] = str(tmp_path / name.lower())
    source = tmp_path / "cases.txt"
    source.write_text(f"{SECOND}\n")
    watchlist = tmp_path / "w.toml"
    program = (
        "import sys; from casewatch.cli import main; w = ['--watchlist', sys.argv[2]]; "
        "codes = [main(['add', sys.argv[1], *w]), main(['import', sys.argv[3], *w]), "
        "main(['list', *w]), main(['list', '--json', *w]), main(['export', *w]), "
        "main(['remove', sys.argv[1], *w]), main(['quota'])]; "
        "print(codes, 'textual' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", program, FIRST, str(watchlist), str(source)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[0, 0, 0, 0, 0, 0, 0] False"
