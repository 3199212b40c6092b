"""The dashboard's dialogs: add a case, edit what the user says of a case (label,
client, tags, note, response due date), ask for a line of text (a file name), confirm a
removal or a replacement."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Static, TextArea

from casewatch.receipts import (
    EXPECTED_FORMAT,
    ReceiptNumber,
    ReceiptNumberError,
    parse_receipt_number,
)
from casewatch.watchlist import WatchedCase, Watchlist


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
    """One line of text: a file name. Returns it (trimmed), or None when cancelled with
    escape or Cancel. ``hint`` is a line under it (which folder a relative path is read
    from); ``check``, when given, takes the answer first and returns what is wrong with
    it (the dialog stays open, the text as typed, showing it) or None (the dialog
    closes)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel_ask")]

    def __init__(
        self,
        title: str,
        value: str = "",
        placeholder: str = "",
        *,
        hint: str = "",
        check: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.hint = hint
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Input(value=self.value, placeholder=self.placeholder, id="answer")
            yield Static(self.hint, id="ask-hint", classes="dialog-hint", markup=False)
            yield Static(id="ask-problem", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#ask-hint").display = bool(self.hint)
        self.query_one("#ask-problem").display = False

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        answer = self.query_one("#answer", Input).value.strip()
        problem = None if self.check is None else self.check(answer)
        if problem is None:
            self.dismiss(answer)
            return
        shown = self.query_one("#ask-problem", Static)
        shown.update(Text(f"✘ {problem}", style="red"))
        shown.display = True
        self.query_one("#answer", Input).focus()

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


@dataclass(frozen=True, slots=True)
class DetailsForm:
    """What the edit dialog holds when saved, as typed: ``tags`` separated by ``;`` or
    ``,``, ``due`` a date ``YYYY-MM-DD``, ``none`` or empty."""

    label: str
    client: str
    tags: str
    note: str
    due: str


class CaseDetailsScreen(ModalScreen[bool]):
    """Edit the label, client (completed from ``clients``), tags, note and response due
    date of ``case``. ``save`` applies a :class:`DetailsForm` and returns what is wrong
    with it (the dialog stays open, showing it, nothing saved) or None (the dialog closes
    with True). ``due_line`` says the case's response due date as it is now;
    ``due_open`` is False for a case whose status waits for no response (the due field
    is then disabled). Escape or Cancel closes it with False."""

    DEFAULT_CSS = """
    CaseDetailsScreen { align: center middle; background: $background 60%; }
    CaseDetailsScreen .field { height: auto; }
    CaseDetailsScreen .field Label { width: 8; }
    CaseDetailsScreen .field Input, CaseDetailsScreen #note { width: 1fr; background: $panel; }
    CaseDetailsScreen #note { height: 4; }
    CaseDetailsScreen .dialog-hint { margin-top: 0; }
    CaseDetailsScreen #due-line { color: $text-muted; padding-left: 8; height: auto; }
    CaseDetailsScreen #edit-problem { color: $text-error; height: auto; display: none; }
    CaseDetailsScreen.-short #note { height: 2; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="cancel_edit"),
        Binding("ctrl+s", "save", "Save", id="save_edit"),
    ]

    def __init__(
        self,
        case: WatchedCase,
        clients: Iterable[str],
        due_line: str,
        due_open: bool,
        save: Callable[[DetailsForm], str | None],
    ) -> None:
        super().__init__()
        self.case = case
        self.clients = sorted(set(clients), key=str.casefold)
        self.due_line = due_line
        self.due_open = due_open
        self.save = save

    def compose(self) -> ComposeResult:
        case = self.case
        due = "" if case.response_due is None else case.response_due.isoformat()
        suggester = SuggestFromList(self.clients, case_sensitive=False)
        with Vertical(classes="dialog"):
            yield Label(f"Edit {case.receipt_number}", classes="dialog-title")
            with Horizontal(classes="field"):
                yield Label("Label")
                yield Input(case.label, id="label", compact=True)
            with Horizontal(classes="field"):
                yield Label("Client")
                yield Input(
                    case.client,
                    placeholder="a person or a family: Garcia, Maria",
                    id="client",
                    suggester=suggester,
                    compact=True,
                )
            with Horizontal(classes="field"):
                yield Label("Tags")
                yield Input(
                    tags_text(case.tags),
                    placeholder="JD; premium (separated by ; or ,)",
                    id="tags",
                    compact=True,
                )
            with Horizontal(classes="field"):
                yield Label("Note")
                yield TextArea(case.note, id="note", compact=True)
            with Horizontal(classes="field"):
                yield Label("Due")
                yield Input(
                    due,
                    placeholder="YYYY-MM-DD from the notice; empty: the estimate",
                    id="due",
                    disabled=not self.due_open,
                    compact=True,
                )
            yield Static(self.due_line, id="due-line", markup=False)
            yield Static(id="edit-problem", markup=False)
            yield Label("ctrl+s or enter: save    escape: cancel", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        """Save what the fields hold, or say what is wrong and keep the dialog open."""

        def typed(name: str) -> str:
            return self.query_one(f"#{name}", Input).value

        form = DetailsForm(
            typed("label"),
            typed("client"),
            typed("tags"),
            self.query_one("#note", TextArea).text,
            typed("due"),
        )
        problem = self.save(form)
        if problem is None:
            self.dismiss(True)
        else:
            shown = self.query_one("#edit-problem", Static)
            shown.update(f"✘ {problem}")
            shown.display = True

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close the dialog, saving nothing."""
        self.dismiss(False)


def tags_text(tags: tuple[str, ...]) -> str:
    """``tags`` as the edit dialog shows them, read back the same by :func:`split_tags`:
    joined by ``; ``, and a lone tag holding a comma followed by ``;``."""
    text = "; ".join(tags)
    return f"{text};" if len(tags) == 1 and "," in text else text


def split_tags(text: str) -> list[str]:
    """The tags typed in the edit dialog's ``text``, blank ones skipped: separated by
    ``;`` when the text holds one (as CSV files write tags; a tag may then hold a comma),
    else by ``,``. Each is still to be checked (:func:`casewatch.watchlist.clean_tags`)."""
    return [tag for tag in text.split(";" if ";" in text else ",") if tag.strip()]
