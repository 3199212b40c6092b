"""``casewatch config``: the effective settings of a run, each with where it came from
(:attr:`casewatch.config.Settings.sources`)."""

from __future__ import annotations

from casewatch.config import RESPONSE_DAYS_SETTINGS, Settings
from casewatch.deadlines import NoticeKind


def short_client_id(client_id: str) -> str:
    """``client_id`` shortened to show which one it is without giving it whole: its first
    four and last two characters (``abcd…yz``); a short one keeps only its first two."""
    if len(client_id) > 8:
        return f"{client_id[:4]}…{client_id[-2:]}"
    return f"{client_id[:2]}…" if client_id else "(none)"


def describe_settings(settings: Settings, *, to_share: bool = False) -> str:
    """The effective settings, one per line, each with where it came from; the client
    secret masked: only its length is shown. ``to_share`` (``casewatch diagnose``, pasted
    into a bug report): the client id shortened (:func:`short_client_id`) and of the
    secret only whether it is set, not even its length."""
    secret = settings.credentials.client_secret.reveal()
    if to_share:
        masked = "set (never shown)" if secret else "not set"
        client_id = short_client_id(settings.credentials.client_id)
    else:
        masked = f"******** ({len(secret)} characters)"
        client_id = settings.credentials.client_id
    environment = settings.environment
    source = settings.sources.get
    config = settings.config_path
    days = settings.response_days
    rows = [
        ("environment", environment.name, source("env", "")),
        (
            "base URL",
            "built-in sandbox, in-process" if environment.in_process else environment.host_url,
            source("base_url", ""),
        ),
        ("rate limit", f"{environment.tps:g} requests per second", source("tps", "")),
        (
            "daily quota",
            f"{environment.daily_quota:,} requests per US Eastern day",
            source("daily_quota", ""),
        ),
        ("client id", client_id, source("client_id", "")),
        ("client secret", masked, source("client_secret", "")),
        ("watchlist", str(settings.watchlist_path), source("watchlist", "")),
        ("refresh every", f"{settings.refresh_minutes:g} minutes", source("refresh_minutes", "")),
        (
            "on_change",
            " ".join(settings.on_change) or "(none)",
            "config file" if settings.on_change else "",
        ),
        (
            "notify_urls",
            f"{len(settings.notify_urls)} Apprise URL(s)" if settings.notify_urls else "(none)",
            "config file" if settings.notify_urls else "",
        ),
        *(
            (kind.value, f"response due ≈ {days.of(kind)} days after it", source(key, ""))
            for kind, key in zip(NoticeKind, RESPONSE_DAYS_SETTINGS, strict=True)
        ),
        (
            "quiet after",
            f"{settings.quiet_days} days without a change from USCIS",
            source("quiet_days", ""),
        ),
        ("request ledger", settings.ledger_where, source("limits_url", "state directory")),
        (
            "config file",
            f"{config} ({'found' if config and config.exists() else 'not found'})",
            "",
        ),
    ]
    width = max(len(name) for name, _, _ in rows)
    return "\n".join(
        f"{name:<{width}}  {value}" + (f"  [{where}]" if where else "")
        for name, value, where in rows
    )
