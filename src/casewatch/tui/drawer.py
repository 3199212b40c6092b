"""The history drawer: the selected case in full, and its timeline (USCIS's history and
the changes casewatch saw), in English or in Spanish."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, tzinfo

from rich.console import Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.reactive import var
from textual.widgets import Static

from casewatch.cases import US_EASTERN, calendar_days, strip_html
from casewatch.deadlines import ResponseDays, closed_notice, response_due
from casewatch.stages import Stage
from casewatch.timezones import format_time
from casewatch.tui.formats import format_date, stage_text
from casewatch.watchlist import WatchedCase

_WORDS = {
    "started": ("started watching", "empezó a seguir el caso"),
    "saw": ("change", "cambio"),
    "uscis date": ("USCIS date", "fecha de USCIS"),
    "not given": ("not given", "no indicada"),
    "noticed": ("casewatch noticed", "casewatch notó"),
    "undated": ("undated", "sin fecha"),
    "timeline": ("Timeline, newest first", "Historial, lo más reciente primero"),
    "no history": ("USCIS sent no history for this case.", "USCIS no envió historial."),
    "not kept": ("… {:,} older entries not kept", "… {:,} entradas anteriores no guardadas"),
    "no answer": ("No answer from USCIS yet.", "Todavía sin respuesta de USCIS."),
    "filed": ("Filed", "Presentado"),
    "ago": ("{} ago", "hace {}"),
    "changed": ("changed", "cambiado"),
    "in status": ("{} in this status", "{} en este estado"),
    "day": ("day", "día"),
    "days": ("days", "días"),
    "answered": ("answered", "respondido"),
    "failed": ("Last check failed", "Falló la última consulta"),
    "at": ("at", "a las"),
    "closed": (
        "Response no longer due: the case moved on from “{}” on {}",
        "Ya no se debe responder: el caso dejó «{}» el {}",
    ),
}
"""The drawer's own words, in English and in Spanish (``l``)."""


def _word(key: str, spanish: bool) -> str:
    return _WORDS[key][spanish]


def _days(since: datetime, now: datetime, spanish: bool) -> str:
    """Whole US Eastern calendar days from ``since`` to ``now`` in words: ``1349 days``,
    ``1 día``."""
    days = calendar_days(since, now)
    return f"{days} {_word('day' if days == 1 else 'days', spanish)}"


def timeline(
    case: WatchedCase, spanish: bool = False, *, zone: tzinfo
) -> list[tuple[str, str, str]]:
    """USCIS's history and the changes casewatch saw, as one timeline, newest first:
    ``(when, source, text)`` rows. History dates are US Eastern dates; a change seen by
    casewatch shows when it was seen (in ``zone``, the ``timezone`` setting, with its
    name) and when USCIS says it made it.
    ``spanish``: USCIS's Spanish texts, casewatch's words in Spanish, and the Spanish
    title of a status title that is the current one."""
    status = case.status

    def title(english: str) -> str:
        if spanish and status is not None and english == status.title_en and status.title_es:
            return status.title_es
        return english

    dated: list[tuple[tuple[date, int], tuple[str, str, str]]] = []
    for order, entry in enumerate(status.history if status else ()):
        when = (
            entry.date.isoformat() if entry.date else entry.date_text or _word("undated", spanish)
        )
        text = (entry.text_es or entry.text_en) if spanish else entry.text_en
        # The history is in its canonical order (history_order): kept within a date.
        dated.append(((entry.date or date.min, -order), (when, "USCIS", text)))
    for order, event in enumerate(case.events):
        seen = event.seen_at.astimezone(US_EASTERN)
        if event.first:
            text = f"{_word('started', spanish)}: {title(event.title)}"
        else:
            uscis_date = (
                f"{event.changed_at:%Y-%m-%d}" if event.changed_at else _word("not given", spanish)
            )
            text = (
                f"{_word('saw', spanish)} ({', '.join(event.fields)}): "
                f"{title(event.previous_title)} → {title(event.title)} "
                f"({_word('uscis date', spanish)}: {uscis_date})"
            )
        when = format_time(seen, zone)
        dated.append(((seen.date(), 1 + order), (when, _word("noticed", spanish), text)))
    return [row for _, row in sorted(dated, key=lambda item: item[0], reverse=True)]


class HistoryDrawer(VerticalScroll):
    """The selected case in full: its current description and its history, newest first.

    The screen sets :attr:`case` (the case to show), :attr:`spanish` (USCIS's Spanish
    texts where it sent them, ``l``), :attr:`stage_styles` (the theme's) and
    :attr:`is_open`; the drawer paints itself while open. ``clock`` gives Unix time in
    seconds (for the ages of the case's dates); times are shown in ``zone`` (the
    ``timezone`` setting)."""

    case: var[WatchedCase | None] = var(None, always_update=True)
    spanish: var[bool] = var(False)
    stage_styles: var[dict[Stage, Style]] = var(dict, always_update=True)
    is_open: var[bool] = var(False)

    def __init__(
        self,
        clock: Callable[[], float],
        zone: tzinfo,
        *,
        response_days: ResponseDays | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._clock = clock
        self._zone = zone
        self._response_days = response_days

    def compose(self) -> ComposeResult:
        yield Static(id="drawer-body")

    def watch_is_open(self, is_open: bool) -> None:
        self.set_class(is_open, "-open")
        self._paint()

    def watch_case(self) -> None:
        self._paint()

    def watch_spanish(self) -> None:
        self._paint()

    def watch_stage_styles(self) -> None:
        self._paint()

    def _paint(self) -> None:
        case = self.case
        if not self.is_open or case is None:
            return
        spanish, styles = self.spanish, self.stage_styles
        now = datetime.fromtimestamp(self._clock(), US_EASTERN)
        status = case.status
        head = Text()
        head.append(case.receipt_number.value, style="bold")
        if status is not None and status.form_type:
            head.append(f" · {status.form_type}")
        if case.label:
            head.append(f" · {case.label}", style="italic")
        parts: list[RenderableType] = [head]
        if status is None:
            if not case.last_error:  # else the failure below says why there is none
                parts.append(Text(f"\n{_word('no answer', spanish)}"))
        else:
            title = (status.title_es or status.title_en) if spanish else status.title_en
            description = (
                (status.description_es or status.description_en)
                if spanish
                else status.description_en
            )
            summary = Text()
            summary.append(title + "\n", style="bold")
            summary.append_text(stage_text(status.stage, styles))
            dates = [
                f"{_word(word, spanish)} {format_date(day)} "
                f"({_word(since, spanish).format(_days(day, now, spanish))})"
                if day is not None
                else f"{_word(word, spanish)} {sent}"  # not a plausible date: USCIS's text
                for word, day, sent, since in (
                    ("filed", status.submitted, status.submitted_text, "ago"),
                    ("changed", status.last_changed, status.modified_text, "in status"),
                )
                if day is not None or sent  # USCIS did not say: nothing to show
            ]
            if case.answered_at is not None:
                dates.append(
                    f"{_word('answered', spanish)} {format_time(case.answered_at, self._zone)}"
                )
            summary.append("\n" + " · ".join(dates) + "\n")
            parts += [summary, *self._response(case, now), Text(strip_html(description))]
        if case.last_error:
            failed = _word("failed", spanish)
            if case.checked_at is not None:
                failed += f" {_word('at', spanish)} {format_time(case.checked_at, self._zone)}"
            parts.append(Text(f"\n⚠ {failed}: {case.last_error}", style="bold"))
        if status is not None:
            parts.append(Text(f"\n{_word('timeline', spanish)}", style="bold underline"))
            if not status.history:
                parts.append(Text(_word("no history", spanish), style="dim"))
            rows = Table.grid(padding=(0, 1))
            rows.add_column(no_wrap=True, style="bold")
            rows.add_column(ratio=1)  # who said it, then what: the text has the room
            for when, source, text in timeline(case, spanish, zone=self._zone):
                rows.add_row(when, Text.assemble((source, "dim"), " · ", text))
            parts.append(rows)
            if status.history_dropped:  # past MAX_HISTORY_ENTRIES, in casewatch.cases
                parts.append(Text(_word("not kept", spanish).format(status.history_dropped)))
        self.query_one("#drawer-body", Static).update(Group(*parts))
        self.scroll_home(animate=False)

    def _response(self, case: WatchedCase, now: datetime) -> list[Text]:
        """The response due of ``case`` (:mod:`casewatch.deadlines`), in bold, red once
        overdue; or, when the case moved on from a notice, that its deadline closed."""
        spanish, due = self.spanish, response_due(case, self._response_days)
        if due is not None:
            words = due.describe(now.date(), spanish=spanish)
            style = "bold red" if due.days_left(now.date()) < 0 else "bold"
            return [Text(words[0].upper() + words[1:] + "\n", style=style)]
        closed = closed_notice(case)
        if closed is None:
            return []
        return [Text(_word("closed", spanish).format(*closed) + "\n", style="dim")]
