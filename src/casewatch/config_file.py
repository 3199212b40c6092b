"""Reading ``config.toml`` and the checks it must pass before any setting in it is
used: known keys of the right type, an ``on_change`` command as a list, a client secret
only in a private file, and a file no other user owns or can change
(:func:`casewatch.files.check_trusted`). :class:`ConfigError` is the error of any
setting that cannot be used, from the file, a ``CASEWATCH_*`` variable or the command
line (:func:`casewatch.config.load_settings`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from casewatch.files import TomlFileError, read_toml


class ConfigError(ValueError):
    """A setting that cannot be used; the message says which and how to fix it."""


FILE_KEYS: dict[str, type | tuple[type, ...]] = {
    "env": str,
    "base_url": str,
    "tps": (int, float),
    "daily_quota": int,
    "refresh_minutes": (int, float),
    "watchlist": str,
    "on_change": list,
    "notify_urls": list,
    "keys": dict,
    "request_for_evidence_days": int,
    "notice_of_intent_days": int,
    "continuation_notice_days": int,
    "quiet_days": int,
    "limits_url": str,
}
"""The top-level settings ``config.toml`` takes and the type of each (a ``CASEWATCH_*``
variable gives the same setting as text)."""

CREDENTIAL_KEYS = ("client_id", "client_secret")
"""The settings of the ``[credentials]`` table, both text."""


def read_config_file(path: Path) -> dict[str, Any]:
    """The settings in ``config.toml``; a missing file gives ``{}``.

    Top-level keys: ``env``, ``base_url``, ``tps``, ``daily_quota``, ``refresh_minutes``,
    ``watchlist``, ``on_change`` (a command as a list), ``notify_urls`` (Apprise URLs),
    ``request_for_evidence_days``, ``notice_of_intent_days``,
    ``continuation_notice_days`` and ``quiet_days`` (whole days); a
    ``[credentials]`` table with ``client_id`` and ``client_secret``; a ``[keys]`` table
    of dashboard binding ids and keys (the ids are checked by the dashboard).
    Raises :class:`ConfigError` for a file that does not parse (with line and column),
    an unknown key, a value of the wrong type, a client secret in a file that group or
    others can read (the message gives the ``chmod 600`` fix), and whatever it holds, a
    file that another user owns or can change, as OpenSSH's StrictModes refuses one
    (:func:`casewatch.files.check_trusted`: its ``on_change`` would run as the user; the
    message gives the ``chown``/``chmod`` fix). Never writes the file.
    """
    try:
        data = read_toml(path, "the config file", trusted=True) or {}
    except TomlFileError as exc:
        raise ConfigError(str(exc)) from None
    known = [*FILE_KEYS, "credentials"]
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"{path}: unknown setting {key!r}; known: {', '.join(known)}")
        if key in FILE_KEYS and not isinstance(value, FILE_KEYS[key]):
            raise ConfigError(f"{path}: {key} = {value!r} has the wrong type")
    on_change = data.get("on_change", [])
    if not all(isinstance(part, str) and part for part in on_change) or (
        "on_change" in data and not on_change
    ):
        raise ConfigError(
            f"{path}: on_change must be a command as a list of text, program first, "
            'such as on_change = ["notify-send", "casewatch"] (it runs without a shell)'
        )
    if not all(isinstance(url, str) and "://" in url for url in data.get("notify_urls", [])):
        raise ConfigError(
            f"{path}: notify_urls must be a list of Apprise URLs, such as "
            'notify_urls = ["ntfy://my-topic"]'
        )
    if not all(isinstance(keys, str) and keys.strip() for keys in data.get("keys", {}).values()):
        raise ConfigError(
            f'{path}: [keys] maps a binding id to keys as text, such as refresh = "f5" '
            'or quit = "q,ctrl+q" (the ids are listed by ? in the dashboard)'
        )
    credentials = data.get("credentials", {})
    if not isinstance(credentials, dict):
        raise ConfigError(f"{path}: credentials must be a table: [credentials]")
    for key, value in credentials.items():
        if key not in CREDENTIAL_KEYS or not isinstance(value, str):
            raise ConfigError(
                f"{path}: [credentials] takes client_id and client_secret, both as text; "
                f"check {key!r}"
            )
    if credentials.get("client_secret") and path.stat().st_mode & 0o077:
        raise ConfigError(
            f"{path} holds the client secret and other users can read it; "
            f"make it private with: chmod 600 {path}"
        )
    return data
