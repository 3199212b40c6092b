"""What runs for each change of a case: the ``on_change`` command a user names in
``config.toml`` (the event as JSON on its standard input), and the optional Apprise
notification URLs (``notify_urls``, with the ``casewatch[notify]`` extra).

It runs without a shell (the command is a list: program, then arguments), so nothing in
a status text can be taken for a shell command. A failing or hanging command is
reported, never fatal: the refresher goes on.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from typing import Any

from casewatch.cases import strip_html
from casewatch.watchlist import ChangeEvent, WatchedCase

HOOK_TIMEOUT_S = 30.0
"""Seconds an ``on_change`` command may run before it is stopped and reported."""


class HookError(RuntimeError):
    """The ``on_change`` command could not run, failed, or took too long."""


def event_to_json(case: WatchedCase, event: ChangeEvent) -> dict[str, Any]:
    """The change as a JSON-ready object (ISO 8601 dates, US Eastern)."""
    status = case.status
    return {
        "receipt_number": case.receipt_number.value,
        "label": case.label,
        "form_type": status.form_type if status else "",
        "previous_status": event.previous_title,
        "status": event.title,
        "stage": status.stage.value if status else "",
        "description": strip_html(status.description_en) if status else "",
        "changed": list(event.fields),
        "changed_at": event.changed_at.isoformat() if event.changed_at else None,
        "seen_at": event.seen_at.isoformat(),
    }


SECRET_VARIABLES = ("CASEWATCH_CLIENT_SECRET",)
"""Variables of casewatch's environment that the ``on_change`` command does not inherit."""


async def run_on_change(command: Sequence[str], case: WatchedCase, event: ChangeEvent) -> None:
    """Run ``command`` (program and arguments, no shell) with the event as one line of
    JSON on stdin, in casewatch's environment without :data:`SECRET_VARIABLES` (what the
    command prints on failure is shown and logged: it must not be able to show the
    client secret).

    Raises :class:`HookError` naming the program when it cannot start, exits with a
    status other than 0 (with the end of its error output), or runs longer than
    :data:`HOOK_TIMEOUT_S` seconds (it is then killed).
    """
    payload = (json.dumps(event_to_json(case, event), ensure_ascii=False) + "\n").encode()
    try:
        process = await asyncio.create_subprocess_exec(
            *command,
            env={name: value for name, value in os.environ.items() if name not in SECRET_VARIABLES},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise HookError(f"the on_change command {command[0]!r} cannot run: {exc}") from None
    try:
        _, errors = await asyncio.wait_for(process.communicate(payload), HOOK_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise HookError(
            f"the on_change command {command[0]!r} took more than {HOOK_TIMEOUT_S:g} s "
            "and was stopped"
        ) from None
    if process.returncode != 0:
        tail = errors.decode("utf-8", "replace").strip()[-200:]
        raise HookError(
            f"the on_change command {command[0]!r} exited with status {process.returncode}"
            + (f": {tail}" if tail else "")
        )


def change_message(case: WatchedCase, event: ChangeEvent) -> tuple[str, str]:
    """A notification's title and body for a change."""
    label = f" ({case.label})" if case.label else ""
    before = f"{event.previous_title} → " if event.previous_title != event.title else ""
    return f"{case.receipt_number}{label} changed", f"{before}{event.title}"


async def send_notifications(urls: Sequence[str], case: WatchedCase, event: ChangeEvent) -> None:
    """Send the change to Apprise notification ``urls`` (Telegram, ntfy, email, …).

    Raises :class:`HookError` when Apprise is not installed (``pip install
    'casewatch[notify]'``), a URL is not one Apprise knows, or a service refused it.
    """
    try:
        import apprise
    except ImportError:
        raise HookError("notify_urls needs Apprise: pip install 'casewatch[notify]'") from None
    sender = apprise.Apprise()
    for url in urls:
        if not sender.add(url):
            scheme = url.split("://", 1)[0]  # never the rest: it may hold a token
            raise HookError(f"Apprise does not know notification URLs of the kind {scheme}://")
    title, body = change_message(case, event)
    if not await asyncio.to_thread(sender.notify, title=title, body=body):
        raise HookError("a notification service did not accept the change notice")


async def announce_change(
    on_change: Sequence[str], notify_urls: Sequence[str], case: WatchedCase, event: ChangeEvent
) -> list[str]:
    """Run the ``on_change`` command and send the notifications for a change (each only
    when configured); returns what went wrong, as messages for the user. Never raises."""
    problems: list[str] = []
    if on_change:
        try:
            await run_on_change(on_change, case, event)
        except HookError as exc:
            problems.append(str(exc))
    if notify_urls:
        try:
            await send_notifications(notify_urls, case, event)
        except HookError as exc:
            problems.append(str(exc))
    return problems
