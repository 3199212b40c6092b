"""Tests of casewatch.config: presets, precedence, base URLs, credentials, config files.

Every test passes ``environ={...}`` and ``config_path=...`` explicitly, so neither the
process environment nor the user's own config file can leak in (the autouse fixture of
conftest.py also points the user directories into ``tmp_path``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from casewatch.config import (
    DEFAULT_REFRESH_MINUTES,
    Settings,
    check_base_url,
    load_settings,
)
from casewatch.config_file import ConfigError, read_config_file
from casewatch.settings_report import describe_settings

SENTINEL = "S3NT1NEL-secret-value"
"""A client secret that must never show up in any output."""

SHORT_SENTINEL = "S3NT1NEL"
"""A secret short enough to fit inside a clipped repr (see the credentials table tests)."""

CREDENTIALS_ENV = {"CASEWATCH_CLIENT_ID": "my-app", "CASEWATCH_CLIENT_SECRET": SENTINEL}


def write_config(path: Path, text: str, mode: int = 0o600) -> Path:
    """Write a config file with ``text`` and permission bits ``mode``."""
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


def load(tmp_path: Path, environ: dict[str, str] | None = None, **options: object) -> Settings:
    """``load_settings`` with an explicit environ and a config path under ``tmp_path``
    (missing unless a test wrote it)."""
    options.setdefault("config_path", tmp_path / "config.toml")
    return load_settings(environ={} if environ is None else environ, **options)  # type: ignore[arg-type]


def config_error(tmp_path: Path, environ: dict[str, str] | None = None, **options: object) -> str:
    """The message of the ConfigError that loading these settings raises."""
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, environ, **options)
    return str(caught.value)


# --- defaults and presets ---------------------------------------------------------------


def test_defaults_without_credentials_are_the_in_process_demo(tmp_path: Path) -> None:
    settings = load(tmp_path)
    environment = settings.environment
    assert environment.name == "demo"
    assert environment.in_process is True
    assert environment.tps == 10.0
    assert environment.daily_quota == 150_000
    assert settings.refresh_minutes == DEFAULT_REFRESH_MINUTES
    assert settings.sources["env"] == "default"
    for key in ("base_url", "tps", "daily_quota"):
        assert settings.sources[key] == "preset demo"
    assert settings.sources["refresh_minutes"] == "default"
    assert settings.sources["watchlist"] == "default"
    assert settings.watchlist_path.name == "watchlist-demo.toml"
    assert settings.config_path == tmp_path / "config.toml"


def test_credentials_in_environ_without_env_choose_production(tmp_path: Path) -> None:
    settings = load(tmp_path, CREDENTIALS_ENV)
    environment = settings.environment
    assert environment.name == "production"
    assert environment.host_url == "https://api.uscis.gov"
    assert environment.in_process is False
    assert environment.tps == 10.0
    assert environment.daily_quota == 150_000
    assert settings.credentials.client_id == "my-app"
    assert settings.credentials.client_secret.reveal() == SENTINEL
    assert settings.sources["env"].startswith("default")
    assert settings.sources["client_id"] == "CASEWATCH_CLIENT_ID"
    assert settings.sources["client_secret"] == "CASEWATCH_CLIENT_SECRET"
    assert settings.sources["tps"] == "preset production"
    assert settings.watchlist_path.name == "watchlist-production.toml"


def test_env_sandbox_preset(tmp_path: Path) -> None:
    settings = load(tmp_path, CREDENTIALS_ENV, environment="sandbox")
    environment = settings.environment
    assert environment.name == "sandbox"
    assert environment.host_url == "https://api-int.uscis.gov"
    assert environment.in_process is False
    assert environment.tps == 5.0
    assert environment.daily_quota == 1_000
    assert settings.sources["env"] == "command line"
    assert settings.sources["base_url"] == "preset sandbox"
    assert settings.sources["tps"] == "preset sandbox"
    assert settings.sources["daily_quota"] == "preset sandbox"


def test_casewatch_env_variable_chooses_the_environment(tmp_path: Path) -> None:
    settings = load(tmp_path, {**CREDENTIALS_ENV, "CASEWATCH_ENV": "sandbox"})
    assert settings.environment.name == "sandbox"
    assert settings.sources["env"] == "CASEWATCH_ENV"


def test_config_file_chooses_the_environment(tmp_path: Path) -> None:
    path = write_config(tmp_path / "config.toml", 'env = "sandbox"\n')
    settings = load(tmp_path, CREDENTIALS_ENV)
    assert settings.environment.name == "sandbox"
    assert settings.sources["env"] == f"config file {path}"


def test_command_line_beats_environ_beats_config_file(tmp_path: Path) -> None:
    path = write_config(tmp_path / "config.toml", 'env = "production"\n')
    environ = {**CREDENTIALS_ENV, "CASEWATCH_ENV": "sandbox"}

    from_file = load(tmp_path, CREDENTIALS_ENV)
    assert from_file.environment.name == "production"
    assert from_file.sources["env"] == f"config file {path}"

    from_environ = load(tmp_path, environ)
    assert from_environ.environment.name == "sandbox"
    assert from_environ.sources["env"] == "CASEWATCH_ENV"

    from_command_line = load(tmp_path, environ, environment="demo")
    assert from_command_line.environment.name == "demo"
    assert from_command_line.sources["env"] == "command line"


def test_credentials_from_environ_beat_the_config_file(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "config.toml",
        '[credentials]\nclient_id = "file-app"\nclient_secret = "file-secret"\n',
    )
    from_file = load(tmp_path)
    assert from_file.credentials.client_id == "file-app"
    assert from_file.credentials.client_secret.reveal() == "file-secret"
    assert from_file.sources["client_id"] == f"config file {path}"
    assert from_file.sources["client_secret"] == f"config file {path}"
    assert from_file.environment.name == "production"

    from_environ = load(tmp_path, CREDENTIALS_ENV)
    assert from_environ.credentials.client_id == "my-app"
    assert from_environ.credentials.client_secret.reveal() == SENTINEL
    assert from_environ.sources["client_id"] == "CASEWATCH_CLIENT_ID"
    assert from_environ.sources["client_secret"] == "CASEWATCH_CLIENT_SECRET"


def test_blank_environment_variables_are_ignored(tmp_path: Path) -> None:
    path = write_config(tmp_path / "config.toml", 'env = "demo"\n')
    settings = load(tmp_path, {"CASEWATCH_ENV": "  ", "CASEWATCH_CLIENT_ID": ""})
    assert settings.environment.name == "demo"
    assert settings.sources["env"] == f"config file {path}"


def test_unknown_environment_is_refused(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"CASEWATCH_ENV": "staging"})
    assert "staging" in message
    assert "CASEWATCH_ENV" in message
    for name in ("demo", "sandbox", "production"):
        assert name in message


# --- overrides ---------------------------------------------------------------------------


def test_command_line_overrides_the_preset(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        CREDENTIALS_ENV,
        environment="sandbox",
        base_url="http://127.0.0.1:8765/",
        tps=2.5,
        daily_quota=50,
        refresh_minutes=5,
    )
    environment = settings.environment
    assert environment.name == "sandbox"
    assert environment.host_url == "http://127.0.0.1:8765"
    assert environment.tps == 2.5
    assert environment.daily_quota == 50
    assert settings.refresh_minutes == 5.0
    for key in ("env", "base_url", "tps", "daily_quota", "refresh_minutes"):
        assert settings.sources[key] == "command line", key


def test_config_file_overrides_the_preset(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "config.toml",
        'env = "production"\nbase_url = "https://proxy.example.org"\n'
        "tps = 3\ndaily_quota = 400\nrefresh_minutes = 15.5\n"
        f'watchlist = "{tmp_path / "mine.toml"}"\n',
    )
    settings = load(tmp_path, CREDENTIALS_ENV)
    environment = settings.environment
    assert environment.name == "production"
    assert environment.host_url == "https://proxy.example.org"
    assert environment.tps == 3.0
    assert isinstance(environment.tps, float)
    assert environment.daily_quota == 400
    assert settings.refresh_minutes == 15.5
    assert settings.watchlist_path == tmp_path / "mine.toml"
    for key in ("env", "base_url", "tps", "daily_quota", "refresh_minutes", "watchlist"):
        assert settings.sources[key] == f"config file {path}", key


def test_command_line_overrides_the_config_file(tmp_path: Path) -> None:
    write_config(tmp_path / "config.toml", "tps = 3\ndaily_quota = 400\n")
    settings = load(tmp_path, CREDENTIALS_ENV, tps=7.0, daily_quota=9)
    assert settings.environment.tps == 7.0
    assert settings.environment.daily_quota == 9
    assert settings.sources["tps"] == "command line"
    assert settings.sources["daily_quota"] == "command line"


def test_base_url_turns_the_demo_into_a_network_client(tmp_path: Path) -> None:
    settings = load(tmp_path, environment="demo", base_url="http://localhost:8765")
    assert settings.environment.name == "demo"
    assert settings.environment.in_process is False
    assert settings.environment.host_url == "http://localhost:8765"
    assert settings.sources["base_url"] == "command line"
    # The demo keeps the built-in sandbox's credentials: what `casewatch sandbox` accepts.
    assert settings.credentials.client_id == "casewatch-demo"


def test_watchlist_option_is_expanded(tmp_path: Path) -> None:
    settings = load(tmp_path, watchlist=Path("~/cases.toml"))
    assert settings.watchlist_path == Path("~/cases.toml").expanduser()
    assert settings.sources["watchlist"] == "command line"


@pytest.mark.parametrize(
    ("option", "value"),
    [("tps", 0.0), ("tps", -1.0), ("daily_quota", 0), ("refresh_minutes", 0.0)],
)
def test_non_positive_command_line_values_are_refused(
    tmp_path: Path, option: str, value: float
) -> None:
    message = config_error(tmp_path, None, **{option: value})
    assert option in message
    assert "command line" in message


# --- base URL checks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8765",
        "http://localhost:1",
        "http://[::1]:8765",
        "https://api.uscis.gov",
        "https://api-int.uscis.gov",
    ],
)
def test_accepted_base_urls(url: str) -> None:
    assert check_base_url(url) == url


def test_trailing_slash_is_stripped() -> None:
    assert check_base_url("https://api.uscis.gov/") == "https://api.uscis.gov"
    assert check_base_url("http://127.0.0.1:8765/") == "http://127.0.0.1:8765"


def test_plain_http_to_a_remote_host_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        check_base_url("http://example.com")
    assert "https" in str(caught.value)
    assert "example.com" in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://x",
        "not a url",
        "",
        "https://api.uscis.gov/case-status",
        "https://api.uscis.gov/oauth/accesstoken",
        "https://api.uscis.gov?x=1",
        "http://127.0.0.1.nip.io",
    ],
)
def test_refused_base_urls(url: str) -> None:
    with pytest.raises(ConfigError):
        check_base_url(url)


def test_base_url_with_a_fragment_is_refused() -> None:
    with pytest.raises(ConfigError):
        check_base_url("https://api.uscis.gov#x")


def test_a_bad_base_url_from_the_config_file_is_refused(tmp_path: Path) -> None:
    write_config(tmp_path / "config.toml", 'base_url = "http://example.com"\n')
    message = config_error(tmp_path, CREDENTIALS_ENV)
    assert "https" in message


# --- credentials -------------------------------------------------------------------------


def test_credentials_from_a_private_config_file(tmp_path: Path) -> None:
    path = write_config(
        tmp_path / "config.toml",
        f'env = "sandbox"\n[credentials]\nclient_id = "file-app"\nclient_secret = "{SENTINEL}"\n',
        0o600,
    )
    settings = load(tmp_path)
    assert settings.environment.name == "sandbox"
    assert settings.credentials.client_id == "file-app"
    assert settings.credentials.client_secret.reveal() == SENTINEL
    assert settings.sources["client_secret"] == f"config file {path}"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_readable_config_file_with_a_secret_is_refused_and_left_alone(
    tmp_path: Path, mode: int
) -> None:
    path = write_config(
        tmp_path / "config.toml",
        f'[credentials]\nclient_id = "file-app"\nclient_secret = "{SENTINEL}"\n',
        mode,
    )
    before = path.read_bytes()
    message = config_error(tmp_path)
    assert "chmod 600" in message
    assert str(path) in message
    assert SENTINEL not in message
    assert path.read_bytes() == before
    assert stat.S_IMODE(path.stat().st_mode) == mode
    with pytest.raises(ConfigError):
        read_config_file(path)


def test_a_config_file_without_a_secret_may_be_world_readable(tmp_path: Path) -> None:
    write_config(tmp_path / "config.toml", 'env = "demo"\ntps = 2\n', 0o644)
    settings = load(tmp_path)
    assert settings.environment.name == "demo"
    assert settings.environment.tps == 2.0


@pytest.mark.parametrize("environment", ["sandbox", "production"])
def test_missing_credentials_are_refused_outside_the_demo(tmp_path: Path, environment: str) -> None:
    message = config_error(tmp_path, environment=environment)
    assert "CASEWATCH_CLIENT_ID" in message
    assert "CASEWATCH_CLIENT_SECRET" in message
    assert environment in message


def test_a_client_id_without_a_secret_is_refused_outside_the_demo(tmp_path: Path) -> None:
    message = config_error(tmp_path, {"CASEWATCH_CLIENT_ID": "my-app"}, environment="sandbox")
    assert "CASEWATCH_CLIENT_SECRET" in message


def test_a_missing_config_file_is_no_error(tmp_path: Path) -> None:
    assert read_config_file(tmp_path / "nowhere" / "config.toml") == {}


def test_the_demo_keeps_its_own_credentials_when_uscis_credentials_are_set(
    tmp_path: Path,
) -> None:
    settings = load(tmp_path, CREDENTIALS_ENV, environment="demo")
    assert settings.credentials.client_id == "casewatch-demo"


def test_a_client_id_alone_does_not_break_the_demo(tmp_path: Path) -> None:
    try:
        settings = load(tmp_path, {"CASEWATCH_CLIENT_ID": "my-app"})
    except ConfigError as exc:
        assert "CASEWATCH_CLIENT_SECRET" in str(exc)
        return
    assert settings.credentials.client_id == "casewatch-demo"
    assert "credentials configured" not in settings.sources["env"]


# --- bad config files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('env = "sandbox"\ntps = \n', ["line", "TOML"]),
        ('env = "demo"\ncolour = "blue"\n', ["colour", "env", "base_url", "tps", "credentials"]),
        ('tps = "fast"\n', ["tps", "fast"]),
        ("daily_quota = 1.5\n", ["daily_quota"]),
        ('refresh_minutes = "soon"\n', ["refresh_minutes"]),
        ("env = 3\n", ["env"]),
        ("tps = 0\n", ["tps", "0"]),
        ("tps = -2.5\n", ["tps"]),
        ("tps = true\n", ["tps"]),
        ("daily_quota = -1\n", ["daily_quota", "-1"]),
        ("daily_quota = 0\n", ["daily_quota"]),
        ("refresh_minutes = 0\n", ["refresh_minutes"]),
        ('credentials = "x"\n', ["credentials"]),
        ('[credentials]\nclient_id = "a"\nuser = "b"\n', ["client_id", "client_secret", "user"]),
        ("[credentials]\nclient_id = 7\n", ["client_id"]),
    ],
)
def test_bad_config_files_are_refused_and_left_unchanged(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    path = write_config(folder / "config.toml", text)
    before = path.read_bytes()
    message = config_error(tmp_path, config_path=path)
    assert str(path) in message
    for word in expected:
        assert word in message, (word, message)
    assert path.read_bytes() == before
    assert [entry.name for entry in folder.iterdir()] == ["config.toml"]


def test_invalid_toml_message_gives_the_line(tmp_path: Path) -> None:
    write_config(tmp_path / "config.toml", 'env = "demo"\n\nbase_url = https://x\n')
    message = config_error(tmp_path)
    assert "line 3" in message


def test_casewatch_config_variable_names_the_file(tmp_path: Path) -> None:
    path = write_config(tmp_path / "elsewhere.toml", "tps = 4\n")
    settings = load_settings(environ={"CASEWATCH_CONFIG": str(path)})
    assert settings.config_path == path
    assert settings.environment.tps == 4.0


def test_config_path_beats_casewatch_config(tmp_path: Path) -> None:
    ignored = write_config(tmp_path / "ignored.toml", "tps = oops\n")
    chosen = write_config(tmp_path / "chosen.toml", "tps = 4\n")
    settings = load_settings(environ={"CASEWATCH_CONFIG": str(ignored)}, config_path=chosen)
    assert settings.environment.tps == 4.0


def test_default_config_file_is_in_the_user_config_directory(tmp_path: Path) -> None:
    config_dir = tmp_path / "xdg_config_home" / "casewatch"
    config_dir.mkdir(parents=True)
    write_config(config_dir / "config.toml", "daily_quota = 77\n")
    settings = load_settings(environ={})
    assert settings.config_path == config_dir / "config.toml"
    assert settings.environment.daily_quota == 77


# --- limits_path -------------------------------------------------------------------------


def test_limits_path_is_shared_by_the_same_host_and_client_id(tmp_path: Path) -> None:
    environ = {"CASEWATCH_CLIENT_ID": "app-1", "CASEWATCH_CLIENT_SECRET": "one"}
    first = load(tmp_path, environ, environment="sandbox")
    second = load(
        tmp_path,
        {"CASEWATCH_CLIENT_ID": "app-1", "CASEWATCH_CLIENT_SECRET": "another"},
        environment="sandbox",
        tps=1.0,
    )
    assert first.limits_path == second.limits_path
    assert first.limits_path.parent == first.state_dir


def test_limits_path_differs_by_client_id_and_environment(tmp_path: Path) -> None:
    base = load(tmp_path, {"CASEWATCH_CLIENT_ID": "app-1", "CASEWATCH_CLIENT_SECRET": "s"})
    other_id = load(tmp_path, {"CASEWATCH_CLIENT_ID": "app-2", "CASEWATCH_CLIENT_SECRET": "s"})
    other_env = load(
        tmp_path,
        {"CASEWATCH_CLIENT_ID": "app-1", "CASEWATCH_CLIENT_SECRET": "s"},
        environment="sandbox",
    )
    other_host = load(
        tmp_path,
        {"CASEWATCH_CLIENT_ID": "app-1", "CASEWATCH_CLIENT_SECRET": "s"},
        base_url="https://proxy.example.org",
    )
    paths = {base.limits_path, other_id.limits_path, other_env.limits_path, other_host.limits_path}
    assert len(paths) == 4
    assert "app-1" not in str(base.limits_path)


def test_limits_and_traffic_paths_are_in_the_state_directory(tmp_path: Path) -> None:
    settings = load(tmp_path)
    state_home = tmp_path / "xdg_state_home"
    assert settings.limits_path.is_relative_to(state_home)
    assert settings.traffic_log_path.is_relative_to(state_home)
    assert settings.limits_path != settings.traffic_log_path


# --- describe_settings and secrecy -------------------------------------------------------


def test_the_timezone_is_us_eastern_unless_the_config_file_or_a_variable_names_another(
    tmp_path: Path,
) -> None:
    default = load(tmp_path)
    assert default.timezone.key == "America/New_York"
    assert default.sources["timezone"] == "default"
    path = write_config(tmp_path / "config.toml", 'timezone = "Europe/Madrid"\n')
    from_file = load(tmp_path)
    assert from_file.timezone.key == "Europe/Madrid"
    assert from_file.sources["timezone"] == f"config file {path}"
    from_variable = load(tmp_path, {"CASEWATCH_TIMEZONE": "America/Los_Angeles"})
    assert from_variable.timezone.key == "America/Los_Angeles"


@pytest.mark.parametrize("name", ["Madrid", "utc", "", "../../etc/passwd", "zone.tab"])
def test_a_timezone_the_database_does_not_know_is_refused_naming_it_and_an_example(
    tmp_path: Path, name: str
) -> None:
    path = write_config(tmp_path / "config.toml", f"timezone = {name!r}\n")
    message = config_error(tmp_path)
    assert f"timezone {name!r} is not a time zone" in message
    assert '"America/New_York"' in message and "Europe/Madrid" in message  # examples
    assert str(path) in message  # where the bad value came from


def test_describe_settings_shows_every_setting_and_its_source(tmp_path: Path) -> None:
    path = write_config(tmp_path / "config.toml", "refresh_minutes = 30\n")
    settings = load(
        tmp_path, {**CREDENTIALS_ENV, "CASEWATCH_ENV": "sandbox"}, tps=2.0, daily_quota=20
    )
    text = describe_settings(settings)
    lines = {line.split("  ")[0]: line for line in text.splitlines()}
    expected = {
        "environment": ["sandbox", "[CASEWATCH_ENV]"],
        "base URL": ["https://api-int.uscis.gov", "[preset sandbox]"],
        "rate limit": ["2 requests per second", "[command line]"],
        "daily quota": ["20 requests", "[command line]"],
        "client id": ["my-app", "[CASEWATCH_CLIENT_ID]"],
        "client secret": [f"({len(SENTINEL)} characters)", "[CASEWATCH_CLIENT_SECRET]"],
        "watchlist": ["watchlist-sandbox.toml", "[default]"],
        "refresh every": ["30 minutes", f"[config file {path}]"],
        "on_change": ["(none)"],
        "notify_urls": ["(none)"],
        "request for evidence": ["response due ≈ 87 days after it", "[default]"],
        "notice of intent": ["response due ≈ 33 days after it", "[default]"],
        "continuation notice": ["response due ≈ 33 days after it", "[default]"],
        "quiet after": ["180 days without a change from USCIS", "[default]"],
        "timezone": ["times shown in America/New_York", "[default]"],
        "request ledger": [str(settings.limits_path)],
        "config file": [str(path), "(found)"],
    }
    assert set(lines) == set(expected)
    for name, words in expected.items():
        for word in words:
            assert word in lines[name], (name, word, lines[name])
    assert SENTINEL not in text


def test_describe_settings_of_the_demo(tmp_path: Path) -> None:
    text = describe_settings(load(tmp_path))
    assert "demo" in text
    assert "built-in sandbox, in-process" in text
    assert "150,000 requests per US Eastern day" in text
    assert "[preset demo]" in text
    assert "(not found)" in text
    assert "casewatch-demo-secret" not in text


def test_the_secret_never_shows_in_reprs(tmp_path: Path) -> None:
    settings = load(tmp_path, CREDENTIALS_ENV)
    credentials = settings.credentials
    for text in (
        repr(settings),
        str(settings),
        repr(credentials),
        str(credentials),
        repr(credentials.client_secret),
        str(credentials.client_secret),
        f"{credentials.client_secret}",
        describe_settings(settings),
    ):
        assert SENTINEL not in text
    assert "my-app" in repr(credentials)


@pytest.mark.parametrize(
    ("environ", "text", "mode", "options"),
    [
        ({}, f'[credentials]\nclient_id = "a"\nclient_secret = "{SENTINEL}"\n', 0o644, {}),
        ({}, f'[credentials]\nclient_secret = "{SENTINEL}"\ntps = 1\n', 0o600, {}),
        ({}, f'tps = 0\n[credentials]\nclient_id = "a"\nclient_secret = "{SENTINEL}"\n', 0o600, {}),
        (
            {},
            f'[credentials]\nclient_id = "a"\nclient_secret = "{SENTINEL}"\n',
            0o600,
            {"environment": "production", "base_url": "http://example.com"},
        ),
        (
            {"CASEWATCH_CLIENT_SECRET": SENTINEL},
            "",
            0o600,
            {"environment": "sandbox"},
        ),
        (
            {"CASEWATCH_CLIENT_SECRET": SENTINEL, "CASEWATCH_ENV": "nowhere"},
            "",
            0o600,
            {},
        ),
        (
            CREDENTIALS_ENV,
            'colour = "blue"\n',
            0o600,
            {},
        ),
        (
            CREDENTIALS_ENV,
            "",
            0o600,
            {"refresh_minutes": -1.0},
        ),
        (
            {},
            f'[credentials]\nclient_secret = "{SENTINEL}"\nuser = "x"\n',
            0o600,
            {},
        ),
    ],
)
def test_the_secret_never_shows_in_config_errors(
    tmp_path: Path,
    environ: dict[str, str],
    text: str,
    mode: int,
    options: dict[str, object],
) -> None:
    write_config(tmp_path / "config.toml", text, mode)
    message = config_error(tmp_path, environ, **options)
    assert SENTINEL not in message
    assert SENTINEL[:8] not in message


@pytest.mark.parametrize(
    "text",
    [
        f'[credentials]\nclient_secert = "{SHORT_SENTINEL}"\n',
        f'[credentials]\nclient_secert = "{SENTINEL}"\n',
        f'[credentials]\nsecret = "{SENTINEL}"\n',
    ],
)
def test_a_misspelled_credentials_key_does_not_leak_its_value(tmp_path: Path, text: str) -> None:
    path = write_config(tmp_path / "config.toml", text)
    before = path.read_bytes()
    message = config_error(tmp_path)
    assert path.read_bytes() == before
    assert SHORT_SENTINEL not in message


def test_a_non_text_secret_is_not_echoed(tmp_path: Path) -> None:
    write_config(tmp_path / "config.toml", "[credentials]\nclient_secret = 31415926\n")
    message = config_error(tmp_path)
    assert "client_secret" in message
    assert "31415926" not in message


def test_every_setting_has_its_casewatch_variable(tmp_path: Path) -> None:
    settings = load_settings(
        config_path=tmp_path / "none.toml",
        environ={
            "CASEWATCH_TPS": "3",
            "CASEWATCH_DAILY_QUOTA": "900",
            "CASEWATCH_REFRESH_MINUTES": "5",
            "CASEWATCH_BASE_URL": "http://127.0.0.1:8790",
            "CASEWATCH_WATCHLIST": str(tmp_path / "w.toml"),
        },
    )
    assert settings.environment.tps == 3.0
    assert settings.environment.daily_quota == 900
    assert settings.refresh_minutes == 5.0
    assert settings.environment.host_url == "http://127.0.0.1:8790"
    assert settings.watchlist_path == tmp_path / "w.toml"
    assert settings.sources["tps"] == "CASEWATCH_TPS"
    with pytest.raises(ConfigError, match="CASEWATCH_TPS='fast' is not a number"):
        load_settings(config_path=tmp_path / "none.toml", environ={"CASEWATCH_TPS": "fast"})


def test_another_server_gets_its_own_watchlist(tmp_path: Path) -> None:
    built_in = load_settings(config_path=tmp_path / "none.toml", environ={})
    loopback = load_settings(
        config_path=tmp_path / "none.toml", environ={}, base_url="http://127.0.0.1:8790"
    )
    assert built_in.watchlist_path.name == "watchlist-demo.toml"
    assert loopback.watchlist_path.name == "watchlist-demo-127.0.0.1-8790.toml"
