"""A hostile or broken server on loopback (issue 11, points 1 and 6): a token endpoint
that never answers, a case status dripped a byte at a time, JSON nested 100,000 levels.
Whatever answers, the receipt gets a typed error, ``check`` exits 6, and ``refresh``
records the others, saves them and ends, releasing the refresher lease."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from casewatch.cli import main
from casewatch.uscis import client
from casewatch.watchlist import Watchlist
from conftest import TOKEN_ANSWER, Answer, case_status_answer, scripted_uscis

DEADLINE_S = 1.5
"""The request deadline of these tests, in seconds (60 in use)."""

DRIP_S = 0.5
"""Seconds between two bytes of a dripped answer: far under httpx's 30 s per read, so
only the request's deadline can end it."""

NEVER_S = 3600.0
"""Seconds before each byte of an answer that never comes."""

DEEP_LIST = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"case_status": ' * 50_000 + b"1" + b"}" * 50_000
# 50,000 levels: 100,000 would be larger than casewatch reads (MAX_BODY_BYTES).

DRIPPING, ANSWERING, DEEP = "EAC2612000301", "EAC2612000302", "EAC2612000303"


@pytest.fixture(autouse=True)
def short_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request of these tests has :data:`DEADLINE_S` seconds."""
    monkeypatch.setattr(client, "REQUEST_DEADLINE_S", DEADLINE_S)


def check(url: str, *receipts: str) -> int:
    return main(["check", "--base-url", url, "--tps", "1000", *receipts])


def refresh(url: str, watchlist: Path) -> int:
    """``casewatch refresh --all``: every pass asks about every case again, due or not."""
    return main(
        ["refresh", "--all", "--base-url", url, "--watchlist", str(watchlist), "--tps", "1000"]
    )


def timed(what: str, run: Callable[[], int]) -> int:
    """``run()``'s exit status; prints how long it took (a figure, not an assertion)."""
    started = time.monotonic()
    code = run()
    took = time.monotonic() - started
    print(f"{what}: ended after {took:.2f} s ({DEADLINE_S:g} s deadline)", file=sys.stderr)
    return code


def deadline_said() -> str:
    return f"no complete answer within {DEADLINE_S:g} s"


def test_a_dripped_case_status_ends_check_at_the_deadline_with_exit_6(
    capsys: pytest.CaptureFixture[str],
) -> None:
    dripping = replace(case_status_answer(DRIPPING), drip_s=DRIP_S)
    with scripted_uscis({DRIPPING: dripping}) as uscis:
        code = timed("dripped case status, check", lambda: check(uscis.url, DRIPPING))
    out = capsys.readouterr()
    assert code == 6, out.err
    (line,) = out.out.splitlines()[1:]
    assert line.startswith(f"{DRIPPING}  -     error")
    assert f"Could not reach USCIS: {deadline_said()}" in line
    assert uscis.requests[DRIPPING] == 1  # not retried: the next try would drip as long


def test_a_token_endpoint_that_never_answers_ends_check_at_the_deadline_with_exit_6(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with scripted_uscis({}, token=replace(TOKEN_ANSWER, drip_s=NEVER_S)) as uscis:
        code = timed("silent token URL, check of 2", lambda: check(uscis.url, DRIPPING, ANSWERING))
    out = capsys.readouterr()
    assert code == 6, out.err
    lines = out.out.splitlines()[1:]
    assert len(lines) == 2
    assert all(f"the token URL gave {deadline_said()}" in line for line in lines)
    assert not uscis.requests  # no token, no case-status request


def test_refresh_under_a_silent_token_endpoint_stops_and_the_next_refresh_does_the_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    watchlist = tmp_path / "w.toml"
    receipts = (DRIPPING, ANSWERING, DEEP)
    assert main(["add", *receipts, "--watchlist", str(watchlist)]) == 0
    with scripted_uscis({}, token=replace(TOKEN_ANSWER, drip_s=NEVER_S)) as silent:
        code = timed("silent token URL, refresh of 3", lambda: refresh(silent.url, watchlist))
    first = capsys.readouterr()
    assert code == 6, first.err
    # One wait for the token, not one per case: the requests that waited for the same
    # token give up with it, and the pass stops.
    assert (
        f"casewatch: Could not reach USCIS: the token URL gave no complete answer within "
        f"{DEADLINE_S:g} s"
    ) in first.err
    assert "refreshed 0 of 3 cases: 0 changed, 0 failed" in first.err
    with scripted_uscis({receipt: case_status_answer(receipt) for receipt in receipts}) as uscis:
        assert refresh(uscis.url, watchlist) == 0
    second = capsys.readouterr()
    assert "another casewatch" not in second.err
    assert "refreshed 3 of 3 cases: 0 changed, 0 failed" in second.err
    saved = Watchlist.load(watchlist)
    assert all(saved.get(receipt).status is not None for receipt in receipts)


def test_refresh_with_one_dripped_answer_saves_the_others_and_releases_the_lease(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    watchlist = tmp_path / "w.toml"
    answers = {
        DRIPPING: replace(case_status_answer(DRIPPING), drip_s=DRIP_S),
        ANSWERING: case_status_answer(ANSWERING),
    }
    with scripted_uscis(answers) as uscis:
        common = ["--base-url", uscis.url, "--watchlist", str(watchlist), "--tps", "1000"]
        assert main(["add", DRIPPING, ANSWERING, *common]) == 0
        code = timed("one dripped answer of 2, refresh", lambda: refresh(uscis.url, watchlist))
        assert code == 0
        first = capsys.readouterr()
        saved = Watchlist.load(watchlist)
        answers[DRIPPING] = case_status_answer(DRIPPING)
        assert refresh(uscis.url, watchlist) == 0
        second = capsys.readouterr()
    assert "refreshed 2 of 2 cases: 0 changed, 1 failed" in first.err
    assert saved.get(ANSWERING).status is not None
    assert deadline_said() in saved.get(DRIPPING).last_error
    assert "another casewatch" not in second.err
    assert "refreshed 2 of 2 cases: 0 changed, 0 failed" in second.err
    assert Watchlist.load(watchlist).get(DRIPPING).status is not None


def test_check_json_nested_100000_levels_is_an_unexpected_answer_exit_6(
    capsys: pytest.CaptureFixture[str],
) -> None:
    deep_object, deep_404 = "EAC2612000304", "EAC2612000305"
    answers = {
        DEEP: Answer(200, DEEP_LIST),
        deep_object: Answer(200, DEEP_OBJECT),
        deep_404: Answer(404, DEEP_OBJECT),
    }
    with scripted_uscis(answers) as uscis:
        code = check(uscis.url, "--json", *answers)
    out = capsys.readouterr()
    assert code == 6, out.err
    said = {
        item["receipt_number"]: item["error"]["message"]
        for item in map(json.loads, out.out.splitlines())
    }
    assert said[DEEP] == said[deep_object] == "HTTP 200 with JSON nested too deeply to read"
    assert said[deep_404].startswith("HTTP 404 with JSON nested too deeply to read")
    assert "Recursion" not in out.out + out.err
    assert "unexpected error" not in out.err
    assert set(uscis.requests.values()) == {1}  # deterministic: not retried


def test_a_token_answer_nested_100000_levels_is_an_unexpected_answer_exit_6(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with scripted_uscis({}, token=Answer(200, DEEP_LIST)) as uscis:
        code = check(uscis.url, DEEP)
    out = capsys.readouterr()
    assert code == 6, out.err
    assert "An unexpected answer: the token response is JSON nested too deeply" in out.out
    assert "Recursion" not in out.out + out.err


def test_refresh_with_one_deeply_nested_answer_records_and_saves_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    watchlist = tmp_path / "w.toml"
    others = ("EAC2612000306", "EAC2612000307", "EAC2612000308")
    answers = {DEEP: Answer(200, DEEP_LIST)} | {
        receipt: case_status_answer(receipt) for receipt in others
    }
    with scripted_uscis(answers) as uscis:
        assert main(["add", *answers, "--watchlist", str(watchlist)]) == 0
        assert refresh(uscis.url, watchlist) == 0
    out = capsys.readouterr()
    assert "refreshed 4 of 4 cases: 0 changed, 1 failed" in out.err
    assert "Recursion" not in out.err and "unexpected error" not in out.err
    saved = Watchlist.load(watchlist)
    assert all(saved.get(receipt).status is not None for receipt in others)
    assert "JSON nested too deeply to read" in saved.get(DEEP).last_error
    assert uscis.requests[DEEP] == 1
