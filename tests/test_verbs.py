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
from datetime import datetime
from pathlib import Path

import pytest

from casewatch.cases import US_EASTERN, CaseStatus, HistoryEntry
from casewatch.cli import main
from casewatch.importing import parse_import
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
    good, bad = parse_import(f"# my cases\n\n{FIRST}\n  eac 9999 103402  # dad\nEAC12\n")
    assert [(line, str(receipt), label) for line, receipt, label in good] == [
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
    good, bad = parse_import(text)
    assert [(line, str(receipt), label) for line, receipt, label in good] == [
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
    assert " ET); skipped" in err  # when it was added says its zone
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
        "main(['remove', sys.argv[1], *w])]; "
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
    assert result.stdout.splitlines()[-1] == "[0, 0, 0, 0, 0, 0] False"
