"""``casewatch config``: the effective settings of a run, each with where it came from
(:attr:`casewatch.config.Settings.sources`)."""

from __future__ import annotations

from casewatch.config import RESPONSE_DAYS_SETTINGS, Settings
from casewatch.deadlines import NoticeKind


def describe_settings(settings: Settings) -> str:
    """The effective settings, one per line, each with where it came from; the client
    secret masked: only its length is shown."""
    masked = f"******** ({len(settings.credentials.client_secret.reveal())} characters)"
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
        ("client id", settings.credentials.client_id, source("client_id", "")),
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
        ("timezone", f"times shown in {settings.timezone.key}", source("timezone", "")),
        ("request ledger", str(settings.limits_path), "state directory"),
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
