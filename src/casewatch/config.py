"""Environments, credentials and paths: everything a run of casewatch is configured by.

Presets from ``uscis-api.md`` ("Hosts and environments"). With no credentials the
environment is ``demo``: the built-in sandbox, run in-process, so nothing leaves the
machine. Paths follow the platform's conventions (platformdirs).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import platformdirs

from casewatch.uscis.auth import Credentials, Secret
from casewatch.uscis.client import CaseStatusClient
from casewatch.uscis.limits import RateLimiter

if TYPE_CHECKING:
    from casewatch.sandbox import SandboxConfig

APP_NAME = "casewatch"

DEFAULT_REFRESH_MINUTES = 60.0
"""Minutes between two automatic refreshes of the whole watchlist."""

DEMO_CREDENTIALS = Credentials("casewatch-demo", Secret("casewatch-demo-secret"))
"""What the built-in sandbox accepts by default; no real USCIS secret."""


class ConfigError(ValueError):
    """A setting that cannot be used; the message says which and how to fix it."""


@dataclass(frozen=True, slots=True)
class Environment:
    """A USCIS API environment: its origin URL, spike arrest rate (requests per second)
    and daily quota (requests per US Eastern day). ``in_process`` marks the built-in
    sandbox, which is reached through httpx's ASGI transport instead of the network."""

    name: str
    host_url: str
    tps: float
    daily_quota: int
    in_process: bool = False


ENVIRONMENTS: dict[str, Environment] = {
    "demo": Environment("demo", "http://casewatch-sandbox", 10.0, 150_000, in_process=True),
    "sandbox": Environment("sandbox", "https://api-int.uscis.gov", 5.0, 1_000),
    "production": Environment("production", "https://api.uscis.gov", 10.0, 150_000),
}


@dataclass(frozen=True, slots=True)
class Settings:
    """The effective settings of one run.

    ``watchlist_path`` is the TOML watchlist; ``state_dir`` holds the shared limits
    state; ``refresh_minutes`` is the time between automatic refreshes, in minutes;
    ``sandbox`` configures the in-process sandbox of the demo environment (its defaults
    when None).
    """

    environment: Environment
    credentials: Credentials
    watchlist_path: Path
    state_dir: Path
    refresh_minutes: float = DEFAULT_REFRESH_MINUTES
    sandbox: SandboxConfig | None = None

    @property
    def limits_path(self) -> Path:
        """The state file of request spacing and the daily quota count."""
        return self.state_dir / f"limits-{self.environment.name}.json"

    def open_client(self, clock: Callable[[], float] = time.time) -> CaseStatusClient:
        """A :class:`CaseStatusClient` for this environment, with its shared limiter.

        For ``demo``, the built-in sandbox answers in-process; nothing is sent on the
        network. ``clock`` gives the limiter Unix time in seconds.
        """
        transport: httpx.AsyncBaseTransport | None = None
        if self.environment.in_process:
            from casewatch.sandbox import SandboxConfig, create_app

            transport = httpx.ASGITransport(app=create_app(self.sandbox or SandboxConfig()))
        limiter = RateLimiter(
            self.limits_path,
            tps=self.environment.tps,
            daily_quota=self.environment.daily_quota,
            clock=clock,
        )
        return CaseStatusClient(
            host_url=self.environment.host_url,
            credentials=self.credentials,
            limiter=limiter,
            transport=transport,
        )


def fast_demo_settings(directory: Path, sandbox: SandboxConfig) -> Settings:
    """Demo settings for tests, screenshots and benchmarks: the watchlist and the limits
    state in ``directory``, the client spacing 1 ms (1,000 requests per second), and the
    in-process sandbox configured by ``sandbox``."""
    return Settings(
        environment=replace(ENVIRONMENTS["demo"], tps=1000.0),
        credentials=DEMO_CREDENTIALS,
        watchlist_path=directory / "watchlist-demo.toml",
        state_dir=directory / "state",
        sandbox=sandbox,
    )


def default_watchlist_path(environment: str) -> Path:
    """``watchlist-<environment>.toml`` in the user data directory: one file per
    environment, so staging receipts never mix with real cases."""
    return platformdirs.user_data_path(APP_NAME) / f"watchlist-{environment}.toml"


def load_settings(
    *,
    environment: str | None = None,
    watchlist: Path | None = None,
    refresh_minutes: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Settings from the command line's values, then ``CASEWATCH_*`` variables.

    The environment comes from ``environment``, else ``CASEWATCH_ENV``, else ``demo``.
    Credentials for ``sandbox`` and ``production`` come from ``CASEWATCH_CLIENT_ID`` and
    ``CASEWATCH_CLIENT_SECRET``. Raises :class:`ConfigError` for an unknown environment,
    missing credentials or a refresh interval that is not a positive number of minutes.
    """
    env = os.environ if environ is None else environ
    name = environment or env.get("CASEWATCH_ENV") or "demo"
    if name not in ENVIRONMENTS:
        raise ConfigError(
            f"unknown environment {name!r}: use one of {', '.join(ENVIRONMENTS)} "
            "(--env or CASEWATCH_ENV)"
        )
    preset = ENVIRONMENTS[name]
    if preset.in_process:
        credentials = DEMO_CREDENTIALS
    else:
        client_id = env.get("CASEWATCH_CLIENT_ID", "").strip()
        secret = env.get("CASEWATCH_CLIENT_SECRET", "").strip()
        if not client_id or not secret:
            raise ConfigError(
                f"the {name} environment needs USCIS credentials: set CASEWATCH_CLIENT_ID "
                "and CASEWATCH_CLIENT_SECRET, or run without --env for the built-in demo"
            )
        credentials = Credentials(client_id, Secret(secret))
    minutes = DEFAULT_REFRESH_MINUTES if refresh_minutes is None else refresh_minutes
    if not minutes > 0:
        raise ConfigError(f"the refresh interval must be above 0 minutes, got {minutes}")
    return Settings(
        environment=preset,
        credentials=credentials,
        watchlist_path=watchlist or default_watchlist_path(name),
        state_dir=platformdirs.user_state_path(APP_NAME),
        refresh_minutes=minutes,
    )
