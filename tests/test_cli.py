"""Tests of the ``casewatch`` command line: check, config, readiness, options, start-up.

Most tests call ``casewatch.cli.main`` in-process and read what it printed with capsys;
the demo environment runs the built-in sandbox in-process, and the ``--env sandbox``
tests point ``--base-url`` at the sandbox served on a free loopback port. A few tests
start ``python -m casewatch`` to see what a user sees (exit status, no traceback, no
Textual import). Nothing here measures time. The autouse fixture of conftest.py gives
every test its own XDG directories, so each test starts with an empty request ledger
and traffic log.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stamina

from casewatch.cli import main
from casewatch.config import Settings, load_settings
from casewatch.sandbox import SandboxConfig, running_server
from casewatch.uscis.quota import eastern_day
from conftest import (
    NOT_RECOGNIZED,
    Answer,
    broken_quotes_answer,
    case_status_answer,
    closed_port,
    scripted_uscis,
    subprocess_env,
)

SANDBOX_ID = "casewatch-cli-test"
SANDBOX_SECRET = "casewatch-cli-test-secret-5d1e"
SENTINEL = "S3NT1NEL-secret-value"
"""A client secret that must never be printed."""

STAGING_WITH_HISTORY = "EAC9999103403"
STAGING_WITHOUT_HISTORY = "EAC9999103402"
UNKNOWN = "EAC1234567890"
"""Well-formed, but neither the built-in sandbox nor USCIS knows it: HTTP 404."""

JSON_KEYS = {"receipt_number", "found", "form_type", "status", "stage", "history"}


@pytest.fixture(autouse=True)
def no_config_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """CASEWATCH_CONFIG of the developer's shell must not reach the tests."""
    monkeypatch.delenv("CASEWATCH_CONFIG", raising=False)


@pytest.fixture
def no_retry_waits() -> Iterator[None]:
    """One try per request, no back-off (stamina's test mode), restored afterwards."""
    with stamina.set_testing(True, attempts=1):
        yield
    assert not stamina.is_testing()


@pytest.fixture
def sandbox_url() -> Iterator[str]:
    """The built-in sandbox on a free loopback port, without latency, with test credentials."""
    config = SandboxConfig(
        client_id=SANDBOX_ID, client_secret=SANDBOX_SECRET, latency_ms=(0.0, 0.0), seed=1
    )
    with running_server(config) as url:
        yield url


@pytest.fixture
def sandbox_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The credentials the loopback sandbox accepts, as CASEWATCH_* variables."""
    monkeypatch.setenv("CASEWATCH_CLIENT_ID", SANDBOX_ID)
    monkeypatch.setenv("CASEWATCH_CLIENT_SECRET", SANDBOX_SECRET)


class SentRequests:
    """Paths of the requests the client hands to the network (httpx's HTTP transport)."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def count(self, prefix: str) -> int:
        return sum(path.startswith(prefix) for path in self.paths)


@pytest.fixture
def sent_requests(monkeypatch: pytest.MonkeyPatch) -> SentRequests:
    """Record every request sent through :class:`httpx.AsyncHTTPTransport`."""
    sent = SentRequests()
    original = httpx.AsyncHTTPTransport.handle_async_request

    async def recording(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        sent.paths.append(request.url.path)
        return await original(self, request)

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", recording)
    return sent


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``casewatch argv`` in-process: the exit status, stdout and stderr."""
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(text: str) -> list[dict[str, Any]]:
    """Each line of ``text`` parsed as one JSON object."""
    objects = [json.loads(line) for line in text.splitlines()]
    assert all(isinstance(item, dict) for item in objects)
    return objects


def stats(url: str) -> dict[str, Any]:
    """What the loopback sandbox counted (``GET /__sandbox/stats``)."""
    response = httpx.get(f"{url}/__sandbox/stats")
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def settings_for(**options: Any) -> Settings:
    """The settings the command line builds with ``options``, from os.environ as the
    tests patched it (the same user directories, hence the same ledger and log)."""
    return load_settings(**options)


def ledger_used(settings: Settings) -> int:
    """Requests counted today in the request ledger of ``settings`` (0 without a file)."""
    try:
        state = json.loads(settings.limits_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return 0
    assert isinstance(state, dict)
    used = state.get("used", 0)
    assert isinstance(used, int)
    return used


# --- check on the demo ---------------------------------------------------------------------


def test_check_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", STAGING_WITH_HISTORY, "eac-9999-103402")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["RECEIPT", "FORM", "STAGE", "CHANGED", "STATUS"]
    assert len(lines) == 3
    assert lines[1].startswith(STAGING_WITH_HISTORY)
    assert "I-130" in lines[1]
    assert "Case Was Approved" in lines[1]
    assert lines[2].startswith(STAGING_WITHOUT_HISTORY)  # normalized
    assert "Case Approval Was Affirmed" in lines[2]
    assert "eac-9999" not in out
    assert ledger_used(settings_for()) == 2


def test_check_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", "--json", STAGING_WITH_HISTORY, "eac 9999 103402")
    assert code == 0, err
    first, second = json_lines(out)
    for item in (first, second):
        assert set(item) >= JSON_KEYS
        assert item["found"] is True
        assert item["form_type"] == "I-130"
        assert isinstance(item["stage"], str)
        assert isinstance(item["history"], list)
    assert first["receipt_number"] == STAGING_WITH_HISTORY
    assert first["status"] == "Case Was Approved"
    assert first["history"]
    assert all({"date", "text"} <= set(entry) for entry in first["history"])
    assert second["receipt_number"] == STAGING_WITHOUT_HISTORY
    assert second["status"] == "Case Approval Was Affirmed"
    assert second["history"] == []


def test_check_unknown_receipt_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", UNKNOWN)
    assert code == 3
    assert UNKNOWN in out
    assert "does not recognize" in out
    assert "malformed" not in out.lower()


def test_check_unknown_receipt_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--json", STAGING_WITH_HISTORY, UNKNOWN)
    assert code == 3
    found, missing = json_lines(out)
    assert found["found"] is True
    assert missing["receipt_number"] == UNKNOWN
    assert missing["found"] is False
    assert missing["error"]["type"] == "ReceiptNotRecognized"
    assert missing["error"]["http_status"] == 404
    assert "does not recognize" in missing["error"]["message"]


@pytest.mark.parametrize(
    ("receipts", "named"),
    [
        (["EAC12345"], "EAC12345"),
        ([STAGING_WITH_HISTORY, "EAC99991O3403"], "EAC99991O3403"),
        (["123EAC9999103"], "123EAC9999103"),
        ([STAGING_WITH_HISTORY, "EAC99991034030"], "EAC99991034030"),
    ],
)
def test_check_malformed_receipt_exits_2_and_sends_nothing(
    capsys: pytest.CaptureFixture[str], receipts: list[str], named: str
) -> None:
    code, out, err = run(capsys, "check", *receipts)
    assert code == 2
    assert out == ""
    assert named in err
    assert "nothing was sent" in err
    assert "Traceback" not in err
    settings = settings_for()
    assert ledger_used(settings) == 0
    assert not settings.limits_path.exists()
    # The ledger looked at is the one a check writes to.
    assert run(capsys, "check", STAGING_WITHOUT_HISTORY)[0] == 0
    assert ledger_used(settings) == 1


def test_check_letter_o_gets_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", "EAC99991O3403")
    assert code == 2
    assert "zero" in err


def test_check_duplicates_are_checked_once(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "check", "--json", STAGING_WITH_HISTORY, "eac-9999-103403", " EAC9999103403 "
    )
    assert code == 0, err
    (item,) = json_lines(out)
    assert item["receipt_number"] == STAGING_WITH_HISTORY
    assert ledger_used(settings_for()) == 1


def test_check_unknown_prefix_warns_but_is_checked(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", "--json", "ABC9999103403")
    assert "warning" in err
    assert "ABC" in err
    (item,) = json_lines(out)
    assert item["receipt_number"] == "ABC9999103403"
    assert code == 3  # the built-in sandbox does not know it: asked, and answered 404
    assert item["error"]["http_status"] == 404
    assert ledger_used(settings_for()) == 1


def test_check_needs_a_receipt(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["check"])
    assert exited.value.code == 2
    assert "RECEIPT" in capsys.readouterr().err


# --- exit statuses 4, 5, 6 -------------------------------------------------------------------


def test_check_wrong_credentials_exits_4_after_one_token_request(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sandbox_url: str,
    sent_requests: SentRequests,
) -> None:
    monkeypatch.setenv("CASEWATCH_CLIENT_ID", "not-the-app")
    monkeypatch.setenv("CASEWATCH_CLIENT_SECRET", SENTINEL)
    code, out, err = run(
        capsys,
        "check",
        "--env",
        "sandbox",
        "--base-url",
        sandbox_url,
        STAGING_WITH_HISTORY,
        STAGING_WITHOUT_HISTORY,
        UNKNOWN,
    )
    assert code == 4
    assert "credentials" in out
    assert out.count("USCIS refused the credentials") == 3
    assert SENTINEL not in out + err
    assert sent_requests.count("/oauth/accesstoken") == 1
    assert sent_requests.count("/case-status/") == 0
    counted = stats(sandbox_url)
    assert counted["tokens_issued"] == 0
    assert counted["requests"] == 0


def test_check_wrong_credentials_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, sandbox_url: str
) -> None:
    monkeypatch.setenv("CASEWATCH_CLIENT_ID", SANDBOX_ID)
    monkeypatch.setenv("CASEWATCH_CLIENT_SECRET", SENTINEL)
    code, out, err = run(
        capsys, "--env", "sandbox", "--base-url", sandbox_url, "check", "--json", UNKNOWN
    )
    assert code == 4
    (item,) = json_lines(out)
    assert item["error"]["type"] == "AuthenticationError"
    assert SENTINEL not in out + err


def test_check_out_of_quota_exits_5(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "check", "--daily-quota", "1", "--json", STAGING_WITH_HISTORY, "EAC9999103402"
    )
    assert code == 5
    items = json_lines(out)
    assert sorted(item["found"] for item in items) == [False, True]
    (refused,) = [item for item in items if not item["found"]]
    assert refused["error"]["type"] == "QuotaExhausted"
    assert refused["error"]["http_status"] is None  # refused locally, never sent
    assert ledger_used(settings_for(daily_quota=1)) == 1


def test_check_out_of_quota_from_the_start(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "check", "--daily-quota", "1", STAGING_WITH_HISTORY)[0] == 0
    code, out, _ = run(capsys, "check", "--daily-quota", "1", STAGING_WITH_HISTORY)
    assert code == 5
    assert "quota" in out.lower()


def test_check_unreachable_host_exits_6(
    capsys: pytest.CaptureFixture[str], no_retry_waits: None, sandbox_credentials: None
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    code, out, err = run(capsys, "check", "--env", "sandbox", "--base-url", url, UNKNOWN)
    assert code == 6
    assert "Could not reach USCIS" in out
    assert "Traceback" not in err
    assert SANDBOX_SECRET not in out + err


# --- check against answers that are not what they claim (issue 10, point 5) ---------------

DOCUMENTED_404S = {
    "EAC2612000201": NOT_RECOGNIZED,
    "EAC2612000202": Answer(404, b'{"message": "Case Status Online does not recognize it."}'),
    "EAC2612000203": Answer(
        404, b'\n\n  {"error": {"code": "404", "message": "Case Status Online: no such case"}}'
    ),
    "EAC2612000204": Answer(404, b'{"errors": [{"code": "404", "message": "Not on file"}]}'),
}
"""A 404 in each of USCIS's documented error shapes (uscis-api.md, "Errors")."""

PROXY_404 = Answer(
    404,
    b"<!DOCTYPE html><html><head><title>404 Not Found</title></head>"
    b"<body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>",
    "text/html",
)
CAPTIVE_PORTAL = Answer(
    200,
    b"<html><head><title>Hotel Wi-Fi: sign in</title></head><body>Room number</body></html>",
    "text/html",
)


def check_in_a_child(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``casewatch check --base-url url args`` as a user runs it (the demo's credentials)."""
    return run_python(tmp_path, "-m", "casewatch", "check", "--base-url", url, *args)


def test_check_a_404_in_uscis_own_shapes_is_not_recognized_exit_3(tmp_path: Path) -> None:
    with scripted_uscis(DOCUMENTED_404S) as uscis:
        result = check_in_a_child(tmp_path, uscis.url, *DOCUMENTED_404S)
    assert result.returncode == 3, result.stderr
    lines = result.stdout.splitlines()[1:]
    assert len(lines) == 4
    assert all("USCIS does not recognize this receipt number" in line for line in lines)
    for said in ("does not recognize it.", "no such case", "Not on file"):
        assert said in result.stdout
    assert set(uscis.requests.values()) == {1}


APIGEE_404 = Answer(
    404,
    b'{"fault": {"faultstring": "Unable to identify proxy for host: default and url: /x",'
    b' "detail": {"errorcode": "messaging.adaptors.http.flow.ApplicationNotFound"}}}',
)
"""Apigee's own answer to an address it has no proxy for: the gateway, not USCIS."""


@pytest.mark.parametrize(
    ("answer", "what"),
    [
        (PROXY_404, "an HTML page: 404 Not Found"),
        (APIGEE_404, "a gateway fault: Unable to identify proxy for host"),
    ],
)
def test_check_a_proxy_404_page_is_an_unexpected_answer_exit_6(
    tmp_path: Path, answer: Answer, what: str
) -> None:
    receipt = "EAC2612000211"
    with scripted_uscis({receipt: answer}) as uscis:
        result = check_in_a_child(tmp_path, uscis.url, receipt)
    assert result.returncode == 6, result.stderr
    (line,) = result.stdout.splitlines()[1:]
    assert line.startswith(f"{receipt}  -     error  -        An unexpected answer: HTTP 404")
    assert f"HTTP 404 with {what}" in line
    assert "(a proxy or a moved address" in line
    assert "does not recognize" not in result.stdout
    assert "Traceback" not in result.stderr
    assert uscis.requests[receipt] == 1  # not retried: the proxy would answer the same


def test_check_answers_that_are_not_what_they_claim(tmp_path: Path) -> None:
    empty_404, portal, not_a_status, other, salvaged = (
        f"EAC26120002{n}" for n in (21, 22, 23, 24, 25)
    )
    answers = {
        empty_404: Answer(404, b"", "text/plain"),
        portal: CAPTIVE_PORTAL,
        not_a_status: Answer(200, b'{"message": "Query was successful"}'),
        other: case_status_answer(other, about="EAC2612000299"),
        salvaged: broken_quotes_answer(salvaged),
    }
    with scripted_uscis(answers) as uscis:
        result = check_in_a_child(tmp_path, uscis.url, "--json", *answers)
    assert result.returncode == 6, result.stderr
    by_receipt = {item["receipt_number"]: item for item in json_lines(result.stdout)}
    said = {receipt: item.get("error", {}).get("message") for receipt, item in by_receipt.items()}
    assert said[empty_404].startswith("HTTP 404 with an empty body (a proxy or a moved address")
    assert said[portal] == "HTTP 200 with an HTML page: Hotel Wi-Fi: sign in"
    assert said[not_a_status] == "HTTP 200 with JSON that is not a case status"
    assert said[other] == (
        f"HTTP 200 with the case status of EAC2612000299, not of {other} "
        "(a caching proxy or a server bug?)"
    )
    for receipt in (empty_404, portal, not_a_status, other):
        assert by_receipt[receipt]["found"] is False
        assert by_receipt[receipt]["error"]["type"] == "UnexpectedAnswer"
        assert uscis.requests[receipt] == 1  # not retried
    assert "Expecting" not in result.stdout  # never a JSON parser's words
    # The description link whose quotes were not escaped is salvaged, the link kept.
    assert by_receipt[salvaged]["found"] is True
    assert by_receipt[salvaged]["description"] == (
        "As of today, we are reviewing your case. If you move, go to Change of Address "
        "(https://www.uscis.gov/addresschange)."
    )
    log = (tmp_path / "xdg_state_home/casewatch/log/casewatch.log").read_text()
    assert log.count(f"{salvaged}: USCIS's answer had quotes not escaped") == 1
    assert "salvaged, the link kept" in log


def test_check_with_an_unusable_state_directory_fails_cleanly(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    not_a_directory = tmp_path / "state-file"
    not_a_directory.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_STATE_HOME", str(not_a_directory))
    code, _, err = run(capsys, "check", STAGING_WITH_HISTORY)
    assert code != 0
    assert err.startswith("casewatch: ")


# --- readiness -------------------------------------------------------------------------------


def readiness_lines(out: str) -> dict[str, str]:
    """The checklist items of ``casewatch readiness``, keyed by a word of each."""
    items = [line for line in out.splitlines() if line.startswith("[")]
    keys = {
        "account": "developer account",
        "app": "sandbox app",
        "tested": "tested in the sandbox",
        "consecutive": "consecutive",
        "success": "success (200)",
        "client_error": "client-error (4xx)",
    }
    found = {key: next(line for line in items if text in line) for key, text in keys.items()}
    assert len(items) == len(found)
    return found


def test_readiness_after_checks_on_the_sandbox(
    capsys: pytest.CaptureFixture[str], sandbox_url: str, sandbox_credentials: None
) -> None:
    options = ("--env", "sandbox", "--base-url", sandbox_url)
    started = time.time()
    code, out, err = run(capsys, *options, "check", STAGING_WITH_HISTORY, UNKNOWN)
    finished = time.time()
    assert code == 3, (out, err)
    assert stats(sandbox_url)["by_status"] == {"200": 1, "404": 1}

    code, out, err = run(capsys, *options, "readiness")
    assert code == 0, err
    items = readiness_lines(out)
    assert items["account"].startswith("[?]")
    assert items["app"].startswith("[x]")
    assert SANDBOX_ID in items["app"]
    assert items["tested"].startswith("[x]")
    assert "1 day(s)" in items["tested"]
    assert items["consecutive"].startswith("[ ]")
    assert items["success"].startswith("[x]")
    assert "1 seen" in items["success"]
    assert items["client_error"].startswith("[x]")
    assert "1 seen" in items["client_error"]
    assert SANDBOX_SECRET not in out + err

    log = settings_for().traffic_log_path
    assert str(log) in out
    text = log.read_text(encoding="utf-8")
    for secret_or_receipt in (STAGING_WITH_HISTORY, UNKNOWN, SANDBOX_SECRET, SANDBOX_ID):
        assert secret_or_receipt not in text
    data = json.loads(text)
    assert list(data.values()) == [{"200": 1, "404": 1}]
    (day,) = data
    # Today's date in US Eastern (either side of midnight, should the check straddle it).
    assert day in {eastern_day(started).isoformat(), eastern_day(finished).isoformat()}


def test_readiness_before_any_traffic(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "readiness")
    assert code == 0, err
    items = readiness_lines(out)
    for key in ("tested", "consecutive", "success", "client_error"):
        assert items[key].startswith("[ ]"), items[key]
    assert items["app"].startswith("[?]")  # demo: the sandbox app cannot be seen from here
    assert "0 seen" in items["client_error"]
    assert "404" in items["client_error"]  # the hint on how to get a 4xx


def write_traffic_log(days: dict[str, dict[str, int]]) -> Path:
    """Write a traffic log with ``days`` where the command line will read it."""
    path = settings_for().traffic_log_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(days), encoding="utf-8")
    return path


def test_readiness_five_consecutive_days(
    capsys: pytest.CaptureFixture[str], sandbox_credentials: None
) -> None:
    write_traffic_log(
        {
            "2026-11-20": {"200": 3},
            "2026-11-21": {"404": 1},
            "2026-11-22": {"200": 1},
            "2026-11-23": {"503": 2},
            "2026-11-24": {"200": 1, "422": 1},
        }
    )
    code, out, err = run(capsys, "readiness", "--env", "sandbox")
    assert code == 0, err
    items = readiness_lines(out)
    assert items["consecutive"].startswith("[x]")
    assert "longest run 5 (2026-11-20 to 2026-11-24" in items["consecutive"]
    assert "5 day(s)" in items["tested"]
    assert "5 seen" in items["success"]
    assert "2 seen" in items["client_error"]


def test_readiness_four_day_run_is_not_enough(
    capsys: pytest.CaptureFixture[str], sandbox_credentials: None
) -> None:
    write_traffic_log(
        {
            "2026-11-20": {"200": 1},
            "2026-11-21": {"200": 1},
            "2026-11-22": {"200": 1},
            "2026-11-23": {"200": 1},
            "2026-11-25": {"404": 1},
            "2026-11-26": {"200": 1},
        }
    )
    code, out, err = run(capsys, "--env", "sandbox", "readiness")
    assert code == 0, err
    items = readiness_lines(out)
    assert items["consecutive"].startswith("[ ]")
    assert "longest run 4 (2026-11-20 to 2026-11-23" in items["consecutive"]
    assert "6 day(s)" in items["tested"]


def test_readiness_survives_a_damaged_log(capsys: pytest.CaptureFixture[str]) -> None:
    path = write_traffic_log({})
    path.write_text('{"2026-11-20": {"200": "x"}, "someday": {"200": 1}, ', encoding="utf-8")
    code, out, err = run(capsys, "readiness")
    assert code == 0, err
    assert "Traceback" not in err
    assert readiness_lines(out)["tested"].startswith("[ ]")


# --- config ----------------------------------------------------------------------------------


def test_config_shows_sources_and_masks_the_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASEWATCH_CLIENT_ID", "my-app")
    monkeypatch.setenv("CASEWATCH_CLIENT_SECRET", SENTINEL)
    code, out, err = run(capsys, "config", "--env", "sandbox", "--tps", "2")
    assert code == 0, err
    assert SENTINEL not in out + err
    assert f"({len(SENTINEL)} characters)" in out
    for text in (
        "sandbox",
        "[command line]",
        "[CASEWATCH_CLIENT_ID]",
        "[CASEWATCH_CLIENT_SECRET]",
        "[preset sandbox]",
        "https://api-int.uscis.gov",
        "2 requests per second",
        "1,000 requests per US Eastern day",
        "my-app",
    ):
        assert text in out, text


def test_config_of_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "config")
    assert code == 0, err
    assert "demo" in out
    assert "[default]" in out
    assert "[preset demo]" in out
    assert "casewatch-demo-secret" not in out


def test_config_reads_the_config_option(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "custom.toml"
    path.write_text("refresh_minutes = 12\n", encoding="utf-8")
    code, out, err = run(capsys, "--config", str(path), "config")
    assert code == 0, err
    assert "12 minutes" in out
    assert f"[config file {path}]" in out


def test_a_bad_config_file_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "custom.toml"
    path.write_text(f'[credentials]\nclient_secret = "{SENTINEL}"\n', encoding="utf-8")
    os.chmod(path, 0o644)
    for command in (["config"], ["check", STAGING_WITH_HISTORY], ["readiness"]):
        code, out, err = run(capsys, *command, "--config", str(path))
        assert code == 2, command
        assert out == ""
        assert "chmod 600" in err
        assert "Traceback" not in err
        assert SENTINEL not in err


# --- options and start-up ----------------------------------------------------------------------


def test_options_after_the_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", STAGING_WITH_HISTORY, "--env", "demo", "--json")
    assert code == 0, err
    (item,) = json_lines(out)
    assert item["receipt_number"] == STAGING_WITH_HISTORY


def test_options_before_and_after_the_subcommand(
    capsys: pytest.CaptureFixture[str], sandbox_credentials: None
) -> None:
    code, out, err = run(capsys, "--env", "sandbox", "config", "--daily-quota", "3")
    assert code == 0, err
    lines = {line.split("  ")[0]: line for line in out.splitlines()}
    assert "sandbox" in lines["environment"]
    assert "[command line]" in lines["environment"]
    assert "3 requests" in lines["daily quota"]
    assert "[command line]" in lines["daily quota"]


@pytest.mark.parametrize("value", ["0", "-1", "fast"])
def test_bad_option_values_are_usage_errors(capsys: pytest.CaptureFixture[str], value: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["check", STAGING_WITH_HISTORY, "--tps", value])
    assert exited.value.code == 2
    assert value in capsys.readouterr().err


def test_a_bad_base_url_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", "--base-url", "http://example.com", STAGING_WITH_HISTORY)
    assert code == 2
    assert out == ""
    assert "https" in err


def test_production_without_credentials_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--env", "production", "check", STAGING_WITH_HISTORY)
    assert code == 2
    assert out == ""
    assert "CASEWATCH_CLIENT_ID" in err
    assert not settings_for(environment="demo").limits_path.parent.exists()


def run_python(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python *args`` in a child process with the user directories in ``tmp_path``, no
    terminal and nothing on standard input. The log file of a ``casewatch`` so started
    is ``tmp_path / "xdg_state_home/casewatch/log/casewatch.log"``."""
    return subprocess.run(
        [sys.executable, *args],
        env=subprocess_env(tmp_path),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_dashboard_on_production_without_credentials_exits_2(tmp_path: Path) -> None:
    result = run_python(tmp_path, "-m", "casewatch", "--env", "production")
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("casewatch: ")
    assert "CASEWATCH_CLIENT_ID" in result.stderr
    assert "--env demo" in result.stderr


def test_the_dashboard_without_a_terminal_says_so_and_exits_2(tmp_path: Path) -> None:
    result = run_python(tmp_path, "-m", "casewatch")
    assert result.returncode == 2, result.stderr
    assert "the dashboard needs a terminal" in result.stderr
    assert result.stdout == ""  # no escape codes


def test_a_reader_that_goes_away_is_not_an_error(tmp_path: Path) -> None:
    added = run_python(tmp_path, "-m", "casewatch", "add", STAGING_WITH_HISTORY)
    assert added.returncode == 0, added.stderr
    listing = subprocess.Popen(  # casewatch list | head, where head has already exited
        [sys.executable, "-m", "casewatch", "list"],
        env=subprocess_env(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert listing.stdout is not None
    listing.stdout.close()
    _, err = listing.communicate(timeout=120)
    assert listing.returncode == 0, err
    assert err == b""


def test_help_exits_0(tmp_path: Path) -> None:
    result = run_python(tmp_path, "-m", "casewatch", "--help")
    assert result.returncode == 0, result.stderr
    for command in ("dashboard", "check", "config", "readiness", "sandbox", "--env"):
        assert command in result.stdout


def test_check_help_lists_the_exit_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["check", "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for status in ("0 all found", "2 usage", "3 a receipt", "4 auth", "5 rate", "6 USCIS"):
        assert status in " ".join(out.split()), status


def test_check_does_not_import_textual(tmp_path: Path) -> None:
    program = (  # nor textual-serve and aiohttp, which casewatch serve imports when it runs
        "import sys; from casewatch.cli import main; "
        f"main(['check', '{STAGING_WITH_HISTORY}']); "
        "print(any(name in sys.modules for name in ('textual', 'textual_serve', 'aiohttp')))"
    )
    result = run_python(tmp_path, "-c", program)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "False"
    assert any(line.startswith(STAGING_WITH_HISTORY) for line in lines)
