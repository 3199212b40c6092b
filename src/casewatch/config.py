"""Environments, credentials and paths: everything a run of casewatch is configured by.

Presets from ``uscis-api.md`` ("Hosts and environments"). With no credentials the
environment is ``demo``: the built-in sandbox, run in-process, so nothing leaves the
machine. Settings come from the command line, ``CASEWATCH_*`` variables and
``config.toml``, in that order. Paths follow the platform's conventions (platformdirs).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
import platformdirs

from casewatch.cases import US_EASTERN
from casewatch.config_file import CREDENTIAL_KEYS, FILE_KEYS, ConfigError, read_config_file
from casewatch.deadlines import NoticeKind, ResponseDays
from casewatch.timezones import DEFAULT_TIMEZONE, parse_timezone
from casewatch.uscis.auth import Credentials, Secret
from casewatch.uscis.client import CaseStatusClient
from casewatch.uscis.ledger import LedgerStore, check_limits_url, redis_where
from casewatch.uscis.limits import LOOPBACK_MARGIN_S, REMOTE_MARGIN_S, RateLimiter
from casewatch.uscis.traffic import TrafficLog

if TYPE_CHECKING:
    from casewatch.sandbox import SandboxConfig

APP_NAME = "casewatch"

DEFAULT_REFRESH_MINUTES = 60.0
"""Minutes between two automatic refreshes of the whole watchlist."""

MIN_REFRESH_MINUTES = 1.0
MAX_REFRESH_MINUTES = 7 * 24 * 60.0
"""The range of the refresh interval, in minutes."""

DEFAULT_QUIET_DAYS = 180
"""Days without a change from USCIS after which a case that is not final needs attention
(``casewatch attention``; setting ``quiet_days``)."""

RESPONSE_DAYS_SETTINGS = (
    "request_for_evidence_days",
    "notice_of_intent_days",
    "continuation_notice_days",
)
"""The settings of :class:`casewatch.deadlines.ResponseDays`, in the order of
:class:`casewatch.deadlines.NoticeKind`."""

MAX_SETTING_DAYS = 3650
"""The most days a setting in days takes (ten years)."""

DEMO_CREDENTIALS = Credentials("casewatch-demo", Secret("casewatch-demo-secret"))
"""What the built-in sandbox accepts by default; no real USCIS secret."""


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
    when None); ``sources`` says where each setting came from (for ``casewatch config``);
    ``on_change`` is the command run for each change (program and arguments, no shell);
    ``notify_urls`` are Apprise URLs notified of each change; ``theme`` is the dashboard
    theme asked for on the command line; ``keys`` remaps the dashboard's keys (binding id
    to keys, such as ``{"refresh": "f5"}``); ``response_days`` gives the days from a
    notice to its estimated response due date (:mod:`casewatch.deadlines`);
    ``quiet_days`` the days without a change from USCIS after which a case needs
    attention; ``timezone`` the zone every time is shown in (the ``timezone`` setting:
    :mod:`casewatch.timezones`). ``limits_url`` is the Redis server of a request ledger
    shared between machines (None: the file ledger, :attr:`limits_path`),
    ``redis_password`` its password when the URL has none (``CASEWATCH_REDIS_PASSWORD``).
    """

    environment: Environment
    credentials: Credentials
    watchlist_path: Path
    state_dir: Path
    refresh_minutes: float = DEFAULT_REFRESH_MINUTES
    sandbox: SandboxConfig | None = None
    config_path: Path | None = None
    sources: Mapping[str, str] = field(default_factory=dict)
    on_change: tuple[str, ...] = ()
    notify_urls: tuple[str, ...] = ()
    theme: str | None = None
    keys: Mapping[str, str] = field(default_factory=dict)
    response_days: ResponseDays = field(default_factory=ResponseDays)
    quiet_days: int = DEFAULT_QUIET_DAYS
    timezone: ZoneInfo = US_EASTERN
    limits_url: str | None = None
    redis_password: Secret | None = None

    @property
    def limits_path(self) -> Path:
        """The state file of request spacing and the daily quota count.

        One per environment, host and client id: every process using the same
        credentials against the same host shares it (the quota is the app's).
        """
        key = f"{self.environment.host_url}\n{self.credentials.client_id}".encode()
        digest = hashlib.sha256(key).hexdigest()[:10]
        return self.state_dir / f"limits-{self.environment.name}-{digest}.json"

    def open_client(self) -> CaseStatusClient:
        """A :class:`CaseStatusClient` for this environment, with its shared limiter.

        For ``demo``, the built-in sandbox answers in-process; nothing is sent on the
        network. The spacing margin of a new ledger is :data:`LOOPBACK_MARGIN_S` for the
        in-process sandbox and loopback hosts, :data:`REMOTE_MARGIN_S` for others. For the
        USCIS sandbox, responses are counted in the readiness log.
        """
        transport: httpx.AsyncBaseTransport | None = None
        if self.environment.in_process:
            from casewatch.sandbox import InProcessTransport, SandboxConfig, create_app

            sandbox = self.sandbox or SandboxConfig()
            transport = InProcessTransport(create_app(sandbox), clock=sandbox.clock)
        usc_sandbox = self.environment.name == "sandbox"
        return CaseStatusClient(
            host_url=self.environment.host_url,
            credentials=self.credentials,
            limiter=self.rate_limiter(),
            transport=transport,
            traffic_log=TrafficLog(self.traffic_log_path) if usc_sandbox else None,
            sandbox_hours=usc_sandbox,
        )

    def rate_limiter(self) -> RateLimiter:
        """The request spacing and daily quota ledger of this environment and these
        credentials, shared by every process using them: the one :meth:`open_client`
        sends through and ``casewatch quota`` reads. It lives in :attr:`limits_path`, or
        in Redis at :attr:`limits_url` under a key naming the environment, the host and
        the client id (:mod:`casewatch.uscis.redis_ledger`). Creates no file and opens
        no connection."""
        host = httpx.URL(self.environment.host_url).host
        nearby = self.environment.in_process or is_loopback_host(host)
        ledger: Path | LedgerStore = self.limits_path
        if self.limits_url is not None:
            from casewatch.uscis.redis_ledger import RedisLedger

            key = f"casewatch:ledger:{self.limits_path.stem.removeprefix('limits-')}"
            ledger = RedisLedger(self.limits_url, key, password=self.redis_password)
        return RateLimiter(
            ledger,
            tps=self.environment.tps,
            daily_quota=self.environment.daily_quota,
            initial_margin_s=LOOPBACK_MARGIN_S if nearby else REMOTE_MARGIN_S,
        )

    @property
    def ledger_where(self) -> str:
        """Where the request ledger lives, for a message: the file's path, or ``Redis at
        redis://host:6379/0`` (never its password)."""
        if self.limits_url is None:
            return str(self.limits_path)
        return redis_where(self.limits_url)

    @property
    def traffic_log_path(self) -> Path:
        """The USCIS sandbox traffic log read by ``casewatch readiness``."""
        return self.state_dir / "sandbox-traffic.json"


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


def default_watchlist_path(environment: str, host_url: str | None = None) -> Path:
    """``watchlist-<environment>.toml`` in the user data directory: one file per
    environment, so staging receipts never mix with real cases. With ``host_url`` (a base
    URL given instead of the preset's), ``watchlist-<environment>-<host>-<port>.toml``:
    another server's cases are other cases, and must not look like changes."""
    if host_url is None:
        return platformdirs.user_data_path(APP_NAME) / f"watchlist-{environment}.toml"
    url = httpx.URL(host_url)
    place = re.sub(r"[^A-Za-z0-9.]+", "-", f"{url.host}-{url.port or url.scheme}")
    return platformdirs.user_data_path(APP_NAME) / f"watchlist-{environment}-{place}.toml"


def default_config_path() -> Path:
    """``config.toml`` in the user config directory (``~/.config/casewatch`` on Linux)."""
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def check_base_url(url: str) -> str:
    """``url`` without a trailing slash, if it is ``https://`` or loopback ``http://``.

    Raises :class:`ConfigError` for another scheme, a missing host, a path, or plain ``http://``
    to a host that is not loopback (credentials and tokens never cross a network
    unencrypted; TLS verification is never turned off).
    """
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        parsed = httpx.URL("invalid:")
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(f"{url!r} is not a base URL such as https://api.uscis.gov")
    if parsed.path not in ("", "/") or parsed.query or parsed.fragment or parsed.userinfo:
        raise ConfigError(
            f"{url!r}: give the origin only, such as https://api-int.uscis.gov "
            "(casewatch adds /oauth/accesstoken and /case-status/...)"
        )
    if parsed.scheme == "http" and not is_loopback_host(parsed.host):
        raise ConfigError(
            f"plain http:// is refused except on loopback: use https:// for {parsed.host}"
        )
    return url.rstrip("/")


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a loopback IP address (127.0.0.0/8, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _from_variable(variable: str, text: str, kind: type | tuple[type, ...]) -> Any:
    if kind is str:
        return text
    try:
        return int(text) if kind is int else float(text)
    except ValueError:
        raise ConfigError(f"{variable}={text!r} is not a number") from None


def _positive(name: str, value: Any, source: str) -> Any:
    if isinstance(value, bool) or not value > 0:
        raise ConfigError(f"{name} must be above 0, got {value!r} ({source})")
    return value


def load_settings(
    *,
    environment: str | None = None,
    base_url: str | None = None,
    tps: float | None = None,
    daily_quota: int | None = None,
    refresh_minutes: float | None = None,
    watchlist: Path | None = None,
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    theme: str | None = None,
    limits_url: str | None = None,
) -> Settings:
    """The effective settings: command line, then ``CASEWATCH_*`` variables, then the
    config file, then the environment's preset.

    The environment comes from ``environment`` (``--env``), ``CASEWATCH_ENV`` or the
    config file's ``env``; with none, ``production`` when credentials are configured and
    ``demo`` (the in-process sandbox) when not. Credentials come from
    ``CASEWATCH_CLIENT_ID``/``CASEWATCH_CLIENT_SECRET`` or the config file's
    ``[credentials]``. ``base_url``, ``tps`` (requests per second) and ``daily_quota``
    (requests per US Eastern day) override the preset; ``theme`` (``--theme``) names the
    dashboard's theme; ``limits_url`` (``--limits-url``) the Redis server of a shared
    request ledger. The config file is
    ``config_path``, ``CASEWATCH_CONFIG``, or :func:`default_config_path`.

    Raises :class:`ConfigError` (the message says what is wrong, where it came from and
    how to fix it).
    """
    env = os.environ if environ is None else environ
    path = config_path or Path(env.get("CASEWATCH_CONFIG") or default_config_path())
    file = read_config_file(path)
    from_file = f"config file {path}"
    sources: dict[str, str] = {}

    def pick(key: str, given: Any) -> Any:
        variable = f"CASEWATCH_{key.upper()}"
        if given is not None:
            sources[key] = "command line"
            return given
        if env.get(variable, "").strip():
            sources[key] = variable
            return _from_variable(variable, env[variable].strip(), FILE_KEYS.get(key, str))
        if key in file:
            sources[key] = from_file
            return file[key]
        return None

    file_credentials = file.get("credentials", {})
    client_id = pick("client_id", None) or file_credentials.get("client_id", "")
    secret = pick("client_secret", None) or file_credentials.get("client_secret", "")
    for key in CREDENTIAL_KEYS:
        if key in file_credentials and key not in sources:
            sources[key] = from_file
    if bool(client_id) != bool(secret):
        missing = "CASEWATCH_CLIENT_SECRET" if client_id else "CASEWATCH_CLIENT_ID"
        raise ConfigError(
            f"only half of the USCIS credentials is set: set {missing} too (or "
            f"[credentials] in {path}), or neither for the built-in sandbox"
        )
    name = pick("env", environment)
    if name is None:
        name = "production" if client_id and secret else "demo"
        sources["env"] = "default (credentials configured)" if client_id else "default"
    if name not in ENVIRONMENTS:
        raise ConfigError(
            f"unknown environment {name!r} ({sources['env']}): use one of {', '.join(ENVIRONMENTS)}"
        )
    preset = ENVIRONMENTS[name]

    def positive_or_preset(key: str, given: Any, preset_value: Any) -> Any:
        value = pick(key, given)
        if value is None:
            sources[key] = f"preset {name}"
            return preset_value
        return _positive(key, value, sources[key])

    url = pick("base_url", base_url)
    sources.setdefault("base_url", f"preset {name}")
    environment_ = replace(
        preset,
        host_url=preset.host_url if url is None else check_base_url(url),
        in_process=preset.in_process and url is None,
        tps=float(positive_or_preset("tps", tps, preset.tps)),
        daily_quota=int(positive_or_preset("daily_quota", daily_quota, preset.daily_quota)),
    )
    if environment_.in_process or (preset.in_process and not client_id):
        credentials = DEMO_CREDENTIALS  # the built-in sandbox accepts only its own
        sources["client_id"] = sources["client_secret"] = "built-in sandbox"
    elif not client_id:
        raise ConfigError(
            f"the {name} environment needs USCIS credentials: set CASEWATCH_CLIENT_ID and "
            f"CASEWATCH_CLIENT_SECRET, or client_id and client_secret under [credentials] "
            f"in {path} (chmod 600); or run with --env demo for the built-in sandbox"
        )
    else:
        credentials = Credentials(client_id, Secret(secret))
    minutes = pick("refresh_minutes", refresh_minutes)
    if minutes is None:
        minutes = DEFAULT_REFRESH_MINUTES
        sources["refresh_minutes"] = "default"
    if isinstance(minutes, bool) or not (MIN_REFRESH_MINUTES <= minutes <= MAX_REFRESH_MINUTES):
        raise ConfigError(
            f"refresh_minutes must be from {MIN_REFRESH_MINUTES:g} to {MAX_REFRESH_MINUTES:g} "
            f"(a week), got {minutes!r} ({sources['refresh_minutes']})"
        )

    def days(key: str, default: int) -> int:
        value = pick(key, None)
        if value is None:
            sources[key] = "default"
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(
                f"{key} must be a whole number of days, got {value!r} ({sources[key]})"
            )
        if not 1 <= value <= MAX_SETTING_DAYS:
            raise ConfigError(
                f"{key} must be from 1 to {MAX_SETTING_DAYS} days, got {value} ({sources[key]})"
            )
        return value

    preset_days = ResponseDays()
    response_days = ResponseDays(
        *(
            days(key, preset_days.of(kind))
            for kind, key in zip(NoticeKind, RESPONSE_DAYS_SETTINGS, strict=True)
        )
    )
    quiet_days = days("quiet_days", DEFAULT_QUIET_DAYS)
    zone_name = pick("timezone", None)
    if zone_name is None:
        zone_name, sources["timezone"] = DEFAULT_TIMEZONE, "default"
    try:
        zone = parse_timezone(zone_name)
    except ValueError as exc:
        raise ConfigError(f"{exc} ({sources['timezone']})") from None
    ledger_url = pick("limits_url", limits_url)
    if ledger_url is not None:
        try:
            check_limits_url(ledger_url)
        except ValueError as exc:
            raise ConfigError(f"{exc} ({sources['limits_url']})") from None
    redis_password = env.get("CASEWATCH_REDIS_PASSWORD", "")
    chosen = pick("watchlist", watchlist)
    sources.setdefault("watchlist", "default")
    if chosen is not None and sources["watchlist"] == from_file:
        chosen = path.parent / Path(chosen).expanduser()  # relative to the config file
    return Settings(
        environment=environment_,
        credentials=credentials,
        watchlist_path=(
            Path(chosen).expanduser()
            if chosen
            else default_watchlist_path(name, None if url is None else environment_.host_url)
        ),
        state_dir=platformdirs.user_state_path(APP_NAME),
        refresh_minutes=float(minutes),
        config_path=path,
        sources=sources,
        on_change=tuple(file.get("on_change", ())),
        notify_urls=tuple(file.get("notify_urls", ())),
        theme=theme,
        keys=dict(file.get("keys", {})),
        response_days=response_days,
        quiet_days=quiet_days,
        timezone=zone,
        limits_url=ledger_url,
        redis_password=Secret(redis_password) if redis_password else None,
    )
