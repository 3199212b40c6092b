"""The "Needs attention" view (``t``, issue 14 point 3): what ``casewatch attention``
prints, one entry per case and reason, under a heading per reason; ``enter`` on an
entry goes to its case in the table with the drawer open, ``escape`` closes."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby
from typing import TYPE_CHECKING

from rich.console import Group
from rich.padding import Padding
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from casewatch.attention import Attention, Reason, needs_attention

if TYPE_CHECKING:
    from casewatch.tui.dashboard import Dashboard

HEADINGS = {
    Reason.RESPONSE_DUE: "Responses due, soonest first",
    Reason.UNSEEN: "Changes not viewed yet",
    Reason.UNKNOWN_TITLE: "Status titles casewatch does not recognize",
    Reason.FAILING: "Checks failing for more than a day",
    Reason.QUIET: "No change from USCIS for more than {quiet_days} days",
}
"""The heading of each reason's entries, in the order of :class:`Reason` (``quiet_days``:
the setting)."""

SHOWN_PER_REASON = 100
"""Entries shown under each reason at most, the most pressing (the list's order): a
longer list says how many more ``casewatch attention`` prints. (The option list
measures every entry it holds: 7,000 quiet cases of 10,000 took 7 s to open.)"""


def entry_text(entry: Attention) -> Group:
    """An entry as the view shows it: the receipt number (bold), the form type and the
    label on the first line; why (:meth:`Attention.describe`, the words of ``casewatch
    attention``) under it, indented, in bold red when a response is overdue (the word
    ``OVERDUE`` says it without colour)."""
    case, status = entry.case, entry.case.status
    head = Text(case.receipt_number.value, style="bold")
    for part in (status.form_type if status else "", case.label):
        if part:
            head.append(f" · {part}")
    why = Text(entry.describe(), style="bold red" if entry.overdue else "not bold")
    return Group(head, Padding(why, (0, 0, 0, 2)))


class AttentionScreen(ModalScreen[str | None]):
    """What needs attention (``entries``, from :func:`casewatch.attention.needs_attention`),
    under a heading per reason with its count. Dismissed with the receipt number of the
    entry chosen with ``enter``, or None (``escape`` or ``t``). ``quiet_days``: the
    setting, for the heading of the quiet cases."""

    BINDINGS = [Binding("escape,t", "close", "Close", id="close_attention")]

    def __init__(self, entries: Iterable[Attention], quiet_days: int) -> None:
        super().__init__()
        self.entries = list(entries)
        self.quiet_days = quiet_days

    def compose(self) -> ComposeResult:
        options: list[Option] = []
        self._receipts: dict[str, str] = {}  # option id to receipt number
        for reason, group in groupby(self.entries, key=lambda entry: entry.reason):
            entries = list(group)
            words = HEADINGS[reason].format(quiet_days=self.quiet_days)
            heading = Text(f"{words} · {len(entries)}", style="bold underline")
            options.append(Option(heading, disabled=True))
            for entry in entries[:SHOWN_PER_REASON]:
                # The id is the entry's place: a case may be listed for two reasons.
                option_id = str(len(options))
                self._receipts[option_id] = entry.case.receipt_number.value
                options.append(Option(entry_text(entry), id=option_id))
            if len(entries) > SHOWN_PER_REASON:
                more = f"… {len(entries) - SHOWN_PER_REASON:,} more: casewatch attention lists all"
                options.append(Option(Text(more, style="italic"), disabled=True))
        with Vertical(classes="dialog attention"):
            cases = len({entry.case.receipt_number.value for entry in self.entries})
            title = f"Needs attention · {cases:,} case{'' if cases == 1 else 's'}"
            yield Label(title, classes="dialog-title")  # a case may have two reasons
            if options:
                yield OptionList(*options, id="attention-list")
            else:
                yield Static("Nothing needs attention today.", id="attention-list")
            yield Static(
                "enter goes to the case · escape closes · a response due marked ≈ is "
                "casewatch's estimate: the notice has the exact date",
                classes="dialog-hint",
            )

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self._receipts.get(event.option.id or ""))

    def action_close(self) -> None:
        """Close the view."""
        self.dismiss(None)


def show_attention(dashboard: Dashboard) -> None:
    """Open the view on what needs attention now in the dashboard's watchlist (the
    settings' response days and quiet days); the case chosen is shown
    (:func:`go_to_case`)."""
    settings = dashboard.settings
    entries = needs_attention(
        dashboard.watchlist.cases.values(),
        dashboard.now(),
        days=settings.response_days,
        quiet_days=settings.quiet_days,
    )

    def chosen(receipt: str | None) -> None:
        if receipt is not None and receipt in dashboard.watchlist.cases:  # still watched
            go_to_case(dashboard, receipt)

    dashboard.app.push_screen(AttentionScreen(entries, settings.quiet_days), chosen)


def go_to_case(dashboard: Dashboard, receipt: str) -> None:
    """Select the case ``receipt`` in the dashboard's table and open the drawer on it.
    When a filter hides it, the filters are cleared first (a toast says so) and the
    table shows every case."""
    table = dashboard.table
    if receipt not in {case.receipt_number.value for case in table.visible_cases()}:
        dashboard.view.clear_filters(select=receipt)
        dashboard.notify(f"Filter cleared to show {receipt}.", title="Every case shown", timeout=4)
    else:
        table.fill(select=receipt)
    table.focus()
    dashboard.drawer.is_open = False
    dashboard.action_toggle_drawer()  # opens the drawer on the selected case: this one
