"""The list of every key of the dashboard (``?``), with what each does and its id."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class HelpScreen(ModalScreen[None]):
    """Every key of the dashboard and what it does; ``escape``, ``q`` or ``?`` closes it.
    ``keys`` holds ``(keys, name, what it does, binding id)`` rows."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="close_help")]

    def __init__(self, keys: list[tuple[str, str, str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        rows = Table.grid(padding=(0, 1))
        rows.add_column(style="bold", no_wrap=True)
        rows.add_column(ratio=1)
        for keys, name, what, binding_id in self.keys:
            line = Text.assemble((name, "bold"), f" · {what} ", (f"({binding_id})", "dim"))
            rows.add_row(keys, line)
        with VerticalScroll(classes="dialog help"):
            yield Label("Keys", classes="dialog-title")
            yield Static(rows)
            yield Static(
                'Remap a key in config.toml: under [keys], id = "keys", such as '
                'refresh = "f5". ctrl+p runs any action by name. escape closes this list.',
                classes="dialog-hint",
                markup=False,
            )

    def action_close(self) -> None:
        """Close the list of keys."""
        self.dismiss(None)
