"""Hostile answers (issue 11, points 2 and 4): odd dates never make the watchlist
unreadable, and no escape sequence, bidi override or zero-width character from the network
reaches the screen, the watchlist or the log. Scripted loopback servers answer as a broken
USCIS or a compromised proxy would."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from casewatch.cli import main
from casewatch.logs import default_log_path
from casewatch.tui.case_table import CaseTable
from casewatch.watchlist import Watchlist
from conftest import Answer, case_status_answer, scripted_uscis
from pilot_helpers import drawer_text, until
from test_tui_offline import RECEIPTS, dashboard

# --- Odd dates (point 2) -----------------------------------------------------------------

ODD_DATES = {
    "EAC2612000301": ("01-01-1800 00:00:00", "1800-01-01"),  # LMT: -04:56:02 before 1883
    "EAC2612000302": ("01-01-0001 00:00:00", "0001-01-01"),
    "EAC2612000303": ("12-31-9999 23:59:59", "9999-12-31"),
    "EAC2612000304": ("06-15-2200 10:00:00", "2200-06-15"),
}
NORMAL = "EAC2612000305"


def dated_answer(receipt: str, moment: str, day: str) -> Answer:
    return case_status_answer(
        receipt,
        submittedDate=moment,
        modifiedDate=moment,
        hist_case_status=[{"date": day, "completed_text_en": "We received your case."}],
    )


def test_any_date_uscis_sends_leaves_the_watchlist_readable_odd_ones_shown_as_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = {receipt: dated_answer(receipt, *dates) for receipt, dates in ODD_DATES.items()}
    answers[NORMAL] = dated_answer(NORMAL, "03-01-2023 10:00:00", "2023-03-01")
    watchlist = tmp_path / "w.toml"
    with scripted_uscis(answers) as uscis:
        common = ["--base-url", uscis.url, "--watchlist", str(watchlist), "--tps", "1000"]
        assert main(["add", *answers, *common]) == 0
        assert main(["refresh", *common]) == 0
        capsys.readouterr()
        assert main(["list", *common]) == 0
        table = capsys.readouterr().out
        assert main(["list", "--json", *common]) == 0
        listed = {
            item["receipt_number"]: item
            for item in map(json.loads, capsys.readouterr().out.splitlines())
        }
        assert main(["add", "EAC2612000306", *common]) == 0
        assert main(["refresh", *common]) == 0
    tomllib.loads(watchlist.read_text(encoding="utf-8"))
    saved = Watchlist.load(watchlist)
    assert len(saved.cases) == 6
    for receipt, (moment, day) in ODD_DATES.items():
        status = saved.get(receipt).status
        assert status is not None
        assert (status.submitted, status.modified) == (None, None)
        assert (status.submitted_text, status.modified_text) == (moment, moment)
        assert [(entry.date, entry.date_text) for entry in status.history] == [(None, day)]
        row = next(line for line in table.splitlines() if line.startswith(receipt))
        assert moment in row
        assert listed[receipt]["modified_text"] == moment
        assert listed[receipt]["modified"] is None
    normal = saved.get(NORMAL).status
    assert normal is not None and normal.modified is not None
    assert f"{normal.modified:%Y-%m-%d}" == "2023-03-01" and normal.modified_text == ""
    assert listed[NORMAL]["modified"] == "2023-03-01T10:00:00-05:00"


async def test_the_dashboard_shows_odd_dates_as_uscis_sent_them(tmp_path: Path) -> None:
    answers = {
        receipt: dated_answer(receipt, *dates)
        for receipt, dates in zip(RECEIPTS, ODD_DATES.values(), strict=False)
    }
    with scripted_uscis(answers) as uscis:
        app = dashboard(tmp_path, uscis.url)
        async with app.run_test(size=(120, 30)) as pilot:
            table = app.query_one(CaseTable)
            await until(pilot, lambda: sum(uscis.requests.values()) == len(RECEIPTS))
            await app.workers.wait_for_complete()
            await pilot.pause()
            changed = [str(table.get_cell(receipt, "changed")) for receipt in RECEIPTS]
            await pilot.press("enter")
            drawer = " ".join(drawer_text(app).split())
    assert changed == ["01-01-1800 00:00:00", "01-01-0001 00:00:00"]
    assert "Filed 01-01-1800 00:00:00 · changed 01-01-1800 00:00:00" in drawer
    assert "1800-01-01" in drawer  # the history entry's date, as sent
    Watchlist.load(tmp_path / "watchlist.toml")


# --- Terminal control from the network (point 4) ----------------------------------------------

HOSTILE = (
    "\x1b]0;pwned\x07",  # set the terminal's (tmux pane's) title
    "\x1b[2J",  # clear the screen
    "\x9b31m",  # C1 control sequence introducer
    "\r",
    "\u202e",  # right-to-left override
    "\u2067",  # right-to-left isolate
    "\u200b",  # zero-width space
    "\u2060",  # word joiner
    "\ufeff",  # zero-width no-break space
)
UNWANTED = ("\x1b", "\x07", "\x9b", "\r", "\u202e", "\u2067", "\u200b", "\u2060", "\ufeff")


def hostile(text: str) -> str:
    """``text`` with every hostile sequence and a line break inside it."""
    return "".join(HOSTILE) + text.replace(" ", " \n", 1) + "".join(HOSTILE)


def assert_clean(text: str) -> None:
    found = [repr(character) for character in UNWANTED if character in text]
    assert not found, f"{found} in {text!r}"


def strings_of(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings_of(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings_of(item)]
    return []


UNKNOWN, PROXIED = "EAC2612000311", "EAC2612000312"
HOSTILE_ERRORS = {
    UNKNOWN: Answer(404, json.dumps({"code": "404", "message": hostile("No such case")}).encode()),
    PROXIED: Answer(
        404,
        f"<html><title>{hostile('Not Found here')}</title></html>".encode(),
        content_type="text/html",
    ),
}


def test_escape_sequences_in_error_bodies_reach_neither_the_screen_nor_the_log(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with scripted_uscis(HOSTILE_ERRORS) as uscis:
        main(["check", UNKNOWN, PROXIED, "--base-url", uscis.url, "--tps", "1000"])
        shown = capsys.readouterr()
        main(["check", UNKNOWN, "--json", "--base-url", uscis.url, "--tps", "1000"])
        as_json = capsys.readouterr()
    assert_clean(shown.out + shown.err)
    assert "No such case" in shown.out + shown.err  # USCIS's words, cleaned, still shown
    assert "Not Found here" in shown.out + shown.err
    message = json.loads(as_json.out)["error"]["message"]
    assert "No such case" in message
    log = default_log_path()
    if log.exists():
        assert_clean(log.read_text(encoding="utf-8"))


CHANGING = ("EAC2612000321", "EAC2612000322", "EAC2612000323")


def test_escape_sequences_in_statuses_and_errors_reach_neither_screen_nor_file_nor_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers: dict[str, Any] = {receipt: case_status_answer(receipt) for receipt in CHANGING}
    answers.update(HOSTILE_ERRORS)
    watchlist = tmp_path / "w.toml"
    with scripted_uscis(answers) as uscis:
        common = ["--base-url", uscis.url, "--watchlist", str(watchlist), "--tps", "1000"]
        assert main(["add", *answers, "--label", hostile("Mom's case"), *common]) == 0
        assert main(["refresh", *common]) == 0
        capsys.readouterr()
        for receipt in CHANGING:
            answers[receipt] = case_status_answer(
                receipt,
                message=hostile("Case found"),
                current_case_status_text_en=hostile("Case Was Approved"),
                current_case_status_desc_en=hostile("We approved your case."),
                current_case_status_text_es=hostile("Caso Aprobado"),
                hist_case_status=[
                    {"date": hostile("2023-03-01"), "completed_text_en": hostile("We approved.")}
                ],
            )
        assert main(["refresh", "--all", *common]) == 0  # not due yet: asked again
        refreshed = capsys.readouterr()
        assert main(["list", *common]) == 0
        listed = capsys.readouterr()
    assert_clean(refreshed.out + refreshed.err + listed.out + listed.err)
    changes = refreshed.out.splitlines()
    assert len(changes) == len(CHANGING)  # one line per change, whatever the titles hold
    assert all("Case Was Approved" in line for line in changes)
    text = watchlist.read_text(encoding="utf-8")
    assert_clean(text)
    for value in strings_of(tomllib.loads(text)):
        assert_clean(value)
    saved = Watchlist.load(watchlist)
    status = saved.get(CHANGING[0]).status
    assert status is not None and "Case Was Approved" in status.title_en
    assert saved.get(UNKNOWN).last_error and saved.get(PROXIED).last_error
    assert_clean(default_log_path().read_text(encoding="utf-8"))
