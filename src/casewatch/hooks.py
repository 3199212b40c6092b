"""What runs for each change of a case: the ``on_change`` command a user names in
``config.toml`` (the event as JSON on its standard input), and the optional Apprise
notification URLs (``notify_urls``, with the ``casewatch[notify]`` extra).

It runs without a shell (the command is a list: program, then arguments), so nothing in
a status text can be taken for a shell command. A failing or hanging command is
reported, never fatal: the refresher goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
from collections.abc import Sequence
from typing import Any

from casewatch.cases import US_EASTERN, one_line, strip_html
from casewatch.deadlines import ResponseDays, response_due
from casewatch.watchlist import ChangeEvent, WatchedCase

HOOK_TIMEOUT_S = 30.0
"""Seconds an ``on_change`` command may run before it is stopped and reported."""

HOOK_DRAIN_S = 1.0
"""Seconds casewatch waits, after an ``on_change`` command ended, for the rest of its
error output (a process that left its process group may hold the pipe open)."""

HOOK_ERROR_CHARS = 200
"""Characters of a failed ``on_change`` command's error output that its report shows
(the end: where the error usually is)."""

HOOK_STDERR_TAIL_BYTES = 4096
"""Bytes of an ``on_change`` command's error output kept in memory: more than its last
:data:`HOOK_ERROR_CHARS` characters in any UTF-8."""


class HookError(RuntimeError):
    """The ``on_change`` command could not run, failed, or took too long."""


def event_to_json(
    case: WatchedCase, event: ChangeEvent, days: ResponseDays | None = None
) -> dict[str, Any]:
    """The change as a JSON-ready object (ISO 8601 dates, US Eastern): the case's
    receipt number, label, form type, stage and description with :func:`change_to_json`,
    and ``response_due``: when the status asks for an answer, its deadline
    (:meth:`casewatch.deadlines.ResponseDue.to_json`, days counted from the day the
    change was seen; ``days`` as :func:`casewatch.deadlines.response_due` takes them),
    else null."""
    status = case.status
    due = response_due(case, days)
    seen_day = event.seen_at.astimezone(US_EASTERN).date()
    return {
        "receipt_number": case.receipt_number.value,
        "label": case.label,
        "form_type": status.form_type if status else "",
        **change_to_json(event),
        "stage": status.stage.value if status else "",
        "description": strip_html(status.description_en) if status else "",
        "response_due": due.to_json(seen_day) if due else None,
    }


def change_to_json(event: ChangeEvent) -> dict[str, Any]:
    """``event`` alone as a JSON-ready object: ``previous_status`` and ``status`` (the
    titles), ``changed`` (what changed: title, description, history), ``changed_at`` (when
    USCIS made it, ISO 8601 US Eastern, or null) and ``seen_at`` (when casewatch saw it)."""
    return {
        "previous_status": event.previous_title,
        "status": event.title,
        "changed": list(event.fields),
        "changed_at": event.changed_at.isoformat() if event.changed_at else None,
        "seen_at": event.seen_at.isoformat(),
    }


SECRET_VARIABLES = ("CASEWATCH_CLIENT_SECRET",)
"""Variables of casewatch's environment that the ``on_change`` command does not inherit."""


class _HookProtocol(asyncio.SubprocessProtocol):
    """What casewatch keeps of a running ``on_change`` command: the last
    :data:`HOOK_STDERR_TAIL_BYTES` bytes of its error output (however much it writes),
    when it exited, and when all its pipes closed."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.tail = bytearray()
        self.exited: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()

    def pipe_data_received(self, fd: int, data: bytes | bytearray) -> None:
        self.tail += data
        del self.tail[:-HOOK_STDERR_TAIL_BYTES]

    def process_exited(self) -> None:
        self.exited.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set_result(None)


def _end_process_group(pgid: int) -> None:
    # The command runs in a session of its own (start_new_session): its process group
    # holds it and whatever it left running in the background.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


async def run_on_change(
    command: Sequence[str],
    case: WatchedCase,
    event: ChangeEvent,
    days: ResponseDays | None = None,
) -> None:
    """Run ``command`` (program and arguments, no shell) with the event as one line of
    JSON on stdin (:func:`event_to_json`, with ``days``), in casewatch's environment
    without :data:`SECRET_VARIABLES` (what the command prints on failure is shown and
    logged: it must not be able to show the client secret).

    The command is judged by its own exit, not by the end of its output; when it exits
    (or is stopped) its process group is killed, so nothing it started in the background
    (``sleep 100 &``) outlives it. Of its error output only the last
    :data:`HOOK_STDERR_TAIL_BYTES` bytes are kept in memory, whatever its size (issue 11,
    point 10).

    Raises :class:`HookError` naming the program when it cannot start, exits with a
    status other than 0 (with the last :data:`HOOK_ERROR_CHARS` characters of its error
    output, on one line, without control characters), or runs longer than
    :data:`HOOK_TIMEOUT_S` seconds (it is then killed).
    """
    payload = (json.dumps(event_to_json(case, event, days), ensure_ascii=False) + "\n").encode()
    loop = asyncio.get_running_loop()
    try:
        transport, protocol = await loop.subprocess_exec(
            lambda: _HookProtocol(loop),
            *command,
            env={name: value for name, value in os.environ.items() if name not in SECRET_VARIABLES},
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise HookError(f"the on_change command {command[0]!r} cannot run: {exc}") from None
    try:
        stdin = transport.get_pipe_transport(0)
        assert isinstance(stdin, asyncio.WriteTransport)
        stdin.write(payload)
        stdin.close()  # once written: the command reads to the end of its input
        _, running = await asyncio.wait({protocol.exited}, timeout=HOOK_TIMEOUT_S)
    finally:
        _end_process_group(transport.get_pid())
        # What it wrote before it ended may still be in the pipe: read it, unless a
        # process that left its group holds the pipe open.
        await asyncio.wait({protocol.closed}, timeout=HOOK_DRAIN_S)
        transport.close()
        await protocol.closed
    if running:
        raise HookError(
            f"the on_change command {command[0]!r} took more than {HOOK_TIMEOUT_S:g} s "
            "and was stopped"
        )
    status = transport.get_returncode()
    if status != 0:
        tail = one_line(protocol.tail.decode("utf-8", "replace"))[-HOOK_ERROR_CHARS:]
        raise HookError(
            f"the on_change command {command[0]!r} exited with status {status}"
            + (f": {tail}" if tail else "")
        )


def change_message(case: WatchedCase, event: ChangeEvent) -> tuple[str, str]:
    """A notification's title and body for a change."""
    label = f" ({case.label})" if case.label else ""
    before = f"{event.previous_title} → " if event.previous_title != event.title else ""
    return f"{case.receipt_number}{label} changed", f"{before}{event.title}"


async def notify(urls: Sequence[str], title: str, body: str, *, markdown: bool = False) -> None:
    """Send a message, ``title`` and ``body`` (Markdown with ``markdown``: Apprise turns it
    into each service's format, HTML for e-mail), to Apprise notification ``urls``
    (Telegram, ntfy, e-mail, Teams, Slack, …): a change (:func:`send_notifications`) or
    a report (``casewatch report --notify``).

    Raises :class:`HookError` when Apprise is not installed (``pip install
    'casewatch[notify]'``), a URL is not one Apprise knows (naming only its scheme: the
    rest may hold a token), or a service refused the message.
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
    body_format = apprise.NotifyFormat.MARKDOWN if markdown else None
    if not await asyncio.to_thread(sender.notify, title=title, body=body, body_format=body_format):
        raise HookError(f"a notification service did not accept {title!r}")


async def send_notifications(urls: Sequence[str], case: WatchedCase, event: ChangeEvent) -> None:
    """Send the change to Apprise notification ``urls`` (:func:`notify`, which says what
    it raises), titled and worded by :func:`change_message`."""
    title, body = change_message(case, event)
    await notify(urls, title, body)


async def announce_change(
    on_change: Sequence[str],
    notify_urls: Sequence[str],
    case: WatchedCase,
    event: ChangeEvent,
    days: ResponseDays | None = None,
) -> list[str]:
    """Run the ``on_change`` command and send the notifications for a change (each only
    when configured; ``days`` as :func:`event_to_json` takes them); returns what went
    wrong, as messages for the user. Never raises."""
    problems: list[str] = []
    if on_change:
        try:
            await run_on_change(on_change, case, event, days)
        except HookError as exc:
            problems.append(str(exc))
    if notify_urls:
        try:
            await send_notifications(notify_urls, case, event)
        except HookError as exc:
            problems.append(str(exc))
    return problems
