"""Clients, tags and notes from the command line (issue 14, point 1): ``add --client
--tag --note``, ``edit``, ``list --client --tag``, and import and export carrying them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from casewatch.watchlist import Watchlist
from test_verbs import (  # the helpers and autouse fixture of the watchlist verbs' tests
    FIRST,
    SECOND,
    THIRD,
    checked_watchlist,
    listed,
    no_config_variable,  # noqa: F401
    on_a_terminal,
    run,
)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """The watchlist of the test (not created yet)."""
    return tmp_path / "watchlist.toml"


NOTE = "Sent the RFE answer on 11/20.\nAsk Maria for her 2024 tax transcripts."


def details(capsys: pytest.CaptureFixture[str], path: Path) -> dict[str, tuple[object, ...]]:
    """Each case's (label, client, tags, note), from ``list --json``."""
    return {
        str(case["receipt_number"]): (case["label"], case["client"], case["tags"], case["note"])
        for case in listed(capsys, path)
    }


# --- add -------------------------------------------------------------------------------------


def test_add_with_a_client_tags_and_a_note_then_list_shows_them(
    capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    code, out, err = run(
        capsys,
        path,
        *("add", FIRST, SECOND, "--label", "I-485", "--client", " Garcia,  Maria "),
        *("--tag", "JD", "--tag", "premium", "--tag", "jd", "--note", NOTE),
    )
    assert code == 0, err
    assert out.splitlines() == [
        f"added {FIRST} (I-485), client 'Garcia, Maria', tags 'JD; premium', a note",
        f"added {SECOND} (I-485), client 'Garcia, Maria', tags 'JD; premium', a note",
    ]
    both = ("I-485", "Garcia, Maria", ["JD", "premium"], NOTE)
    assert details(capsys, path) == {FIRST: both, SECOND: both}
    run(capsys, path, "add", THIRD)
    code, out, _ = run(capsys, path, "list")
    header, first, _, third = out.splitlines()
    assert header.split() == [
        *("RECEIPT", "LABEL", "CLIENT", "FORM", "STAGE", "STATUS", "CHANGED", "CHECKED")
    ]
    assert first.startswith(f"{FIRST}  I-485  Garcia, Maria  -")
    assert third.startswith(f"{THIRD}  -      -              -")
    assert "Ask Maria" not in out  # the note is in --json


@pytest.mark.parametrize(
    ("option", "reason"),
    [
        (["--tag", "JD;premium"], "holds ';', which separates tags"),
        (["--tag", "ok", "--tag", "\x1b]0;owned\x07"], "holds a control or invisible character"),
        (["--tag", ""], "a tag is empty"),
        (["--note", "x" * 4001], "the note is 4,001 characters long: give at most 4,000"),
    ],
)
def test_add_a_bad_tag_or_note_exits_2_with_the_reason_and_saves_nothing(
    capsys: pytest.CaptureFixture[str], path: Path, option: list[str], reason: str
) -> None:
    code, out, err = run(capsys, path, "add", FIRST, *option)
    assert (code, out) == (2, "")
    assert reason in err and "nothing was added" in err
    assert "\x1b" not in err and "\x07" not in err  # the reason never replays the sequence
    assert not path.exists()


def test_add_fills_the_details_a_watched_case_lacks_and_update_replaces_them(
    capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    run(capsys, path, "add", FIRST, "--client", "Garcia, Maria")
    code, out, err = run(capsys, path, "add", FIRST, "--client", "Doe", "--tag", "JD")
    assert code == 0, err
    assert out.strip() == f"{FIRST}: tags set to 'JD'"
    assert f"{FIRST}: client 'Doe' not set: --update replaces it" in err
    code, out, err = run(capsys, path, "add", FIRST, "--client", "Doe", "--update")
    assert code == 0, err
    assert out.strip() == f"{FIRST}: client 'Garcia, Maria' replaced by 'Doe'"
    assert details(capsys, path) == {FIRST: ("", "Doe", ["JD"], "")}


# --- edit ------------------------------------------------------------------------------------


def test_edit_adds_and_removes_tags_and_sets_or_blanks_the_other_fields(
    capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    run(capsys, path, "add", FIRST, "--client", "Garcia", "--tag", "JD", "--tag", "RK")
    code, out, err = run(
        capsys,
        path,
        *("edit", FIRST.lower(), "--tag", "priority", "--untag", "jd", "--note", NOTE),
        *("--label", "I-130"),
    )
    assert code == 0, err
    assert out.strip() == (
        f"{FIRST}: label set to 'I-130'; tags 'JD; RK' replaced by 'RK; priority'; "
        "note set to 'Sent the RFE answer on 11/20. …'"
    )
    assert details(capsys, path) == {FIRST: ("I-130", "Garcia", ["RK", "priority"], NOTE)}
    code, out, err = run(capsys, path, "edit", FIRST, "--client", "", "--untag", "x")
    assert code == 0, err
    assert out.strip() == f"{FIRST}: client 'Garcia' removed"
    assert f"{FIRST} has no tag 'x'; its tags: RK; priority" in err
    assert details(capsys, path)[FIRST][1] == ""
    code, out, err = run(capsys, path, "edit", FIRST, "--tag", "RK")
    assert (code, out) == (0, "") and f"{FIRST}: unchanged" in err


def test_edit_refuses_bad_input_before_changing_anything(
    capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    run(capsys, path, "add", FIRST, "--tag", "JD")
    before = path.read_bytes()
    for argv, message in [
        ((FIRST, "--client", "Doe", "--tag", "a;b"), "holds ';'"),
        ((FIRST,), "nothing to change: give --label, --client, --tag, --untag, --note or --due"),
        ((SECOND, "--tag", "x"), f"{SECOND} is not on the watchlist"),
        (("EAC99991O3403", "--tag", "x"), "3 letters + 10 digits"),
    ]:
        code, out, err = run(capsys, path, "edit", *argv)
        assert (code, out) == (2, ""), argv
        assert message in err
        assert path.read_bytes() == before
    assert details(capsys, path) == {FIRST: ("", "", ["JD"], "")}


# --- list ------------------------------------------------------------------------------------


def test_list_selects_by_client_any_case_and_by_tag(
    capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    run(capsys, path, "add", FIRST, SECOND, "--client", "Garcia, Maria", "--tag", "JD")
    run(capsys, path, "add", THIRD, "--client", "Doe, Jane", "--tag", "premium")
    code, out, err = run(capsys, path, "list", "--client", "GARCIA,  maria", "--json")
    assert code == 0, err
    assert len(out.splitlines()) == 2 and FIRST in out and SECOND in out and THIRD not in out
    code, out, err = run(capsys, path, "list", "--tag", "Premium")
    assert code == 0, err
    assert THIRD in out and FIRST not in out
    code, out, err = run(capsys, path, "export", "--client", "doe, jane")
    assert [row["receipt_number"] for row in csv.DictReader(io.StringIO(out))] == [THIRD]
    code, out, err = run(capsys, path, "list", "--client", "Doe, Jane", "--tag", "JD")
    assert (code, out) == (0, "")
    assert "matches --client 'Doe, Jane' --tag 'JD'" in err


def test_list_an_unknown_client_lists_nothing_and_names_the_clients_there_are(
    capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    run(capsys, path, "add", FIRST)
    code, out, err = run(capsys, path, "list", "--client", "Garcia")
    assert (code, out) == (0, "")
    assert "has the client 'Garcia' (no case has a client: casewatch edit" in err
    run(capsys, path, "edit", FIRST, "--client", "Garcia, Maria")
    code, out, err = run(capsys, path, "list", "--client", "Garcia", "--json")
    assert (code, out) == (0, "")
    assert "has the client 'Garcia' (its clients: 'Garcia, Maria')" in err
    run(capsys, path, "add", SECOND)
    code, out, err = run(capsys, path, "list", "--client", "", "--json")  # those without one
    assert code == 0, err
    assert SECOND in out and FIRST not in out


@pytest.mark.parametrize(
    ("columns", "shown"),
    [
        (120, ["RECEIPT", "LABEL", "CLIENT", "FORM", "STAGE", "STATUS", "CHANGED", "CHECKED"]),
        (80, ["RECEIPT", "LABEL", "CLIENT", "STAGE", "STATUS"]),
        (60, ["RECEIPT", "LABEL", "CLIENT", "STAGE"]),  # the status hides before the client
        (45, ["RECEIPT", "LABEL", "STAGE"]),
    ],
)
def test_on_a_narrow_terminal_the_client_hides_after_the_status(
    capsys: pytest.CaptureFixture[str],
    path: Path,
    monkeypatch: pytest.MonkeyPatch,
    columns: int,
    shown: list[str],
) -> None:
    checked_watchlist(path)
    watchlist = Watchlist.load(path)
    watchlist.set_case_details(FIRST, client="Garcia, Maria (adjustment of status family)")
    watchlist.save()
    on_a_terminal(monkeypatch, columns)
    code, out, err = run(capsys, path, "list")
    assert code == 0, err
    header, first, _ = out.splitlines()
    assert header.split() == shown
    assert max(len(line) for line in out.splitlines()) <= columns
    if "CLIENT" in shown and columns < 120:
        assert "Garcia, Maria (…" in first or "Garcia, Maria (adj" in first


# --- import and export -----------------------------------------------------------------------


def test_an_export_imports_back_into_a_fresh_watchlist_with_every_detail(
    capsys: pytest.CaptureFixture[str], path: Path, tmp_path: Path
) -> None:
    run(
        capsys,
        path,
        *("add", FIRST, "--label", '=HYPERLINK("x")', "--client", "Garcia, Maria"),
        *("--tag", "JD", "--tag", "+premium", "--note", f'-{NOTE}\n\tindented, "quoted"'),
    )
    run(capsys, path, "add", SECOND, "--label", "'=already quoted", "--tag", "@RK")
    run(capsys, path, "add", THIRD, "--client", "Doe; Jane", "--note", "one line")
    exported = tmp_path / "cases.csv"
    code, _, err = run(capsys, path, "export", "--output", str(exported))
    assert code == 0, err
    assert "'=HYPERLINK" in exported.read_text(encoding="utf-8")  # defused for spreadsheets
    fresh = tmp_path / "fresh.toml"
    code, _, err = run(capsys, fresh, "import", str(exported))
    assert code == 0, err
    assert "3 added, 0 updated, 0 skipped, 0 not receipt numbers" in err
    assert "ignored" not in err  # the status columns: the next check brings them
    assert details(capsys, fresh) == details(capsys, path)
    assert details(capsys, fresh)[FIRST] == (
        '=HYPERLINK("x")',
        "Garcia, Maria",
        ["JD", "+premium"],
        f'-{NOTE}\n\tindented, "quoted"',
    )


def test_import_fills_client_tags_and_note_and_update_replaces_them(
    capsys: pytest.CaptureFixture[str], path: Path, tmp_path: Path
) -> None:
    run(capsys, path, "add", FIRST, "--client", "Garcia")
    run(capsys, path, "add", SECOND)
    source = tmp_path / "clients.csv"
    source.write_text(
        f'receipt;Client;Tags;Notes\n{FIRST};Garcia, Maria;JD; premium;"two\nlines"\n'.replace(
            "JD; premium", '"JD; premium"'
        )
        + f"{SECOND};;;\n"  # empty cells never blank anything
        + f"{THIRD};Doe;RK;\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, path, "import", str(source))
    assert code == 0, err
    assert out.splitlines() == [
        f"{FIRST}: tags set to 'JD; premium'; note set to 'two …'",
        f"added {THIRD}, client 'Doe', tags 'RK'",
    ]
    # a row with a quoted line break has the number of its last line
    assert f"line 3: {FIRST}: client 'Garcia, Maria' not set: --update replaces it" in err
    assert f"line 4: {SECOND} is already on the watchlist (no label" in err
    code, out, err = run(capsys, path, "import", "--update", str(source))
    assert code == 0, err
    assert out.splitlines() == [f"{FIRST}: client 'Garcia' replaced by 'Garcia, Maria'"]
    assert details(capsys, path) == {
        FIRST: ("", "Garcia, Maria", ["JD", "premium"], "two\nlines"),
        SECOND: ("", "", [], ""),
        THIRD: ("", "Doe", ["RK"], ""),
    }


def test_an_imported_row_with_a_bad_tag_is_named_and_the_others_imported(
    capsys: pytest.CaptureFixture[str], path: Path, tmp_path: Path
) -> None:
    source = tmp_path / "cases.csv"
    source.write_text(f'receipt,tags\n{FIRST},JD\n{SECOND},"ok; bad\x1b[2Jtag"\n', encoding="utf-8")
    code, out, err = run(capsys, path, "import", str(source))
    assert code == 0, err
    assert out.strip() == f"added {FIRST}, tags 'JD'"
    assert f"{source}, line 3: {SECOND}: the tag 'bad\\x1b[2Jtag' holds a control" in err
    assert "; not imported" in err and "1 added" in err and "1 refused" in err
    assert list(details(capsys, path)) == [FIRST]
