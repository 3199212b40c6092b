"""The command palette's casewatch entries (ctrl+p): every action of the keys by name,
and in one step what takes several presses otherwise (issue 13, points 5 and 9; issue
14, point 2): each stage, the failing cases, each tag on the watchlist, each sort order,
"Mark all as viewed"; a report of the cases shown and the diagnostics (issue 15)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand

from casewatch.stages import Stage
from casewatch.tui.case_cells import HEADINGS
from casewatch.tui.filters import CaseFilter, Tagged, Trouble
from casewatch.tui.keys import Keymap, case_bindings
from casewatch.tui.row_order import sort_way
from casewatch.tui.sharing import Sharing

if TYPE_CHECKING:
    from casewatch.tui.dashboard import Dashboard


def case_commands(dashboard: Dashboard, keymap: Keymap) -> Iterator[SystemCommand]:
    """The palette's entries for ``dashboard``: each key's action (with its keys as
    ``keymap`` has them), "Mark all as viewed", then (once the whole watchlist file is
    read) the stages, the tags and the sort orders."""
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
    sharing = Sharing(dashboard)
    yield SystemCommand(
        "Write a report",
        "The cases shown (the filter applies): changes of the last 7 days, stages, response "
        "deadlines, what needs attention, as casewatch report writes it",
        sharing.write_report,
    )
    yield SystemCommand(
        "Diagnostics for a bug report",
        "Copy casewatch diagnose's text to the clipboard and save it (no secret, receipt "
        "numbers masked)",
        sharing.diagnostics,
    )
    if not dashboard.watchlist.unread:  # as s and o, once every case is read
        yield from _filter_commands(dashboard)
        yield from _sort_commands(dashboard)


def _filter_commands(dashboard: Dashboard) -> Iterator[SystemCommand]:
    """ "Stage: all", "Stage: NAME" for each stage and the failing cases (shown with an
    empty search only where the watchlist has cases), "Tag: NAME" for each tag."""
    counts: dict[CaseFilter, int] = {}
    for case in dashboard.watchlist.cases.values():
        if case.status is not None:
            counts[case.status.stage] = counts.get(case.status.stage, 0) + 1
        if case.last_error:
            counts[Trouble.FAILING] = counts.get(Trouble.FAILING, 0) + 1
        for tag in case.tags:
            counts[Tagged(tag)] = counts.get(Tagged(tag), 0) + 1
    show = dashboard.view.show_filter
    yield SystemCommand("Stage: all", "Show the cases of every stage (s)", partial(show, None))
    choices: list[tuple[CaseFilter, str]] = [
        (stage, f'whose stage is "{stage.value}"') for stage in Stage
    ]
    choices.append((Trouble.FAILING, "not recognized by USCIS or whose last check failed"))
    for case_filter, which in choices:
        count = counts.get(case_filter, 0)
        yield SystemCommand(
            f"Stage: {case_filter}",
            f"Show only the {count} case{'s' * (count != 1)} {which} (s steps through the stages)",
            partial(show, case_filter),
            discover=count > 0,
        )
    tags = sorted((f for f in counts if isinstance(f, Tagged)), key=lambda f: f.tag.casefold())
    for tagged in tags:
        count = counts[tagged]
        yield SystemCommand(
            f"Tag: {tagged.tag}",
            f"Show only the {count} case{'s' * (count != 1)} tagged {tagged.tag}",
            partial(show, tagged),
        )


def _sort_commands(dashboard: Dashboard) -> Iterator[SystemCommand]:
    """ "Sort by COLUMN, WAY" for each column both ways ("Sort by changed, newest
    first"), and back to the watchlist's order."""
    sort_by = dashboard.view.sort_by
    for key, heading in HEADINGS.items():
        for descending in (False, True):
            way = sort_way(key, descending)
            yield SystemCommand(
                f"Sort by {heading.casefold()}, {way[2:]}",
                f"Sort the table by {heading} {way} (o steps through the columns, O reverses)",
                partial(sort_by, key, descending),
            )
    yield SystemCommand(
        "Sort as the watchlist",
        "Show the cases in the watchlist's order, the order they were added (o)",
        partial(sort_by, None),
    )
