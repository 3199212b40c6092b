"""The log file: private from its creation, and what it keeps (casewatch.logs)."""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
import stamina

from casewatch.cli import main
from casewatch.logs import default_log_path, setup_logging
from casewatch.sandbox import SandboxConfig, running_server
from casewatch.tui.app import CaseWatchApp
from casewatch.uscis.client import RETRY_ATTEMPTS


def test_the_log_file_is_created_private_even_with_a_permissive_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        path = setup_logging(tmp_path / "log" / "casewatch.log")
        logging.getLogger("casewatch.test").warning("something worth keeping")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    line = path.read_text()
    assert "WARNING casewatch.test: something worth keeping" in line
    # The time says its zone: US Eastern, with its offset (the tests run in New York).
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}-0[45]:00 WARNING", line)


def test_a_log_file_others_could_read_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "casewatch.log"
    path.write_text("an old line\n")
    path.chmod(0o644)
    setup_logging(path)
    logging.getLogger("casewatch.test").error("a new line")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("an old line\n")


def test_retries_and_failed_checks_are_logged_with_their_receipt_and_reason() -> None:
    sandbox = SandboxConfig(latency_ms=(0.0, 0.0), tps=1_000_000.0, faults={"500": 1.0}, seed=1)
    with running_server(sandbox) as url, stamina.set_testing(True, attempts=RETRY_ATTEMPTS):
        assert main(["--base-url", url, "check", "EAC9999103403"]) == 6
    logged = default_log_path().read_text()
    for try_number in range(1, RETRY_ATTEMPTS):
        assert (
            f"get_case_status EAC9999103403: try {try_number} failed, trying again in 0.0 s: "
            "USCIS had a server error: Internal Server Error"
        ) in logged
    assert "check EAC9999103403 failed: USCIS had a server error" in logged


async def test_the_dashboard_logs_its_warnings_and_how_many_cases_failed(
    make_app: Callable[..., CaseWatchApp], caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(faults={"500": 1.0}, seed=1)
    with stamina.set_testing(True, attempts=RETRY_ATTEMPTS):
        async with app.run_test(size=(120, 40)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            app.notify("only shown", title="Information")
            app.notify("kept", title="Something went wrong", severity="error")
    logged = [(record.levelname, record.getMessage()) for record in caplog.records]
    assert ("WARNING", "refresh: 50 of 50 cases failed") in logged
    assert ("ERROR", "Something went wrong: kept") in logged
    assert not any("only shown" in message for _, message in logged)
