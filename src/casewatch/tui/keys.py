"""The dashboard's keys: every action with its key, name, description and id; the keys
remapped by the config file's ``[keys]`` (binding id = keys) and what is wrong with
them; the key list (``?``) and the command palette's entries."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from textual.binding import Binding

from casewatch.tui.case_table import CaseTable

# The footer shows the most used keys; ? lists them all, ctrl+p runs any of them.
DASHBOARD_BINDINGS: list[Binding | tuple[str, str] | tuple[str, str, str]] = [
    Binding("enter", "toggle_drawer", "History", show=False, id="history"),
    Binding(
        "escape",
        "escape",
        "Close",
        show=False,
        id="close_drawer",
        tooltip=(
            "Close one thing: the find box being typed in, else the history drawer, "
            "else the find filter, else the stage filter"
        ),
    ),
    Binding(
        "r",
        "refresh_selected",
        "Check",
        id="refresh_selected",
        tooltip="Check the selected case now",
    ),
    Binding(
        "R",
        "refresh",
        "Refresh all",
        id="refresh",
        tooltip="Refresh every case now (not while a refresh runs)",
    ),
    Binding(
        "n",
        "next_changed",
        "Next changed",
        show=False,
        id="next_changed",
        tooltip=(
            "Jump to the next case that changed and was not viewed yet (outside the filter too)"
        ),
    ),
    Binding(
        "l",
        "toggle_language",
        "English/Español",
        show=False,
        id="toggle_language",
        tooltip="Show USCIS's Spanish texts in the drawer, or the English ones",
    ),
    Binding(
        "slash",
        "find",
        "Find",
        id="find",
        tooltip=(
            "Filter the table by words of the receipt, label, client, tags, note, form, "
            "status, stage or last error (accents and dashes ignored)"
        ),
    ),
    Binding(
        "s",
        "next_stage",
        "Stage filter",
        show=False,
        id="next_stage",
        tooltip=(
            "Show only the next stage on the watchlist, then the cases not recognized or "
            "failing, then all again"
        ),
    ),
    Binding(
        "o",
        "next_sort",
        "Sort",
        show=False,
        id="next_sort",
        tooltip="Sort by the next column, then back to the watchlist's order",
    ),
    Binding(
        "a",
        "add_case",
        "Add",
        id="add_case",
        tooltip="Add a case: the receipt number is checked as you type",
    ),
    Binding(  # its action and id kept from when it edited the label only: [keys] works on
        "e",
        "edit_label",
        "Edit",
        show=False,
        id="edit_label",
        tooltip="Edit the label, client, tags, note and due date of the selected case",
    ),
    Binding(
        "d",
        "delete_case",
        "Delete",
        show=False,
        id="delete_case",
        tooltip="Stop watching the selected case (asks first)",
    ),
    Binding(
        "u",
        "undo_delete",
        "Undo",
        show=False,
        id="undo_delete",
        tooltip="Undo the last delete or edit, then the one before",
    ),
    Binding(
        "i",
        "import_file",
        "Import",
        show=False,
        id="import_file",
        tooltip="Import receipts with labels, clients, tags and notes from a file",
    ),
    Binding(
        "x",
        "export_table",
        "Export",
        show=False,
        id="export_table",
        tooltip="Write the cases shown to a .csv or .json file, private to you",
    ),
    Binding("question_mark", "app.help", "Keys", id="help", tooltip="List every key"),
    Binding("q", "app.quit", "Quit", id="quit", tooltip="Quit casewatch"),
    Binding(
        "t",
        "attention",
        "Needs attention",
        show=False,
        id="attention",
        tooltip="List what needs attention today, with why; enter goes to the case",
    ),
    Binding(
        "S",
        "statistics",
        "Statistics",
        show=False,
        id="statistics",
        tooltip="Chart the cases shown: per stage, days in status by form, changes per week",
    ),
    Binding(
        "O",
        "reverse_sort",
        "Reverse sort",
        show=False,
        id="reverse_sort",
        tooltip="Sort the other way (newest first for Changed)",
    ),
    Binding(
        "c",
        "group_by_client",
        "By client",
        show=False,
        id="group_by_client",
        tooltip="Group the cases by client, or list them all again",
    ),
]
"""The screen's actions (the table has its own: moves and ``enter``)."""

NEEDING_EVERY_CASE = frozenset(
    {
        "refresh",
        "refresh_selected",
        "find",
        "next_stage",
        "next_sort",
        "reverse_sort",
        "group_by_client",
        "add_case",
        "edit_label",
        "delete_case",
        "undo_delete",
        "import_file",
        "export_table",
        "attention",
        "statistics",
    }
)
"""Actions that wait until every case of the watchlist file is read: they check, find,
filter, sort, change or export the cases, or tell whether a case is already watched."""


def case_bindings() -> Iterator[tuple[bool, Binding]]:
    """Every binding of the dashboard with an id, the table's first (``enter`` is the
    table's), each with whether the table runs it (else the screen)."""
    seen: set[str] = set()
    for on_table, bindings in ((True, CaseTable.BINDINGS), (False, DASHBOARD_BINDINGS)):
        for binding in bindings:
            if isinstance(binding, Binding) and binding.id and binding.id not in seen:
                seen.add(binding.id)
                yield on_table, binding


class Keymap:
    """The keys of the dashboard's bindings as remapped by ``remapped`` (the config
    file's ``[keys]``: binding id to keys, comma-separated); ``display`` writes a key
    as the footer does."""

    def __init__(self, remapped: Mapping[str, str], display: Callable[[Binding], str]) -> None:
        self._display = display
        known = {str(binding.id) for _, binding in case_bindings()}
        self.unknown = sorted(set(remapped) - known)
        """The ids of ``[keys]`` that name no binding."""
        self.remapped = {id: keys for id, keys in remapped.items() if id in known}
        """The ids of ``[keys]`` that name a binding, with their keys (for
        :meth:`textual.app.App.set_keymap`)."""
        self.known = sorted(known)

    def keys(self, binding: Binding) -> list[str]:
        """The keys of ``binding``, as remapped."""
        return [key.strip() for key in self.remapped.get(str(binding.id), binding.key).split(",")]

    def shown(self, binding: Binding) -> str:
        """The keys of ``binding`` (as remapped) as the footer shows them."""
        return " ".join(self._display(Binding(key, "")) for key in self.keys(binding))

    def clashes(self) -> list[str]:
        """``key (id and id)`` for each key that a remapping gave to two actions (only
        one of them gets it)."""
        users: dict[str, list[str]] = {}
        for _, binding in case_bindings():
            for key in self.keys(binding):
                users.setdefault(key, []).append(str(binding.id))
        return [
            f"{key} ({' and '.join(ids)})"
            for key, ids in users.items()
            if len(ids) > 1 and any(id in self.remapped for id in ids)
        ]

    def problems(self, config_path: object) -> list[tuple[str, str]]:
        """``(title, message)`` for the unknown ids and the clashes of ``[keys]`` in the
        file ``config_path``."""
        found = []
        if self.unknown:
            found.append(
                (
                    "Keys not remapped",
                    f"[keys] in {config_path}: unknown {', '.join(self.unknown)}; "
                    f"the ids are: {', '.join(self.known)}",
                )
            )
        clashes = self.clashes()
        if clashes:
            found.append(
                (
                    "Keys remapped twice",
                    f"[keys] in {config_path}: a key for two actions works for only one of "
                    f"them: {', '.join(clashes)}. Give each its own key.",
                )
            )
        return found

    def key_list(self) -> list[tuple[str, str, str, str]]:
        """Every action as ``(keys, name, what it does, binding id)``, with the keys as
        remapped; the id is empty unless ``[keys]`` remapped the action (the ids are
        for the config file: ``docs/configuration.md`` lists them all)."""
        return [
            (
                self.shown(binding),
                binding.description,
                binding.tooltip,
                str(binding.id) if binding.id in self.remapped else "",
            )
            for _, binding in case_bindings()
        ]
