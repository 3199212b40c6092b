"""The find box: typing filters the table by any text; enter keeps the filter and goes
back to the table, escape (the screen's close) clears it."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events, on
from textual.message import Message
from textual.reactive import var
from textual.widgets import Input


class FindBox(Input):
    """One line under the table, shown while :attr:`is_open`. Posts :class:`Typed` with
    the text (trimmed) as it changes and :class:`Finished` on enter."""

    is_open: var[bool] = var(False)

    @dataclass
    class Typed(Message):
        """The text to find is now ``text`` (empty: no filter)."""

        text: str

    class Finished(Message):
        """Enter: the filter stays, the table takes the focus."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            placeholder="Find: words of a receipt, label, client, tag, note, form, status or stage",
            id=id,
        )
        self.opened_at = 0.0
        """When the box last opened or took the focus, on the clock of
        :attr:`textual.message.Message.time`."""

    def watch_is_open(self, is_open: bool) -> None:
        self.set_class(is_open, "-open")

    def open(self) -> None:
        """Show the box and give it the focus."""
        self.is_open = True
        self.opened_at = Message().time  # on the clock of the keys' events
        self.focus()

    def on_focus(self) -> None:
        self.opened_at = Message().time  # keys typed until now were sent to the table

    def typed_before(self, event: events.Key) -> bool:
        """Whether ``event`` is a character typed before the box opened and took the
        focus, right after ``/`` (sent to the table then): its text is the find text's."""
        return self.is_open and event.is_printable and event.time <= self.opened_at

    def close(self) -> None:
        """Hide the box and clear it (the table shows every case again)."""
        if self.is_open:
            self.is_open = False
            self.value = ""

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Typed(event.value.strip()))

    @on(Input.Submitted)
    def _finished(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Finished())
