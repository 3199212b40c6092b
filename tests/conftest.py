"""Shared test set-up: isolated user directories, a fixed zone, animations off."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

# Before Textual is imported: its constants are read once.
os.environ["TEXTUAL_ANIMATIONS"] = "none"
os.environ["TZ"] = "America/New_York"
time.tzset()

from casewatch.cases import US_EASTERN  # noqa: E402
from casewatch.cli import open_watchlist  # noqa: E402
from casewatch.config import fast_demo_settings  # noqa: E402
from casewatch.sandbox import SandboxConfig  # noqa: E402

FROZEN_NOW = datetime(2026, 11, 29, 9, 30, tzinfo=US_EASTERN).timestamp()
"""The fixed clock of snapshot tests: 09:30 US Eastern, 2026-11-29."""


@pytest.fixture(autouse=True)
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data, state, config and cache directories."""
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    for name in ("CASEWATCH_ENV", "CASEWATCH_CLIENT_ID", "CASEWATCH_CLIENT_SECRET", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture(autouse=True)
def no_log_file_left() -> Iterator[None]:
    """The log file handler a test's ``main()`` adds (casewatch.logs) goes with the test,
    so later tests never write to its directory."""
    yield
    casewatch_log = logging.getLogger("casewatch")
    for handler in list(casewatch_log.handlers):
        casewatch_log.removeHandler(handler)
        handler.close()


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., object]:
    """Build a dashboard on a fast demo sandbox with a frozen clock."""
    from casewatch.tui.app import CaseWatchApp

    def build(clock: Callable[[], float] = lambda: FROZEN_NOW, **sandbox: object) -> CaseWatchApp:
        config = SandboxConfig(latency_ms=(0.0, 0.0), tps=1_000_000.0, **sandbox)  # type: ignore[arg-type]
        settings = fast_demo_settings(tmp_path, config)
        return CaseWatchApp(settings, open_watchlist(settings, clock), clock=clock)

    return build
