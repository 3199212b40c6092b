"""Changing the watchlist from the dashboard: add a case, edit a label, stop watching a
case and undo it, import receipt numbers from a file, export the table."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from casewatch.files import atomic_write_text, os_error_message
from casewatch.importing import ImportFileError, add_imported, parse_import, read_import_file
from casewatch.listing import format_csv, format_json_array
from casewatch.tui.dialogs import AddCaseScreen, AskScreen, ConfirmScreen, NewCase
from casewatch.watchlist import DuplicateReceipt, WatchedCase

if TYPE_CHECKING:
    from casewatch.tui.dashboard import Dashboard


class CaseEditing:
    """The dialogs and the changes of the ``a``, ``e``, ``d``, ``u``, ``i`` and ``x``
    keys of ``dashboard``: each change is shown in the table, saved, and a new case
    checked at once."""

    def __init__(self, dashboard: Dashboard) -> None:
        self.dashboard = dashboard
        self.last_removed: tuple[int, WatchedCase] | None = None
        """The last case removed and its place on the watchlist, for undo (one level)."""

    def _shown(self, receipt: str) -> None:
        """A case came: the table shows it (selected), the file and USCIS learn of it."""
        self.dashboard.table.fill(select=receipt)  # rows cannot be inserted mid-table
        self.dashboard.save_soon()

    def add_case(self) -> None:
        """Ask for a receipt number and a label, then watch that case."""
        self.dashboard.app.push_screen(AddCaseScreen(self.dashboard.watchlist), self._add)

    def _add(self, new: NewCase | None) -> None:
        if new is None:
            return
        try:
            case = self.dashboard.watchlist.add(
                new.receipt, label=new.label, added_at=self.dashboard.now()
            )
        except DuplicateReceipt as exc:
            self.dashboard.notify(str(exc), severity="warning")
            return
        self._shown(case.receipt_number.value)
        self.dashboard.refreshes.check_now([case.receipt_number])

    def edit_label(self) -> None:
        """Edit the label of the selected case."""
        dashboard = self.dashboard
        receipt, watchlist = dashboard.table.selected_receipt, dashboard.watchlist
        if receipt is None:
            return
        case = watchlist.get(receipt)

        def done(label: str | None) -> None:
            if label is None or receipt not in watchlist.cases:
                return
            dashboard.table.update_case(watchlist.set_label(receipt, label))
            dashboard.save_soon()

        ask = AskScreen(f"Label of {case.receipt_number}", case.label, "Label")
        dashboard.app.push_screen(ask, done)

    def delete_case(self) -> None:
        """Stop watching the selected case, after a confirmation; u brings it back."""
        receipt = self.dashboard.table.selected_receipt
        if receipt is None:
            return
        case = self.dashboard.watchlist.get(receipt)
        label = f" ({case.label})" if case.label else ""

        def done(confirmed: bool | None) -> None:
            if confirmed and receipt in self.dashboard.watchlist.cases:
                self._delete(receipt)

        self.dashboard.app.push_screen(ConfirmScreen(f"Stop watching {receipt}{label}?"), done)

    def _delete(self, receipt: str) -> None:
        dashboard = self.dashboard
        index = list(dashboard.watchlist.cases).index(receipt)
        case = dashboard.watchlist.remove(receipt)
        self.last_removed = (index, case)
        dashboard.table.remove_case(receipt)
        if dashboard.drawer.is_open:
            dashboard.action_close_drawer()
        dashboard.save_soon()
        label = f" ({case.label})" if case.label else ""
        dashboard.notify(f"Removed {receipt}{label}. Press u to undo.", timeout=5)

    def undo_delete(self) -> None:
        """Put the last removed case back, with all its data, where it was."""
        if self.last_removed is None:
            self.dashboard.notify("Nothing to undo.", timeout=3)
            return
        index, case = self.last_removed
        self.last_removed = None
        try:
            self.dashboard.watchlist.restore(case, index)
        except DuplicateReceipt as exc:
            self.dashboard.notify(str(exc), severity="warning")
            return
        self._shown(case.receipt_number.value)

    def import_file(self) -> None:
        """Add the receipt numbers of a text or CSV file (one per line, or a receipt
        column); the lines that are not receipt numbers are listed in a toast."""

        def done(answer: str | None) -> None:
            if answer:
                self._import(Path(answer).expanduser())

        ask = AskScreen("Import receipt numbers from a text or CSV file", "", "path/to/file.csv")
        self.dashboard.app.push_screen(ask, done)

    def _import(self, path: Path) -> None:
        dashboard = self.dashboard
        try:
            text = read_import_file(path)
        except ImportFileError as exc:
            dashboard.notify(str(exc), title="Import failed", severity="error")
            return
        good, bad = parse_import(text)
        added, skipped = add_imported(
            dashboard.watchlist, good, dashboard.now(), dashboard.settings.timezone
        )
        problems = [f"line {line}: {content!r}: {why}" for line, content, why in bad]
        problems += [f"line {line}: {why}" for line, why in skipped]
        if added:
            self._shown(added[0].receipt_number.value)
            dashboard.refreshes.check_now([case.receipt_number for case in added])
        summary = f"{len(added)} added from {path.name}"
        if added and dashboard.refresher is not None and dashboard.refresher.running:
            summary += ", checked when the refresh under way ends"
        if problems:
            shown = "\n".join(problems[:5]) + ("\n…" if len(problems) > 5 else "")
            summary += f"; {len(problems)} not added:\n{shown}"
        dashboard.notify(summary, title="Import", severity="warning" if problems else "information")

    def export_table(self) -> None:
        """Write the cases shown in the table to a .csv or .json file."""

        def done(answer: str | None) -> None:
            if answer:
                self._export(Path(answer).expanduser())

        ask = AskScreen("Export the table to a .csv or .json file", "casewatch-export.csv")
        self.dashboard.app.push_screen(ask, done)

    def _export(self, path: Path) -> None:
        dashboard = self.dashboard
        cases = dashboard.table.visible_cases()
        if path.suffix.lower() == ".json":
            text = format_json_array(cases, dashboard.settings.timezone)
        elif path.suffix.lower() == ".csv":
            text = format_csv(cases, dashboard.settings.timezone)
        else:
            dashboard.notify(
                f"{path.name}: give a name ending in .csv or .json", severity="warning"
            )
            return
        try:
            atomic_write_text(path, text, make_folder=False)
        except OSError as exc:
            dashboard.notify(os_error_message(exc), title="Export failed", severity="error")
            return
        dashboard.notify(f"{len(cases)} cases written to {path.resolve()}", title="Export")
