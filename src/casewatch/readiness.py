"""``casewatch readiness``: the portal's production-access checklist, filled from the
local log of USCIS sandbox traffic (``uscis-api.md``, "Production access")."""

from __future__ import annotations

from casewatch.config import Settings
from casewatch.uscis.traffic import TrafficLog

CONSECUTIVE_DAYS_NEEDED = 5
"""Calendar days in a row of sandbox traffic the portal asks for."""


def readiness_report(settings: Settings) -> str:
    """The checklist as text: each item ``[x]`` done, ``[ ]`` not yet, ``[?]`` not
    visible from here, with the figures behind it. Reads the traffic log of
    :attr:`Settings.traffic_log_path`; never raises for a missing or damaged log."""
    summary = TrafficLog(settings.traffic_log_path).summary()
    days = len(summary.days)
    successes = summary.count(lambda status: status == 200)
    client_errors = summary.count(lambda status: 400 <= status < 500)
    run = summary.longest_run()
    run_days = (run[1] - run[0]).days + 1 if run else 0
    run_text = f"{run_days} ({run[0]} to {run[1]}, US Eastern)" if run else "0"

    def item(done: bool | None, text: str) -> str:
        return f"[{'?' if done is None else 'x' if done else ' '}] {text}"

    on_sandbox = settings.environment.name == "sandbox"
    lines = [
        "Production access checklist (USCIS developer portal)",
        f"sandbox traffic log: {settings.traffic_log_path}",
        "",
        item(None, "a registered developer account: check on developer.uscis.gov"),
        item(
            on_sandbox or None,
            "a registered sandbox app for the Case Status API"
            + (
                f": credentials configured (client id {settings.credentials.client_id})"
                if on_sandbox
                else ": run with --env sandbox and its credentials to check"
            ),
        ),
        item(days > 0, f"a solution tested in the sandbox: {days} day(s) with sandbox traffic"),
        item(
            run_days >= CONSECUTIVE_DAYS_NEEDED,
            f"at least {CONSECUTIVE_DAYS_NEEDED} consecutive calendar days of sandbox traffic: "
            f"longest run {run_text}",
        ),
        item(successes > 0, f"success (200) responses exercised: {successes} seen"),
        item(
            client_errors > 0,
            f"client-error (4xx) responses exercised: {client_errors} seen"
            + (
                ""
                if client_errors
                else " (a well-formed receipt number the sandbox does not know answers 404)"
            ),
        ),
    ]
    return "\n".join(lines)
