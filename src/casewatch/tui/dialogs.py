"""The dashboard's dialogs: add a case, ask for a line of text (a label, a file name),
confirm a removal."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from casewatch.receipts import (
    EXPECTED_FORMAT,
    ReceiptNumber,
    ReceiptNumberError,
    parse_receipt_number,
)
from casewatch.watchlist import Watchlist


@dataclass(frozen=True, slots=True)
class NewCase:
    """What the add dialog returns: a valid receipt number not yet watched, and a label."""

    receipt: ReceiptNumber
    label: str


def check_receipt(text: str, watchlist: Watchlist) -> tuple[ReceiptNumber | None, Text]:
    """Validate what was typed: the receipt number if it can be added (else None), and a
    line telling the user what is wrong or what the number is."""
    try:
        receipt = parse_receipt_number(text)
    except ReceiptNumberError as exc:
        if not text.strip():
            return None, Text("Type the 13-character receipt number.", style="dim")
        return None, Text.assemble(
            (f"✘ {exc.problem[:1].upper()}{exc.problem[1:]}.", "red"),
            (f"\nExpected {EXPECTED_FORMAT}.", "dim"),
        )
    existing = watchlist.cases.get(receipt.value)
    if existing is not None:
        label = f" ({existing.label})" if existing.label else ""
        return None, Text(
            f"✘ already watched: {receipt}{label}, added {existing.added_at:%Y-%m-%d}",
            style="red",
        )
    line = Text(f"✔ {receipt}", style="green")
    if receipt.service_center:
        line.append(f" · {receipt.service_center}", style="")
    for warning in receipt.warnings:
        line.append(f"\n⚠ {warning}", style="yellow")
    return receipt, line


class AddCaseScreen(ModalScreen[NewCase | None]):
    """Ask for a receipt number (checked as it is typed) and a label."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel_add")]

    def __init__(self, watchlist: Watchlist) -> None:
        super().__init__()
        self.watchlist = watchlist
        self.receipt: ReceiptNumber | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Add a case", classes="dialog-title")
            yield Input(placeholder="Receipt number, e.g. EAC9999103403", id="receipt")
            yield Static(id="receipt-check")
            yield Input(placeholder="Label (optional)", id="label")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Add", variant="primary", id="add", disabled=True)
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self._check("")

    def _check(self, text: str) -> None:
        self.receipt, line = check_receipt(text, self.watchlist)
        self.query_one("#receipt-check", Static).update(line)
        self.query_one("#add", Button).disabled = self.receipt is None

    @on(Input.Changed, "#receipt")
    def _receipt_changed(self, event: Input.Changed) -> None:
        self._check(event.value)

    @on(Input.Submitted)
    @on(Button.Pressed, "#add")
    def _submit(self) -> None:
        self._check(self.query_one("#receipt", Input).value)  # the list may have changed
        if self.receipt is None:
            self.query_one("#receipt", Input).focus()
            return
        self.dismiss(NewCase(self.receipt, self.query_one("#label", Input).value.strip()))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close the dialog without adding anything."""
        self.dismiss(None)


class AskScreen(ModalScreen[str | None]):
    """One line of text: a label, a file name. Returns it (trimmed), or None when
    cancelled with escape or Cancel."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel_ask")]

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Input(value=self.value, placeholder=self.placeholder, id="answer")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self.dismiss(self.query_one("#answer", Input).value.strip())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close the dialog without an answer."""
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question: y or enter confirms, n or escape cancels."""

    BINDINGS = [
        Binding("y,enter", "confirm", "Yes", id="confirm_yes"),
        Binding("n,escape", "cancel", "No", id="confirm_no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="dialog-title", markup=False)
            yield Label("y / enter: yes    n / escape: no", classes="dialog-hint")

    def action_confirm(self) -> None:
        """Answer yes."""
        self.dismiss(True)

    def action_cancel(self) -> None:
        """Answer no."""
        self.dismiss(False)
