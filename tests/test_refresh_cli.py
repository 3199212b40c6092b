"""casewatch refresh against casewatch sandbox on loopback: a change, printed once, the
on_change command run once (issue 4's "done when"); and against a scripted server, answers
that are not what they claim (issue 10, point 5)."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from casewatch.cli import main
from casewatch.logs import default_log_path
from casewatch.sandbox import SandboxConfig, running_server, synthetic_case
from casewatch.watchlist import Watchlist
from conftest import LINKED_DESCRIPTION, broken_quotes_answer, case_status_answer, scripted_uscis

APPEND_STDIN = (
    "import sys; open(sys.argv[1], 'a').write(sys.stdin.read().replace(chr(10), ' ') + chr(10))"
)


def test_an_advanced_case_is_printed_and_its_hook_runs_exactly_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hook_log = tmp_path / "hook.log"
    config = tmp_path / "config.toml"
    config.write_text(
        f"on_change = {json.dumps([sys.executable, '-c', APPEND_STDIN, str(hook_log)])}\n"
    )
    watchlist = tmp_path / "w.toml"
    target = "EAC9999103405"
    with running_server(SandboxConfig(latency_ms=(0.0, 0.0), tps=1_000_000.0)) as url:
        common = ["--base-url", url, "--watchlist", str(watchlist), "--config", str(config)]
        common += ["--tps", "1000"]
        assert main(["add", target, "EAC9999103403", "--label", "Mom", *common]) == 0
        assert main(["refresh", *common]) == 0
        first = capsys.readouterr()
        assert "changed" not in first.out  # first statuses are recorded, not reported
        assert "refreshed 2 of 2 cases: 0 changed, 0 failed" in first.err
        httpx.post(f"{url}/__sandbox/advance/{target}").raise_for_status()
        assert main(["refresh", "--all", *common]) == 0  # checked a moment ago: not due
        second = capsys.readouterr()
        assert main(["refresh", "--all", *common]) == 0
        third = capsys.readouterr()
    assert second.out.count("changed") == 1
    assert second.out.startswith(f"{target} (Mom) changed")
    assert "1 changed" in second.err
    assert third.out == ""
    events = [json.loads(line) for line in hook_log.read_text().splitlines()]
    assert len(events) == 1
    assert events[0]["receipt_number"] == target
    saved = Watchlist.load(watchlist).get(target)
    assert saved.unseen and len(saved.events) == 2


def test_a_failing_hook_is_reported_and_the_pass_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"on_change = {json.dumps([sys.executable, '-c', 'raise SystemExit(7)'])}\n")
    watchlist = tmp_path / "w.toml"
    with running_server(SandboxConfig(latency_ms=(0.0, 0.0), tps=1_000_000.0)) as url:
        common = ["--base-url", url, "--watchlist", str(watchlist), "--config", str(config)]
        main(["add", "EAC9999103405", *common])
        main(["refresh", *common])
        httpx.post(f"{url}/__sandbox/advance/EAC9999103405").raise_for_status()
        capsys.readouterr()
        assert main(["refresh", "--all", *common]) == 0
    out, err = capsys.readouterr()
    assert "EAC9999103405 changed" in out
    assert "exited with status 7" in err


def test_an_answer_about_another_receipt_is_not_recorded_a_broken_quote_one_is_salvaged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asked, salvaged, cached = "EAC2612000301", "EAC2612000302", "EAC2612000399"
    answers = {asked: case_status_answer(asked), salvaged: broken_quotes_answer(salvaged)}
    watchlist = tmp_path / "w.toml"
    with scripted_uscis(answers) as uscis:
        common = ["--base-url", uscis.url, "--watchlist", str(watchlist), "--tps", "1000"]
        assert main(["add", asked, salvaged, *common]) == 0
        assert main(["refresh", *common]) == 0
        answers[asked] = case_status_answer(asked, about=cached)  # a caching proxy's mix-up
        capsys.readouterr()
        assert main(["refresh", "--all", *common]) == 0
        second = capsys.readouterr()
        assert main(["list", "--json", *common]) == 0
        listed = {
            item["receipt_number"]: item
            for item in map(json.loads, capsys.readouterr().out.splitlines())
        }
    assert "refreshed 2 of 2 cases: 0 changed, 1 failed" in second.err
    assert second.out == ""  # no change reported, no on_change
    saved = Watchlist.load(watchlist)
    case = saved.get(asked)
    assert case.status is not None
    assert case.status.receipt_number == asked
    first_title = synthetic_case(asked)["case_status"]["current_case_status_text_en"]
    assert case.status.title_en == first_title
    assert len(case.events) == 1  # the first status only: the other receipt's never came in
    assert f"the case status of {cached}, not of {asked}" in case.last_error
    assert listed[asked]["status"] == first_title
    assert listed[asked]["last_error"].startswith(
        "An unexpected answer: HTTP 200 with the case status of"
    )
    # The body with the unescaped quotes is recorded as it was meant, the link kept, and
    # the log says so once however many passes meet it.
    kept = saved.get(salvaged)
    assert kept.status is not None and kept.status.description_en == LINKED_DESCRIPTION
    assert kept.last_error == ""
    log = default_log_path().read_text(encoding="utf-8")
    assert log.count(f"{salvaged}: USCIS's answer had quotes not escaped") == 1


# --- A change is a change in meaning (issue 10, point 2) -------------------------------------

ORDERED = "EAC9999103403"
NULLED = "EAC9999103404"
SAME_DAY = [
    {"date": "2023-09-05", "completed_text_en": "We mailed your notice.", "completed_text_es": ""},
    {"date": "2023-09-05", "completed_text_en": "We approved your Form I-130."},
    {"date": "08-01-2023", "completed_text_en": "We received your Form I-130."},
    {"date": "a date USCIS garbled", "completed_text_en": "Fingerprints taken."},
]


def refresh_with_hook(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], *, subprocess: bool = False
) -> str:
    """``casewatch refresh --all`` (every case, due or not) against ``url`` with an
    on_change hook appending to ``hook.log``, in this process or a new one; what it
    printed on stdout."""
    hook_log = tmp_path / "hook.log"
    config = tmp_path / "config.toml"
    config.write_text(
        f"on_change = {json.dumps([sys.executable, '-c', APPEND_STDIN, str(hook_log)])}\n"
    )
    common = ["--base-url", url, "--watchlist", str(tmp_path / "w.toml"), "--config", str(config)]
    common += ["--tps", "1000", "--all"]
    if subprocess:
        import subprocess as processes

        done = processes.run(
            [sys.executable, "-m", "casewatch", "refresh", *common],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout
    assert main(["refresh", *common]) == 0
    return capsys.readouterr().out


def test_reordered_or_emptied_histories_never_alert_and_a_real_change_alerts_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = case_status_answer(
        ORDERED,
        hist_case_status=SAME_DAY,
        current_case_status_text_en="Case Was Approved",
        current_case_status_desc_en="On September 5, 2023, we approved your Form I-130.",
    )
    reordered = case_status_answer(
        ORDERED,
        hist_case_status=[SAME_DAY[1], SAME_DAY[3], SAME_DAY[2], SAME_DAY[0]],
        current_case_status_text_en="Case Was Approved",
        message="Query was successful for payload {'receiptNumber': 'EAC9999103403'}",
        current_case_status_desc_en="On September 5, 2023,  we approved\n your Form&nbsp;I-130.",
    )
    changed = case_status_answer(
        ORDERED,
        current_case_status_text_en="Card Was Mailed To Me",
        hist_case_status=[*SAME_DAY, {"date": "2023-09-20", "completed_text_en": "Card mailed."}],
    )
    script = {
        ORDERED: [first, reordered, first, reordered, changed],
        NULLED: [
            case_status_answer(NULLED, hist_case_status=None),
            case_status_answer(NULLED, hist_case_status=[]),
            case_status_answer(NULLED, hist_case_status=None),
            case_status_answer(NULLED, hist_case_status=[]),
        ],
    }
    with scripted_uscis(script) as uscis:
        common = ["--watchlist", str(tmp_path / "w.toml")]
        assert main(["add", ORDERED, NULLED, "--label", "Mom", *common]) == 0
        capsys.readouterr()
        outputs = [refresh_with_hook(uscis.url, tmp_path, capsys)]
        stored = Watchlist.load(tmp_path / "w.toml").get(ORDERED).status
        outputs.append(refresh_with_hook(uscis.url, tmp_path, capsys))
        outputs.append(refresh_with_hook(uscis.url, tmp_path, capsys, subprocess=True))
        outputs.append(refresh_with_hook(uscis.url, tmp_path, capsys))
        quiet = Watchlist.load(tmp_path / "w.toml")
        hook_ran = (tmp_path / "hook.log").exists()
        real = refresh_with_hook(uscis.url, tmp_path, capsys)
        after = refresh_with_hook(uscis.url, tmp_path, capsys)
    assert uscis.requests == {ORDERED: 6, NULLED: 6}
    assert outputs == ["", "", "", ""]
    assert not hook_ran
    for case in quiet.cases.values():
        assert [event.first for event in case.events] == [True]  # no event but the first
        assert not case.unseen
    # Stored in one order whatever order USCIS used: the drawer shows the same timeline.
    assert stored is not None and quiet.get(ORDERED).status is not None
    assert quiet.get(ORDERED).status.history == stored.history
    assert [entry.text_en for entry in stored.history] == [
        "We approved your Form I-130.",
        "We mailed your notice.",
        "We received your Form I-130.",
        "Fingerprints taken.",
    ]
    assert real.count("changed") == 1 and real.startswith(f"{ORDERED} (Mom) changed")
    assert re.search(r" E[SD]T\]$", real.rstrip())  # when casewatch saw it, with the zone
    assert after == ""
    hooked = [json.loads(line) for line in (tmp_path / "hook.log").read_text().splitlines()]
    assert [event["receipt_number"] for event in hooked] == [ORDERED]


# --- Only the cases that are due, as the dashboard (issue 13, point 11) ----------------------

NEW, WAITING, ACTING = "EAC2612000311", "EAC2612000312", "EAC2612000313"


def test_refresh_checks_the_cases_that_are_due_and_all_checks_every_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = {
        WAITING: case_status_answer(WAITING, current_case_status_text_en="Case Was Received"),
        ACTING: case_status_answer(
            ACTING, current_case_status_text_en="Request for Additional Evidence Was Sent"
        ),
        NEW: case_status_answer(NEW),
    }
    watchlist = tmp_path / "w.toml"
    with scripted_uscis(answers) as uscis:
        common = ["--base-url", uscis.url, "--watchlist", str(watchlist), "--tps", "1000"]
        assert main(["add", WAITING, ACTING, *common]) == 0
        assert main(["refresh", *common]) == 0  # never checked: due
        first = capsys.readouterr()
        assert main(["refresh", *common]) == 0  # right after: nothing is due
        again = capsys.readouterr()
        after_first = dict(uscis.requests)
        # 90 minutes later (refresh every 60): the request for evidence is due, the case
        # that was received waits twice the interval.
        saved = Watchlist.load(watchlist)
        for receipt in (WAITING, ACTING):
            case = saved.get(receipt)
            assert case.checked_at is not None
            earlier = case.checked_at - timedelta(minutes=90)
            saved.cases[receipt] = replace(case, checked_at=earlier, answered_at=earlier)
        saved.save()
        assert main(["add", NEW, *common]) == 0
        capsys.readouterr()
        assert main(["refresh", *common]) == 0
        later = capsys.readouterr()
        after_later = dict(uscis.requests)
        assert main(["refresh", "--all", *common]) == 0
        full = capsys.readouterr()
    assert "refreshed 2 of 2 cases: 0 changed, 0 failed" in first.err
    assert "refreshed 0 of 2 cases (2 not due; --all checks every one): 0 changed" in again.err
    assert after_first == {WAITING: 1, ACTING: 1}
    assert "refreshed 2 of 3 cases (1 not due; --all checks every one)" in later.err
    assert after_later == {WAITING: 1, ACTING: 2, NEW: 1}
    assert "refreshed 3 of 3 cases: 0 changed, 0 failed" in full.err
    assert uscis.requests == {WAITING: 2, ACTING: 3, NEW: 2}
