"""Ctrl-C (SIGINT) while a command waits on USCIS: one line "casewatch: interrupted",
exit status 130, no traceback, the watchlist as it was and the refresher lease given up
(issue 11, point 11)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from casewatch.cli import EXIT_INTERRUPTED, main
from conftest import case_status_answer, scripted_uscis

WAITING = "EAC9999103405"
STALLED = replace(case_status_answer(WAITING), drip_s=3600.0)
"""An answer that never completes: the command is in flight until it is interrupted."""


@pytest.mark.parametrize("command", ["refresh", "check"])
def test_ctrl_c_in_flight_says_interrupted_exits_130_and_leaves_the_watchlist_and_lease(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    watchlist = tmp_path / "w.toml"
    with scripted_uscis({WAITING: [STALLED, case_status_answer(WAITING)]}) as uscis:
        common = ["--base-url", uscis.url, "--watchlist", str(watchlist), "--tps", "1000"]
        assert main(["add", WAITING, "--label", "Mom", *common]) == 0
        before = watchlist.read_bytes()
        arguments = [command, WAITING] if command == "check" else [command]
        process = subprocess.Popen(
            [sys.executable, "-m", "casewatch", *arguments, *common],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        while not uscis.requests[WAITING] and process.poll() is None:
            time.sleep(0.05)  # until the request is on its way
        process.send_signal(signal.SIGINT)
        out, err = process.communicate()
        interrupted = watchlist.read_bytes()
        capsys.readouterr()
        assert main(["refresh", *common]) == 0  # the lease was given up: this one refreshes
        after = capsys.readouterr()
    assert process.returncode == EXIT_INTERRUPTED, err
    assert err == "casewatch: interrupted\n"
    assert out == ""
    assert interrupted == before
    assert not [path.name for path in tmp_path.iterdir() if path.suffix == ".tmp"]
    assert "refreshed 1 of 1 cases: 0 changed, 0 failed" in after.err
