"""casewatch refresh against casewatch sandbox on loopback: a change, printed once, the
on_change command run once (issue 4's "done when")."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest

from casewatch.cli import main
from casewatch.sandbox import SandboxConfig, running_server
from casewatch.watchlist import Watchlist

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
        assert main(["refresh", *common]) == 0
        second = capsys.readouterr()
        assert main(["refresh", *common]) == 0
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
        assert main(["refresh", *common]) == 0
    out, err = capsys.readouterr()
    assert "EAC9999103405 changed" in out
    assert "exited with status 7" in err
