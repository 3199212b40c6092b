"""``casewatch diagnose`` (issue 15, point 3): what a bug report needs, with no secret
and no whole receipt number, a broken config reported as broken, and ``--probe`` asking
the configured host for one token, never a case status."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casewatch.cli import main
from casewatch.config import load_settings
from casewatch.receipts import MASK, mask_receipts
from conftest import NOT_RECOGNIZED, Answer, scripted_uscis

SENTINEL = "S3NT1NEL-diagnose-secret"
CLIENT_ID = "firm-app-7f3a9c21"
RECEIPT = "LIN2112345752"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASEWATCH_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("CASEWATCH_CLIENT_SECRET", SENTINEL)


def test_diagnose_shows_versions_settings_files_and_recent_errors_with_no_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    production(monkeypatch)
    with scripted_uscis({RECEIPT: NOT_RECOGNIZED}) as uscis:
        common = ["--env", "sandbox", "--base-url", uscis.url]
        assert run(capsys, "check", RECEIPT, *common)[0] == 3  # a warning in the log
        monkeypatch.setenv("TERM", "screen-256color")
        monkeypatch.setenv("NO_COLOR", "1")
        code, out, err = run(capsys, "diagnose", *common)
        assert uscis.requests[RECEIPT] == 1  # diagnose sent nothing
    assert code == 0 and err == ""
    sections = re.findall(r"^## (.+)$", out, re.MULTILINE)
    assert sections == [
        "versions",
        "terminal",
        "settings",
        "files",
        "request ledger",
        "last 20 warnings and errors in the log",
    ]
    for name in ("casewatch", "Python", "OS", "textual", "httpx", "platformdirs"):
        assert re.search(rf"^{name} +\S", out, re.MULTILINE), name
    assert "256 colours" in out and "NO_COLOR     set: no colour" in out
    assert "client id             firm…21  [CASEWATCH_CLIENT_ID]" in out
    assert "set (never shown)" in out
    assert SENTINEL not in out and CLIENT_ID not in out
    assert f"({len(SENTINEL)} characters)" not in out  # not even its length
    assert re.search(r"^1 / [\d,]+ today · [\d,]+ left · resets in ", out, re.M)
    assert "last spike arrest  none recorded" in out
    # The check's warning is in the log, its receipt number masked.
    assert RECEIPT not in out
    assert f"check {RECEIPT[:5]}{MASK}{RECEIPT[-3:]} failed" in out
    assert re.search(r"^request ledger +\S+limits-sandbox-\S+\.json  -rw------- 0600", out, re.M)


def test_a_broken_config_file_is_reported_as_broken_and_the_rest_still_shows(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[credentials]\nclient_secret = "{SENTINEL}"\nclient_id = \n')
    code, out, _ = run(capsys, "diagnose", "--config", str(config))
    assert code == 0
    assert re.search(rf"^config file +{re.escape(str(config))} .*DOES NOT PARSE: ", out, re.M)
    assert "the settings cannot be read:" in out
    assert "## versions" in out and "## request ledger" in out
    assert SENTINEL not in out


def test_the_ledger_section_names_the_last_spike_arrest_and_retry_after(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    production(monkeypatch)
    settings = load_settings(environment="sandbox", base_url="http://127.0.0.1:9")
    limiter = settings.rate_limiter()
    limiter.record_spike_arrest()
    limiter.hold(7)
    out = run(capsys, "diagnose", "--env", "sandbox", "--base-url", "http://127.0.0.1:9")[1]
    assert re.search(r"^last spike arrest  \d{4}-\d\d-\d\d \d\d:\d\d", out, re.M)
    assert re.search(r"^last Retry-After   \d{4}-.* \(asked 7 s\)$", out, re.M)
    assert "USCIS asked to wait until" in out
    state = json.loads(settings.limits_path.read_text())
    assert state["last_retry_after_s"] == 7


def test_probe_asks_for_one_token_and_reports_latency_and_clock_offset(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    production(monkeypatch)
    with scripted_uscis({}) as uscis:
        out = run(capsys, "diagnose", "--probe", "--env", "sandbox", "--base-url", uscis.url)[1]
        assert uscis.requests.total() == 0  # a token request only: no case status, no quota
    [line] = [line for line in out.splitlines() if line.startswith("token request to")]
    # The scripted server's Date header is its own clock: this machine's, within a second.
    found = re.fullmatch(
        rf"token request to {re.escape(uscis.url)}: HTTP 200 in \d+ ms; "
        r"server clock ([+-]\d+\.\d) s from this machine's \(±1 s\)",
        line,
    )
    assert found and abs(float(found[1])) <= 1.5
    assert "scripted-token" not in out


def test_probe_says_what_failed_when_the_token_url_refuses_or_cannot_be_reached(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    production(monkeypatch)
    refused = Answer(401, b'{"error": "invalid_client", "echo": "' + SENTINEL.encode() + b'"}')
    with scripted_uscis({}, token=refused) as uscis:
        out = run(capsys, "diagnose", "--probe", "--env", "sandbox", "--base-url", uscis.url)[1]
    assert re.search(r"^token request to \S+: HTTP 401 in \d+ ms", out, re.M)
    assert SENTINEL not in out
    with scripted_uscis({}, listening=False) as uscis:
        out = run(capsys, "diagnose", "--probe", "--env", "sandbox", "--base-url", uscis.url)[1]
    assert re.search(rf"^token request to {re.escape(uscis.url)} failed: ", out, re.M)


receipts = st.from_regex(r"[A-Za-z]{3}[0-9*][0-9]{9}", fullmatch=True)


@given(receipt=receipts, before=st.text(max_size=20), after=st.text(max_size=20))
def test_a_masked_text_never_holds_a_whole_receipt_number(
    receipt: str, before: str, after: str
) -> None:
    masked = mask_receipts(before + receipt + after)
    assert receipt not in masked
    assert masked.count(MASK) >= 1
