"""The on_change command: run without a shell, the event as JSON on stdin, failures
reported as HookError."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from casewatch.cases import US_EASTERN, CaseStatus
from casewatch.cli import main
from casewatch.config import load_settings
from casewatch.config_file import ConfigError
from casewatch.hooks import HookError, announce_change, run_on_change, send_notifications
from casewatch.receipts import parse_receipt_number
from casewatch.watchlist import Watchlist
from conftest import case_status_answer, notification_receiver, scripted_uscis

NOW = datetime(2026, 11, 29, 9, 30, tzinfo=US_EASTERN)
WRITE_STDIN = "import pathlib, sys; pathlib.Path(sys.argv[1]).write_text(sys.stdin.read())"


def changed_case() -> tuple[object, object]:
    watchlist = Watchlist(Path("unused.toml"))
    receipt = parse_receipt_number("EAC9999103403")
    watchlist.add(receipt, label="Mom", added_at=NOW)
    watchlist.record_status(
        receipt, CaseStatus(receipt.value, "I-130", "Case Was Received", ""), NOW
    )
    case, event = watchlist.record_status(
        receipt, CaseStatus(receipt.value, "I-130", "Case Was Approved", "<b>We approved</b>"), NOW
    )
    return case, event


async def test_the_event_arrives_as_json_on_stdin(tmp_path: Path) -> None:
    case, event = changed_case()
    out = tmp_path / "event.json"
    await run_on_change([sys.executable, "-c", WRITE_STDIN, str(out)], case, event)  # type: ignore[arg-type]
    raw = out.read_text()
    assert raw.endswith("\n") and raw.count("\n") == 1  # one line: `cat >> log` stays a log
    sent = json.loads(raw)
    assert sent["receipt_number"] == "EAC9999103403"
    assert sent["label"] == "Mom"
    assert (sent["previous_status"], sent["status"]) == ("Case Was Received", "Case Was Approved")
    assert sent["stage"] == "approved"
    assert sent["description"] == "We approved"
    assert sent["changed"] == ["title", "description"]
    assert sent["seen_at"] == NOW.isoformat()


async def test_no_shell_ever_reads_the_command(tmp_path: Path) -> None:
    case, event = changed_case()
    marker = tmp_path / "pwned"
    out = tmp_path / "arg.txt"
    script = "import pathlib, sys; pathlib.Path(sys.argv[1]).write_text(sys.argv[2])"
    hostile = f"$(touch {marker}); touch {marker}"
    await run_on_change([sys.executable, "-c", script, str(out), hostile], case, event)  # type: ignore[arg-type]
    assert out.read_text() == hostile
    assert not marker.exists()


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        (
            [sys.executable, "-c", "import sys; sys.stderr.write('boom'); sys.exit(3)"],
            "status 3: boom",
        ),
        (["/nonexistent/casewatch-hook"], "cannot run"),
    ],
)
async def test_a_failing_command_is_reported(command: list[str], problem: str) -> None:
    case, event = changed_case()
    with pytest.raises(HookError, match=problem):
        await run_on_change(command, case, event)  # type: ignore[arg-type]


async def test_a_hanging_command_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("casewatch.hooks.HOOK_TIMEOUT_S", 0.5)
    case, event = changed_case()
    with pytest.raises(HookError, match="was stopped"):
        await run_on_change([sys.executable, "-c", "import time; time.sleep(30)"], case, event)  # type: ignore[arg-type]


def test_on_change_comes_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('on_change = ["notify-send", "casewatch"]\n')
    settings = load_settings(config_path=config, environ={})
    assert settings.on_change == ("notify-send", "casewatch")


@pytest.mark.parametrize("value", ['"notify-send casewatch"', "[]", '["ok", 3]', '[""]'])
def test_on_change_must_be_a_command_list(tmp_path: Path, value: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"on_change = {value}\n")
    with pytest.raises(ConfigError, match=r"on_change|wrong type"):
        load_settings(config_path=config, environ={})


async def test_notify_urls_go_through_apprise() -> None:
    with notification_receiver() as (url, received):
        case, event = changed_case()
        await send_notifications([url], case, event)  # type: ignore[arg-type]
    assert received[0]["title"] == "EAC9999103403 (Mom) changed"
    assert received[0]["message"] == "Case Was Received → Case Was Approved"


async def test_an_unknown_notification_url_names_only_its_scheme() -> None:
    case, event = changed_case()
    with pytest.raises(HookError) as caught:
        await send_notifications(["nosuchservice://SECRET-TOKEN"], case, event)  # type: ignore[arg-type]
    assert "nosuchservice://" in str(caught.value)
    assert "SECRET-TOKEN" not in str(caught.value)


async def test_without_apprise_the_message_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "apprise", None)
    case, event = changed_case()
    problems = await announce_change([], ["ntfy://topic"], case, event)  # type: ignore[arg-type]
    assert problems == ["notify_urls needs Apprise: pip install 'casewatch[notify]'"]


def test_notify_urls_come_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('notify_urls = ["ntfy://my-topic"]\n')
    assert load_settings(config_path=config, environ={}).notify_urls == ("ntfy://my-topic",)
    config.write_text('notify_urls = ["not a url"]\n')
    with pytest.raises(ConfigError, match="Apprise URLs"):
        load_settings(config_path=config, environ={})


CHANGING = "EAC9999103405"
MEASURED = (
    "import resource, subprocess, sys; code = subprocess.call(sys.argv[2:]); "
    "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
    "sys.exit(code)"
)
"""Runs the command of its arguments after the first, then writes to the file its first
argument names the peak memory of that command's process (ru_maxrss: KiB on Linux)."""


def refresh_a_change(
    tmp_path: Path, hook_script: str
) -> tuple[subprocess.CompletedProcess[str], int]:
    """``casewatch refresh``, in a process of its own, seeing one case change on a
    scripted USCIS, with ``hook_script`` (a shell script) as its on_change command; what
    it printed and exited with, and its peak memory in bytes."""
    hook = tmp_path / "hook.sh"
    hook.write_text("#!/bin/sh\n" + hook_script)
    hook.chmod(0o700)
    config = tmp_path / "config.toml"
    config.write_text(f"on_change = {json.dumps([str(hook)])}\n")
    watchlist = tmp_path / "w.toml"
    answers = [
        case_status_answer(CHANGING),
        case_status_answer(CHANGING, current_case_status_text_en="Card Was Mailed To Me"),
    ]
    peak = tmp_path / "peak.txt"
    with scripted_uscis({CHANGING: answers}) as uscis:
        common = ["--base-url", uscis.url, "--watchlist", str(watchlist), "--tps", "1000"]
        assert main(["add", CHANGING, *common]) == 0
        assert main(["refresh", *common]) == 0  # the first status: no change, no hook
        casewatch = [sys.executable, "-m", "casewatch", "refresh", "--all", *common]
        casewatch += ["--config", str(config)]  # --all: the case is not due again yet
        done = subprocess.run(
            [sys.executable, "-c", MEASURED, str(peak), *casewatch],
            capture_output=True,
            text=True,
            check=False,
        )
    assert f"{CHANGING} changed" in done.stdout, done.stderr
    kib = 1 if sys.platform == "darwin" else 1024
    return done, int(peak.read_text()) * kib


def test_a_hook_writing_200_mb_of_errors_is_reported_by_its_last_line_in_bounded_memory(
    tmp_path: Path,
) -> None:
    done, peak = refresh_a_change(
        tmp_path, "head -c 200000000 /dev/zero >&2\necho 'the disk is full' >&2\nexit 3\n"
    )
    assert peak < 100_000_000, f"casewatch refresh peaked at {peak / 1e6:.0f} MB"
    assert done.returncode == 0  # a failed hook is reported, never fatal
    assert "exited with status 3: the disk is full" in done.stderr


def gone(pid: int) -> bool:
    """True when process ``pid`` ended (a zombie not yet reaped by its new parent counts)."""
    for _ in range(600):  # a killed process ends as soon as it is scheduled again
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return True
        if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("status", [0, 4])
def test_a_hook_leaving_a_background_child_is_judged_by_its_own_exit_and_the_child_ends(
    tmp_path: Path, status: int
) -> None:
    child_pid = tmp_path / "child.pid"
    done, _ = refresh_a_change(
        tmp_path,
        f"sleep 100 &\necho $! > {child_pid}\necho 'not delivered' >&2\nexit {status}\n",
    )
    assert done.returncode == 0
    if status:
        assert f"exited with status {status}: not delivered" in done.stderr
    else:
        assert "on_change" not in done.stderr
    assert "was stopped" not in done.stderr
    assert "Event loop is closed" not in done.stderr
    assert "Traceback" not in done.stderr
    assert gone(int(child_pid.read_text()))
