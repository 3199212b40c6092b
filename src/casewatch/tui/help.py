"""The list of every key of the dashboard (``?``), with what each does; the binding id
only of a key the config file remapped (the ids are for ``[keys]``: issue 13, point 12)."""

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
    ``keys`` holds ``(keys, name, what it does, binding id)`` rows, the id empty unless
    ``[keys]`` remapped the action: a second column then says so."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="close_help")]

    def __init__(self, keys: list[tuple[str, str, str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        rows = Table.grid(padding=(0, 1))
        rows.add_column(style="bold", no_wrap=True)
        rows.add_column(ratio=1)
        remapped = any(binding_id for *_, binding_id in self.keys)
        if remapped:
            rows.add_column(no_wrap=True, style="dim")
        for keys, name, what, binding_id in self.keys:
            line = Text.assemble((name, "bold"), f" · {what}" if what else "")
            rows.add_row(keys, line, *([Text(f"[keys] {binding_id}")] if binding_id else []))
        with VerticalScroll(classes="dialog help"):
            yield Label("Keys", classes="dialog-title")
            yield Static(rows)
            yield Static(
                'Remap a key in config.toml under [keys], such as refresh = "f5" (the ids '
                "are in docs/configuration.md). ctrl+p runs any action by name. escape "
                "closes this list.",
                classes="dialog-hint",
                markup=False,
            )

    def action_close(self) -> None:
        """Close the list of keys."""
        self.dismiss(None)
