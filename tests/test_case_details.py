"""A case's client, tags and note in the watchlist (issue 14, point 1): how they are
kept, their TOML and its schema, and the merge of what two processes wrote."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from casewatch.cases import US_EASTERN
from casewatch.receipts import parse_receipt_number
from casewatch.watchlist import (
    SCHEMA_VERSION,
    CaseDetailError,
    Watchlist,
    WatchlistError,
    clean_note,
    clean_tag,
    clean_tags,
    merge_tags,
    reading,
    without_tags,
)
from casewatch.watchlist import toml as watchlist_toml
from casewatch.watchlist.model import NOTE_MAX_CHARS, TAG_MAX_CHARS

NOW = datetime(2026, 11, 29, 9, 30, tzinfo=US_EASTERN)
FIRST = parse_receipt_number("EAC9999103403")
SECOND = parse_receipt_number("EAC9999103402")
NOTE = "RFE answered 11/20.\n  Ask Maria for the I-864 tax transcripts."


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "w.toml"


def two_panes(path: Path) -> tuple[Watchlist, Watchlist]:
    """Two processes' views of one saved watchlist: FIRST of client Garcia tagged JD and
    premium, SECOND with nothing."""
    seed = Watchlist(path)
    seed.add(FIRST, added_at=NOW, client="Garcia, Maria", tags=["JD", "premium"], note=NOTE)
    seed.add(SECOND, added_at=NOW)
    seed.save()
    return Watchlist.load(path), Watchlist.load(path)


# --- what is kept ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "reason"),
    [
        ("JD;premium", "holds ';', which separates tags in CSV files"),
        ("\x1b[31mred", "control or invisible character"),
        ("a\tb", "control or invisible character"),
        ("two\nlines", "control or invisible character"),
        ("pre\u200bmium", "control or invisible character"),  # zero-width: hides text
        ("   ", "a tag is empty"),
        ("x" * (TAG_MAX_CHARS + 1), f"give at most {TAG_MAX_CHARS}"),
    ],
)
def test_a_tag_with_a_separator_or_a_control_character_is_refused_with_the_reason(
    tag: str, reason: str
) -> None:
    with pytest.raises(CaseDetailError, match=reason):
        clean_tag(tag)


def test_tags_are_trimmed_and_a_repeat_in_another_case_is_kept_once() -> None:
    assert clean_tags([" JD ", "premium  plus", "Premium plus", "jd", "priority"]) == (
        "JD",
        "premium plus",
        "priority",
    )
    assert without_tags(("JD", "premium plus"), [" PREMIUM   plus"]) == ("JD",)


def test_a_note_keeps_its_lines_as_printable_text() -> None:
    typed = "\n  first line  \r\nsecond\x1b]0;owned\x07 line\rthird\u2028fourth\n\n"
    assert clean_note(typed) == "first line\nsecond]0;owned line\nthird\nfourth"
    assert clean_note("x" * NOTE_MAX_CHARS) == "x" * NOTE_MAX_CHARS
    with pytest.raises(CaseDetailError, match="give at most 4,000"):
        clean_note("x" * (NOTE_MAX_CHARS + 1))


def test_a_refused_tag_changes_nothing(path: Path) -> None:
    one, _ = two_panes(path)
    before = one.get(FIRST)
    with pytest.raises(CaseDetailError):
        one.set_case_details(FIRST, client="Doe", tags=["ok", "not;ok"])
    with pytest.raises(CaseDetailError):
        one.add(parse_receipt_number("WAC2190012345"), added_at=NOW, tags=["\x07"])
    assert one.get(FIRST) is before and len(one) == 2
    assert not one.has_unsaved_changes()


# --- the TOML and its schema -----------------------------------------------------------------


def test_client_tags_and_note_round_trip_through_the_file(path: Path) -> None:
    two_panes(path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("schema = 3\n") and SCHEMA_VERSION == 3
    assert 'client = "Garcia, Maria"' in text and '"premium"' in text
    loaded = Watchlist.load(path)
    case = loaded.get(FIRST)
    assert (case.client, case.tags, case.note) == ("Garcia, Maria", ("JD", "premium"), NOTE)
    bare = loaded.get(SECOND)
    assert (bare.client, bare.tags, bare.note) == ("", (), "")
    assert text.count("client") == 1  # an empty field is left out of the file


def test_a_schema_2_file_reads_and_is_saved_as_schema_3(path: Path) -> None:
    path.write_text(
        f'schema = 2\n\n[[case]]\nreceipt_number = "{FIRST}"\nlabel = "mom"\n'
        f"added_at = {NOW.isoformat()}\n",
        encoding="utf-8",
    )
    watchlist = Watchlist.load(path)
    assert watchlist.get(FIRST).label == "mom" and watchlist.get(FIRST).tags == ()
    watchlist.set_case_details(FIRST, tags=["JD"])
    watchlist.save()
    assert path.read_text(encoding="utf-8").startswith("schema = 3\n")
    assert Watchlist.load(path).get(FIRST).tags == ("JD",)


def test_a_casewatch_that_knows_schema_2_refuses_a_file_with_clients_instead_of_dropping_them(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_panes(path)
    before = path.read_bytes()
    for module in (watchlist_toml, reading):  # the casewatch before issue 14
        monkeypatch.setattr(module, "SCHEMA_VERSION", 2)
    with pytest.raises(WatchlistError, match="has schema 3: a newer casewatch wrote it"):
        Watchlist.load(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('tags = ["JD;premium"]', "holds ';'"),
        ('tags = "JD"', "tags must be a list of text"),
        ("tags = [1]", "tags must be a list of text"),
        ("client = 3", "client must be text"),
    ],
)
def test_a_bad_tag_written_by_hand_names_its_case_and_line(
    path: Path, line: str, problem: str
) -> None:
    path.write_text(
        f'schema = 3\n\n[[case]]\nreceipt_number = "{FIRST}"\n'
        f"added_at = {NOW.isoformat()}\n{line}\n",
        encoding="utf-8",
    )
    with pytest.raises(WatchlistError, match=f"case 1 \\(line 3\\) in the watchlist .*{problem}"):
        Watchlist.load(path)


def test_a_client_or_note_written_by_hand_is_made_printable(path: Path) -> None:
    path.write_text(
        f'schema = 3\n\n[[case]]\nreceipt_number = "{FIRST}"\n'
        f"added_at = {NOW.isoformat()}\n"
        'client = "Garcia,\\n Maria\\u001b[2J"\nnote = "a\\u001b]0;x\\u0007\\nb  "\n',
        encoding="utf-8",
    )
    case = Watchlist.load(path).get(FIRST)
    assert (case.client, case.note) == ("Garcia, Maria[2J", "a]0;x\nb")


# --- two processes ---------------------------------------------------------------------------


def test_tags_added_in_two_panes_are_both_kept(path: Path) -> None:
    one, two = two_panes(path)
    one.set_case_details(FIRST, tags=[*one.get(FIRST).tags, "priority"])
    one.save()
    two.set_case_details(FIRST, tags=[*two.get(FIRST).tags, "RK"])
    two.save()
    assert Watchlist.load(path).get(FIRST).tags == ("JD", "premium", "RK", "priority")
    assert two.get(FIRST).tags == ("JD", "premium", "RK", "priority")


def test_a_tag_removed_in_one_pane_and_untouched_in_the_other_is_removed(path: Path) -> None:
    one, two = two_panes(path)
    one.set_case_details(FIRST, tags=without_tags(one.get(FIRST).tags, ["premium"]))
    one.save()
    two.set_case_details(FIRST, tags=[*two.get(FIRST).tags, "priority"], note="called")
    two.save()
    case = Watchlist.load(path).get(FIRST)
    assert case.tags == ("JD", "priority")  # premium stays removed; priority is added
    assert case.note == "called"


def test_client_and_note_merge_like_labels(path: Path) -> None:
    one, two = two_panes(path)
    one.set_case_details(FIRST, client="Garcia family")
    one.save()
    two.set_case_details(FIRST, note="new note")
    two.set_label(SECOND, "dad")
    two.save()
    case = Watchlist.load(path).get(FIRST)
    assert (case.client, case.note) == ("Garcia family", "new note")
    # both change the client: the side saving last wins, as for a label
    one, two = Watchlist.load(path), Watchlist.load(path)
    one.set_case_details(FIRST, client="Garcia, M.")
    one.save()
    two.set_case_details(FIRST, client="Maria Garcia")
    two.save()
    assert Watchlist.load(path).get(FIRST).client == "Maria Garcia"


def test_a_removal_does_not_lose_a_client_or_tags_it_had_not_seen(path: Path) -> None:
    one, two = two_panes(path)
    two.set_case_details(SECOND, client="Doe, Jane", tags=["JD"])
    two.save()
    one.remove(SECOND)
    one.save()
    case = Watchlist.load(path).get(SECOND)
    assert (case.client, case.tags) == ("Doe, Jane", ("JD",))


def test_merge_tags_against_the_base() -> None:
    base = ("JD", "premium")
    assert merge_tags(base, ("JD",), ("JD", "premium", "RK")) == ("JD", "RK")
    assert merge_tags(base, ("JD", "premium", "x"), ("premium",)) == ("premium", "x")
    # both added the case (no base): nothing was removed, a tag in two cases kept once
    assert merge_tags(None, ("JD", "Premium"), ("premium", "RK")) == ("JD", "Premium", "RK")
