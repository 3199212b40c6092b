"""The command palette's casewatch entries (ctrl+p): every action of the keys by name,
and what takes several presses otherwise (issue 13, points 5 and 9)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand

from casewatch.tui.keys import Keymap, case_bindings

if TYPE_CHECKING:
    from casewatch.tui.dashboard import Dashboard


def case_commands(dashboard: Dashboard, keymap: Keymap) -> Iterator[SystemCommand]:
    """The palette's entries for ``dashboard``: each key's action (with its keys as
    ``keymap`` has them), then "Mark all as viewed"."""
    app = dashboard.app
    for on_table, binding in case_bindings():
        node = dashboard.table if on_table else dashboard
        yield SystemCommand(
            binding.description,
            f"{binding.tooltip} ({keymap.shown(binding)})",
            partial(app.run_action, binding.action, node),
        )
    yield SystemCommand(
        "Mark all as viewed",
        "Take the ● mark off every changed case, as viewing each one does",
        dashboard.action_mark_all_viewed,
    )
