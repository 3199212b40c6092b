"""Unbounded bodies (issue 11, point 5): a gzip bomb, a 200 MB body, a title of 250,000
characters, a history of 10,000 and of 50,000 entries, from scripted loopback servers.
casewatch reads at most 1 MB of an answer, decompressed size included: past it the
receipt gets a typed error, ``check`` exits 6 and ``refresh`` records the others; what it
keeps of an answer is bounded and says so. The memory of ``python -m casewatch check``
under the bomb is measured in a child process (a bound, not a time) and printed."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from casewatch.cases import LINE_MAX_CHARS, MAX_HISTORY_ENTRIES, TEXT_MAX_CHARS
from casewatch.cli import main
from casewatch.uscis.bodies import MAX_BODY_BYTES
from casewatch.watchlist import Watchlist, WatchlistError
from conftest import Answer, Received, case_status_answer, scripted_uscis
from pilot_helpers import drawer_text, until
from test_tui_offline import RECEIPTS as DUE
from test_tui_offline import dashboard

BOMB_BYTES = 2 * 1024**3
"""What the gzip bomb inflates to: 2 GB of zeros, about 2 MB compressed (the issue's
bomb took 6.36 GB of memory)."""

HUGE_BYTES = 200 * 1024**2
"""The identity body of 200 MB (stored twice, a 419 MB watchlist, before)."""

MiB = 1024 * 1024

TOO_LARGE = f"with a body larger than {MAX_BODY_BYTES:,} bytes"

BOMB, HUGE, FINE = "EAC2612000501", "EAC2612000502", "EAC2612000503"

FIRST_DAY = date(1990, 1, 1)


def gzip_bomb(size: int) -> Iterator[bytes]:
    """``size`` bytes of zeros, gzip-compressed as they are made (the test holds 1 MB of
    zeros at a time, never the bomb)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(MiB)
    for _ in range(size // MiB):
        if piece := compressor.compress(zeros):
            yield piece
    yield compressor.flush()


def bomb(status: int = 200) -> Answer:
    """An answer of HTTP ``status`` whose body is a :data:`BOMB_BYTES` gzip bomb."""
    return Answer(status, lambda _: gzip_bomb(BOMB_BYTES), headers=(("Content-Encoding", "gzip"),))


def huge(received: Received) -> Iterator[bytes]:
    """:data:`HUGE_BYTES` of a JSON string, streamed 1 MB at a time."""
    yield b'{"case_status": {"receiptNumber": "' + HUGE.encode() + b'", "x": "'
    chunk = b"x" * MiB
    for _ in range(HUGE_BYTES // MiB):
        yield chunk
    yield b'"}}'


def check(url: str, *receipts: str) -> int:
    return main(["check", "--base-url", url, "--tps", "1000", "--json", *receipts])


def errors_said(out: str) -> dict[str, str]:
    return {
        item["receipt_number"]: item.get("error", {}).get("message", "")
        for item in map(json.loads, out.splitlines())
    }


def test_a_gzip_bomb_and_a_200_mb_body_are_refused_past_1_mb_and_check_exits_6(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers = {BOMB: bomb(), HUGE: Answer(200, huge), FINE: case_status_answer(FINE)}
    with scripted_uscis(answers) as uscis:
        code = check(uscis.url, *answers)
    out = capsys.readouterr()
    assert code == 6, out.err
    said = errors_said(out.out)
    for receipt in (BOMB, HUGE):
        assert said[receipt].startswith(f"HTTP 200 {TOO_LARGE} (casewatch reads no more")
    assert said[FINE] == ""
    assert uscis.requests[BOMB] == uscis.requests[HUGE] == 1  # not retried


@pytest.mark.parametrize("status", [401, 404, 500])
def test_an_error_answer_that_is_a_gzip_bomb_is_refused_too(
    status: int, capsys: pytest.CaptureFixture[str]
) -> None:
    # httpx reads a 401's body itself before the retry with a new token.
    with scripted_uscis({BOMB: bomb(status)}) as uscis:
        code = check(uscis.url, BOMB)
    out = capsys.readouterr()
    assert code == 6, out.err
    assert errors_said(out.out)[BOMB].startswith(f"HTTP {status} {TOO_LARGE}")


def test_a_token_answer_that_is_a_gzip_bomb_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with scripted_uscis({}, token=bomb()) as uscis:
        code = check(uscis.url, BOMB)
    out = capsys.readouterr()
    assert code == 6, out.err
    assert errors_said(out.out)[BOMB].startswith(f"the token URL answered HTTP 200 {TOO_LARGE}")
    assert not uscis.requests


def test_refresh_records_the_others_when_one_answer_is_a_bomb_or_too_long_a_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long_history = "EAC2612000504"
    answers = {
        BOMB: bomb(),
        HUGE: Answer(200, huge),
        long_history: history_answer(long_history, 50_000),  # about 3 MB
        FINE: case_status_answer(FINE),
    }
    watchlist = tmp_path / "w.toml"
    assert main(["add", *answers, "--watchlist", str(watchlist)]) == 0
    with scripted_uscis(answers) as uscis:
        code = main(["refresh", "--base-url", uscis.url, "--watchlist", str(watchlist)])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "refreshed 4 of 4 cases: 0 changed, 3 failed" in out.err
    saved = Watchlist.load(watchlist)
    assert saved.get(FINE).status is not None
    for receipt in (BOMB, HUGE, long_history):
        assert saved.get(receipt).status is None
        assert TOO_LARGE in saved.get(receipt).last_error
    assert watchlist.stat().st_size < 64 * 1024


def history_answer(receipt: str, entries: int) -> Answer:
    """A case status of ``receipt`` with ``entries`` history entries, ``Entry N`` on the
    Nth day from 1990-01-01."""
    history = [
        {"date": f"{FIRST_DAY + timedelta(days=day)}", "completed_text_en": f"Entry {day}"}
        for day in range(entries)
    ]
    return case_status_answer(receipt, hist_case_status=history)


def test_long_texts_are_cut_with_a_note_and_the_newest_history_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = history_answer(FINE, 8_000)
    assert isinstance(answer.body, bytes)
    payload = json.loads(answer.body)
    payload["case_status"]["current_case_status_text_en"] = "Case Was Received " * 13_889
    payload["case_status"]["current_case_status_desc_en"] = "We received it. " * 12_500
    payload["case_status"]["hist_case_status"][-1]["completed_text_en"] += " and more" * 2_000
    body = json.dumps(payload).encode()
    assert len(body) < MAX_BODY_BYTES
    watchlist = tmp_path / "w.toml"
    assert main(["add", FINE, "--watchlist", str(watchlist)]) == 0
    with scripted_uscis({FINE: Answer(200, body)}) as uscis:
        assert main(["refresh", "--base-url", uscis.url, "--watchlist", str(watchlist)]) == 0
        capsys.readouterr()
        assert check(uscis.url, FINE) == 0
    checked = json.loads(capsys.readouterr().out)
    assert checked["status"].endswith("… (cut: USCIS sent 250,001 characters)")
    assert (len(checked["history"]), checked["history_dropped"]) == (200, 7_800)
    status = Watchlist.load(watchlist).get(FINE).status
    assert status is not None
    assert status.title_en.endswith("… (cut: USCIS sent 250,001 characters)")
    assert len(status.title_en) < LINE_MAX_CHARS + 50
    assert status.description_en.endswith("… (cut: USCIS sent 199,999 characters)")
    assert len(status.description_en) < TEXT_MAX_CHARS + 50
    assert len(status.history) == MAX_HISTORY_ENTRIES
    assert status.history_dropped == 8_000 - MAX_HISTORY_ENTRIES
    newest, oldest_kept = status.history[0], status.history[-1]
    assert newest.text_en.startswith("Entry 7999 and more")
    assert newest.text_en.endswith("… (cut: USCIS sent 18,010 characters)")
    assert len(newest.text_en) < LINE_MAX_CHARS + 50
    assert oldest_kept.text_en == f"Entry {8_000 - MAX_HISTORY_ENTRIES}"
    assert watchlist.stat().st_size < 64 * 1024


async def test_the_drawer_says_how_many_history_entries_were_not_kept(tmp_path: Path) -> None:
    with scripted_uscis({DUE[0]: history_answer(DUE[0], 10_000)}) as uscis:
        app = dashboard(tmp_path, uscis.url)
        async with app.run_test(size=(120, 40)) as pilot:

            def answered() -> bool:
                status = app.watchlist.get(DUE[0]).status
                return status is not None and status.history_dropped > 0

            await until(pilot, answered)
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            drawer = " ".join(drawer_text(app).split())
            await pilot.press("l")  # USCIS's Spanish texts, casewatch's words in Spanish
            await pilot.pause()
            spanish = " ".join(drawer_text(app).split())
    assert spanish.endswith("… 9,800 entradas anteriores no guardadas")
    assert drawer.startswith(DUE[0])
    assert "Entry 9999" in drawer and "Entry 9799" not in drawer
    assert drawer.endswith("Entry 9800 … 9,800 older entries not kept")


# --- Memory (a bound, measured in a child process) -------------------------------------------

MEASURE = """
import json, resource, subprocess, sys
command = [sys.executable, "-m", "casewatch", *sys.argv[1:]]
done = subprocess.run(command, capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kB, on Linux
print(json.dumps({"code": done.returncode, "out": done.stdout, "peak_kb": peak}))
"""
"""Runs ``python -m casewatch ARGS`` as its only child and prints its exit status, its
output and its peak resident memory."""

MEMORY_BOUND_MB = 50
"""How much more memory ``check`` may take under a hostile answer than for a case status
(the issue's bound: under 100 MB)."""


def peak_of_check(url: str, receipt: str) -> tuple[int, str, float]:
    """``python -m casewatch check receipt`` against ``url``: exit status, standard output
    and peak resident memory in MB."""
    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, "check", "--base-url", url, "--json", receipt],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(measured.stdout)
    return result["code"], result["out"], result["peak_kb"] / 1024


def test_memory_stays_bounded_under_a_gzip_bomb_and_a_200_mb_body() -> None:
    token_bomb = "EAC2612000505"
    answers = {BOMB: bomb(), HUGE: Answer(200, huge), FINE: case_status_answer(FINE)}
    figures: dict[str, float] = {}
    with scripted_uscis(answers) as uscis:
        code, out, figures["a case status (baseline)"] = peak_of_check(uscis.url, FINE)
        assert code == 0, out
        for receipt, what in ((BOMB, "a 2 GB gzip bomb"), (HUGE, "a 200 MB body")):
            code, out, figures[what] = peak_of_check(uscis.url, receipt)
            assert code == 6 and TOO_LARGE in out, out
    with scripted_uscis({}, token=bomb()) as uscis:
        code, out, figures["a token answer that is a 2 GB gzip bomb"] = peak_of_check(
            uscis.url, token_bomb
        )
        assert code == 6 and TOO_LARGE in out, out
    baseline = figures["a case status (baseline)"]
    for what, peak in figures.items():
        print(f"peak memory of casewatch check under {what}: {peak:.1f} MB", file=sys.stderr)
    for what, peak in figures.items():
        assert peak < baseline + MEMORY_BOUND_MB, (what, figures)


@pytest.mark.parametrize(("value", "read"), [("-1", "-1"), ('"many"', "'many'"), ("true", "True")])
def test_a_watchlist_whose_count_of_history_not_kept_is_not_a_count_says_so(
    tmp_path: Path, value: str, read: str
) -> None:
    watchlist = tmp_path / "w.toml"
    assert main(["add", FINE, "--watchlist", str(watchlist)]) == 0
    text = watchlist.read_text()
    watchlist.write_text(
        f'{text}\n[case.status]\ntitle_en = "Case Was Received"\nhistory_dropped = {value}\n'
    )
    with pytest.raises(WatchlistError, match=f"history_dropped must be a count, got {read}"):
        Watchlist.load(watchlist)
