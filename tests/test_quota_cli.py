"""casewatch quota: today's use of the daily quota from the shared ledger, after
requests to a scripted USCIS on loopback, and a Retry-After hold (issue 13, point 11).
It must send nothing itself."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from casewatch.cases import US_EASTERN
from casewatch.cli import main
from casewatch.config import load_settings
from casewatch.refresh import quota_reserve
from conftest import case_status_answer, scripted_uscis

FIRST, SECOND = "EAC2612000401", "EAC2612000402"


def quota(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["quota", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_quota_counts_what_every_command_sent_today_and_sends_nothing_itself(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers = {receipt: case_status_answer(receipt) for receipt in (FIRST, SECOND)}
    with scripted_uscis(answers) as uscis:
        common = ["--base-url", uscis.url, "--tps", "1000", "--daily-quota", "200"]
        assert main(["check", FIRST, SECOND, *common]) == 0
        assert main(["check", FIRST, *common]) == 0
        capsys.readouterr()
        sent = list(uscis.arrivals)
        code, out, err = quota(capsys, "--json", *common)
        assert code == 0, err
        code, text, err = quota(capsys, *common)
        assert code == 0, err
        assert uscis.arrivals == sent  # quota asked USCIS nothing
    figures = json.loads(out)
    today = datetime.now(US_EASTERN).date()
    assert figures["day"] == today.isoformat()
    assert figures["used"] == 3  # the three case statuses asked
    assert (figures["daily_quota"], figures["remaining"]) == (200, 197)
    assert figures["reserve"] == quota_reserve(200) == 4
    midnight = datetime.combine(today + timedelta(days=1), datetime.min.time(), US_EASTERN)
    assert datetime.fromisoformat(figures["resets_at"]) == midnight
    assert 0 < figures["seconds_to_reset"] <= 25 * 3600
    assert figures["held_until"] is None
    assert figures["host"] == uscis.url
    summary, *details = text.splitlines()
    assert re.fullmatch(r"3 / 200 today · 197 left · resets in \d+(h \d\dm|m \d\ds)", summary)
    assert f"day        {today} (US Eastern)" in details[0]
    assert "4 requests kept for manual checks" in details[1]
    assert details[2] == f"resets at  {midnight:%Y-%m-%d} 00:00 {midnight:%Z}"  # EST or EDT


def test_quota_shows_the_hold_uscis_asked_for_with_retry_after(
    capsys: pytest.CaptureFixture[str],
) -> None:
    base_url = "http://127.0.0.1:9"  # nothing listens there: quota never connects
    settings = load_settings(base_url=base_url)
    settings.rate_limiter().hold(120)  # as the client records a Retry-After of 120 s
    code, out, err = quota(capsys, "--base-url", base_url)
    assert code == 0, err
    held = re.search(r" · USCIS asked to wait until (\d\d:\d\d:\d\d) E[SD]T$", out.splitlines()[0])
    assert held is not None
    code, out, err = quota(capsys, "--base-url", base_url, "--json")
    figures = json.loads(out)
    until = datetime.fromisoformat(figures["held_until"])
    assert f"{until:%H:%M:%S}" == held.group(1)
    assert timedelta(0) < until - datetime.now(US_EASTERN) <= timedelta(seconds=120)
    assert figures["used"] == 0


def test_each_environment_and_credentials_have_their_own_ledger(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with scripted_uscis({FIRST: case_status_answer(FIRST)}) as uscis:
        assert main(["check", FIRST, "--base-url", uscis.url, "--tps", "1000"]) == 0
        capsys.readouterr()
        _, mine, _ = quota(capsys, "--json", "--base-url", uscis.url)
        monkeypatch.setenv("CASEWATCH_CLIENT_ID", "another-app")
        monkeypatch.setenv("CASEWATCH_CLIENT_SECRET", "another-secret")
        _, theirs, _ = quota(capsys, "--json", "--base-url", uscis.url)
        _, demo, _ = quota(capsys, "--json", "--env", "demo")
    assert json.loads(mine)["used"] == 1
    assert json.loads(theirs)["used"] == 0 and json.loads(demo)["used"] == 0
    assert json.loads(theirs)["ledger"] != json.loads(mine)["ledger"]
    assert "another-secret" not in theirs


def test_quota_shows_its_times_in_the_timezone_setting(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('timezone = "Europe/Madrid"\n', encoding="utf-8")
    config.chmod(0o600)
    monkeypatch.setenv("CASEWATCH_CONFIG", str(config))
    base_url = "http://127.0.0.1:9"  # nothing listens there: quota never connects
    load_settings(base_url=base_url).rate_limiter().hold(120)
    code, out, err = quota(capsys, "--base-url", base_url)
    assert code == 0, err
    madrid = ZoneInfo("Europe/Madrid")
    midnight = datetime.combine(
        datetime.now(US_EASTERN).date() + timedelta(days=1), datetime.min.time(), US_EASTERN
    ).astimezone(madrid)  # the quota resets at midnight US Eastern, shown in Madrid
    summary, *details = out.splitlines()
    assert re.search(r" · USCIS asked to wait until \d\d:\d\d:\d\d CES?T$", summary)
    assert details[2] == f"resets at  {midnight:%Y-%m-%d %H:%M %Z}"
    code, out, err = quota(capsys, "--base-url", base_url, "--json")
    figures = json.loads(out)
    assert datetime.fromisoformat(figures["resets_at"]).utcoffset() == midnight.utcoffset()
    assert figures["resets_at"] == midnight.isoformat()
