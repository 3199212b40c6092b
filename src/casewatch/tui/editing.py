"""Changing the watchlist from the dashboard: add a case, edit its label, client, tags,
note and response due date, stop watching a case, undo deletes and edits (several
levels), import receipt numbers and details from a file, export the table."""

from __future__ import annotations

from argparse import ArgumentTypeError
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from casewatch.deadline_verbs import NO_DUE, apply_due, due_date
from casewatch.deadlines import response_due
from casewatch.files import atomic_write_text, os_error_message
from casewatch.importing import (
    ImportFileError,
    ImportReport,
    ParsedImport,
    ignored_column_note,
    import_rows,
    read_import_file,
    read_rows,
)
from casewatch.listing import format_csv, format_json_array
from casewatch.tui.dialogs import (
    AddCaseScreen,
    AskScreen,
    CaseDetailsScreen,
    ConfirmScreen,
    DetailsForm,
    NewCase,
    split_tags,
)
from casewatch.watching import CaseDetails, LabelRule
from casewatch.watchlist import (
    CaseDetailError,
    DuplicateReceipt,
    WatchedCase,
    Watchlist,
    without_tags,
)

if TYPE_CHECKING:
    from casewatch.tui.dashboard import Dashboard


class CaseEditing:
    """The dialogs and the changes of the ``a``, ``e``, ``d``, ``u``, ``i`` and ``x``
    keys of ``dashboard``: each change is shown in the table, saved, and a new case
    checked at once."""

    def __init__(self, dashboard: Dashboard) -> None:
        self.dashboard = dashboard
        self.undo_stack: list[Undoable] = []
        """The deletes and edits ``u`` can undo, the last at the end."""

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

    def edit_case(self) -> None:
        """Edit the label, client, tags, note and response due date of the selected case
        in one dialog (:class:`CaseDetailsScreen`, saved by :meth:`save_details`)."""
        dashboard = self.dashboard
        receipt, watchlist = dashboard.table.selected_receipt, dashboard.watchlist
        if receipt is None:
            return
        case = watchlist.get(receipt)
        deadline = response_due(case, dashboard.settings.response_days)
        due_line = (
            deadline.describe(dashboard.now().date())
            if deadline is not None
            else "No response due: the case's status asks for no answer."
        )
        dialog = CaseDetailsScreen(
            case,
            _other_clients(watchlist, receipt),
            due_line,
            due_open=deadline is not None,
            save=lambda form: self.save_details(case, form),
        )
        dashboard.app.push_screen(dialog)

    def save_details(self, shown: WatchedCase, form: DetailsForm) -> str | None:
        """Give the case the edit dialog ``shown`` what the dialog holds: all of it, or
        nothing and what is wrong (a tag or note refused: :meth:`CaseDetails.clean`; a
        due date that is not ``YYYY-MM-DD`` or ``none``: :func:`due_date`, or given for
        a case whose status waits for no answer: :func:`apply_due`; the case removed
        meanwhile). Only the fields changed in the dialog change, and the tags added or
        removed there, so what another process saved meanwhile stays (issue 14, point 1).
        The due date typed wins over casewatch's estimate; emptied, the estimate is back
        (point 4). Saved and merged with other processes like any change
        (:meth:`Dashboard.save_soon`)."""
        dashboard, watchlist = self.dashboard, self.dashboard.watchlist
        receipt = shown.receipt_number.value
        if receipt not in watchlist.cases:
            return f"{receipt} is no longer watched (removed meanwhile): nothing to save"
        before = watchlist.get(receipt)
        try:
            typed = CaseDetails.clean(
                label=form.label,
                client=form.client,
                tags=tuple(split_tags(form.tags)),
                note=form.note,
            )
            due = _due_asked(form.due, shown.response_due)
            if due is not None:
                apply_due(watchlist, receipt, due, dashboard.settings)
        except (CaseDetailError, ArgumentTypeError, ValueError) as exc:
            return str(exc)
        same = typed.client.casefold()  # "garcia, Maria" completed: the client's own spelling
        client = next((c for c in _other_clients(watchlist, receipt) if c.casefold() == same), None)
        typed = replace(typed, client=client or typed.client)
        added = without_tags(typed.tags, shown.tags)
        changed = {
            name
            for name in ("label", "client", "note")
            if getattr(typed, name) != getattr(shown, name)
        }
        case = watchlist.set_case_details(
            receipt,
            tags=without_tags((*before.tags, *added), without_tags(shown.tags, typed.tags)),
            **{name: getattr(typed, name) for name in changed},
        )
        if case != before:
            self._done(before)
            self._changed(case)
        return None

    def _changed(self, case: WatchedCase) -> None:
        """A case's details changed here: the table and the drawer show it, it is saved."""
        dashboard = self.dashboard
        dashboard.table.update_case(case)
        if (
            dashboard.drawer.is_open
            and dashboard.table.selected_receipt == case.receipt_number.value
        ):
            dashboard.drawer.case = case
        dashboard.save_soon()

    def _done(self, before: WatchedCase, index: int | None = None) -> None:
        """Remember a change for ``u``: ``before``, the case as it was, and ``index`` its
        place on the watchlist when the change removed it (None: an edit)."""
        self.undo_stack.append(Undoable(before, index))
        del self.undo_stack[:-UNDO_LEVELS]

    def delete_case(self) -> None:
        """Stop watching the selected case, after a confirmation; u brings it back."""
        receipt = self.dashboard.table.selected_receipt
        if receipt is None:
            return
        case = self.dashboard.watchlist.get(receipt)

        def done(confirmed: bool | None) -> None:
            if confirmed and receipt in self.dashboard.watchlist.cases:
                self._delete(receipt)

        question = f"Stop watching {receipt}{_label(case)}?"
        self.dashboard.app.push_screen(ConfirmScreen(question), done)

    def _delete(self, receipt: str) -> None:
        dashboard = self.dashboard
        index = list(dashboard.watchlist.cases).index(receipt)
        case = dashboard.watchlist.remove(receipt)
        self._done(case, index)
        dashboard.table.remove_case(receipt)
        if dashboard.drawer.is_open:
            dashboard.action_close_drawer()
        dashboard.save_soon()
        dashboard.notify(f"Removed {receipt}{_label(case)}. Press u to undo.", timeout=5)

    def undo(self) -> None:
        """Undo the last delete or edit not undone yet (up to :data:`UNDO_LEVELS`): a case
        removed comes back with all its data where it was; an edited case gets back its
        label, client, tags, note and response due date (the due date only while its
        notice is the same)."""
        dashboard = self.dashboard
        if not self.undo_stack:
            dashboard.notify("Nothing to undo.", timeout=3)
            return
        before, index = self.undo_stack.pop()
        receipt, watchlist = before.receipt_number.value, dashboard.watchlist
        if index is not None:
            try:
                watchlist.restore(before, index)
            except DuplicateReceipt as exc:
                dashboard.notify(str(exc), severity="warning")
                return
            self._shown(receipt)
            dashboard.notify(f"Put back {receipt}{_label(before)}.", timeout=3)
            return
        if receipt not in watchlist.cases:
            dashboard.notify(
                f"{receipt} is no longer watched: its edit cannot be undone.", severity="warning"
            )
            return
        case = watchlist.set_case_details(
            receipt, label=before.label, client=before.client, tags=before.tags, note=before.note
        )
        if case.notice_date == before.notice_date:
            case = watchlist.set_response_due(receipt, before.response_due)
        self._changed(case)
        dashboard.notify(f"Undid the edit of {receipt}{_label(case)}.", timeout=3)

    def import_file(self) -> None:
        """Import the receipt numbers, labels, clients, tags and notes of a text or CSV
        file (:func:`read_rows`, :func:`import_rows` with :attr:`LabelRule.FILL`, as
        ``casewatch import``): a file that cannot be read keeps the dialog open, saying
        why; a toast reports what was added and changed, and what was not read."""
        ask = AskScreen(
            "Import receipt numbers from a text or CSV file",
            placeholder="path/to/file.csv",
            hint=f"A relative path is read from {Path.cwd()}",
            check=self._import,
        )
        self.dashboard.app.push_screen(ask)

    def _import(self, answer: str) -> str | None:
        """Import the file ``answer`` names; what is wrong with it, or None when done."""
        if not answer:
            return "Type the path of a text or CSV file."
        dashboard, path = self.dashboard, Path.cwd() / Path(answer).expanduser()
        try:
            text = read_import_file(path)
        except ImportFileError as exc:
            return str(exc)
        parsed = read_rows(text)
        report = import_rows(dashboard.watchlist, parsed.good, dashboard.now(), LabelRule.FILL)
        added = report.added
        if added:
            self._shown(added[0].receipt_number.value)
            dashboard.refreshes.check_now([case.receipt_number for case in added])
        elif report.updated:
            for _, outcome in report.updated:
                dashboard.table.update_case(outcome.case)
            dashboard.save_soon()
        summary = report.counts(parsed)
        if added and dashboard.refresher is not None and dashboard.refresher.running:
            summary += "; the new ones are checked when the refresh under way ends"
        notes = _import_notes(parsed, report)
        shown = notes[:IMPORT_NOTES_SHOWN]
        if len(notes) > len(shown):
            shown.append(f"… {len(notes) - len(shown)} more: casewatch import lists them all")
        warned = parsed.bad or parsed.refused or parsed.ignored_columns or report.repeats
        dashboard.notify(
            "\n".join([summary, *shown]),
            title=f"Import from {path.name}",
            severity="warning" if warned else "information",
            timeout=15 if notes else 5,
        )
        return None

    def export_table(self, typed: str = "casewatch-export.csv") -> None:
        """Write the cases shown in the table to a .csv or .json file, private to the user
        (0600), after asking before replacing a file; ``typed`` is the path the dialog
        starts with."""

        def done(answer: str | None) -> None:
            if not answer:
                return
            path = Path.cwd() / Path(answer).expanduser()
            if not path.exists():
                self._export(path)
                return

            def replace(confirmed: bool | None) -> None:
                if confirmed:
                    self._export(path)
                else:
                    self.export_table(answer)  # back to the dialog, to type another name

            self.dashboard.app.push_screen(ConfirmScreen(f"{path} exists. Replace it?"), replace)

        ask = AskScreen(
            "Export the table to a .csv or .json file",
            typed,
            hint=f"A relative path is written in {Path.cwd()}. The file is private to you "
            "(permissions 0600).",
            check=_export_problem,
        )
        self.dashboard.app.push_screen(ask, done)

    def _export(self, path: Path) -> None:
        dashboard = self.dashboard
        cases = dashboard.table.visible_cases()
        text = format_json_array(cases) if path.suffix.lower() == ".json" else format_csv(cases)
        try:
            atomic_write_text(path, text, make_folder=False)
        except OSError as exc:
            dashboard.notify(os_error_message(exc), title="Export failed", severity="error")
            return
        dashboard.notify(
            f"{len(cases)} cases written to {path.resolve()}, private to you (0600).",
            title="Export",
        )


def _due_asked(text: str, given: date | None) -> date | str | None:
    """What the edit dialog's due field ``text`` asks of a case whose due date given was
    ``given`` when the dialog opened: a date, :data:`NO_DUE` (back to the estimate: the
    field emptied) or None (unchanged). Raises :class:`ArgumentTypeError` as
    :func:`due_date` does."""
    asked = due_date(text) if text.strip() else NO_DUE
    if asked == (given or NO_DUE):
        return None
    return asked


def _other_clients(watchlist: Watchlist, receipt: str) -> set[str]:
    """The clients of the cases of ``watchlist`` but ``receipt``'s."""
    return {case.client for key, case in watchlist.cases.items() if case.client and key != receipt}


def _label(case: WatchedCase) -> str:
    """`` (label)`` of a case in a message, or nothing when it has none."""
    return f" ({case.label})" if case.label else ""


def _export_problem(answer: str) -> str | None:
    """What is wrong with the export file name ``answer`` (its ending), or None."""
    if Path(answer).suffix.lower() in (".csv", ".json"):
        return None
    return f"{answer or 'The name'}: give a name ending in .csv or .json"


REPLACED_BY = " (casewatch import --update replaces it)"
"""After a detail an import did not set, as the file gave another: how to replace it."""

IMPORT_NOTES_SHOWN = 8
"""Lines of an import's toast after its counts, at most (``casewatch import`` lists all)."""


def _import_notes(parsed: ParsedImport, report: ImportReport) -> list[str]:
    """What an import says beyond its counts, most needed first: the columns not read, the
    lines that are not receipts, the rows refused, the cases changed (each field), the
    details not set on cases already watched, the repeats."""
    notes = [ignored_column_note(column) for column in parsed.ignored_columns]
    notes += [
        f"line {line}: {content!r} is not a receipt number: {problem}"
        for line, content, problem in parsed.bad
    ]
    notes += [
        f"line {line}: {receipt}: {problem}; not imported"
        for line, receipt, problem in parsed.refused
    ]
    for line, outcome in report.updated:
        notes.append(f"line {line}: {outcome.describe()}")
        if outcome.refused:
            notes.append(f"line {line}: {outcome.describe_refused()}{REPLACED_BY}")
    notes += [
        f"line {line}: {outcome.describe()}{REPLACED_BY}"
        for line, outcome in report.unchanged
        if outcome.refused
    ]
    notes += [f"line {line}: {why}; skipped" for line, why in report.repeats]
    return notes


class Undoable(NamedTuple):
    """A change ``u`` undoes: ``before``, the case as it was, and ``place``, its index on
    the watchlist when the change removed it (None: an edit of its details)."""

    before: WatchedCase
    place: int | None


UNDO_LEVELS = 50
"""Changes ``u`` can undo, the last first."""
