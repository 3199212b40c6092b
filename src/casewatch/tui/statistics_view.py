"""The statistics screen (``S``, issue 14 point 5): three charts of the cases the table
shows (it follows the filters), drawn with ``textual-plotext``, one tab each so each
reads well at 80x24: cases per stage (bars in the stage colours, each labelled with its
symbol, name and count, so it reads without colour), days in the current status by form
type (box plots of the quartiles), and changes seen per week over the last 26 weeks.
The figures come from :mod:`casewatch.statistics`; the screen only draws."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.columns import Columns
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Label, Static, TabbedContent, TabPane
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

from casewatch.stages import Stage
from casewatch.statistics import CaseloadFigures, caseload_figures
from casewatch.tui.formats import STAGE_SYMBOLS

if TYPE_CHECKING:
    from casewatch.tui.dashboard import Dashboard

PlotColour = str | int | tuple[int, int, int]
"""A colour as plotext takes it: a name, a 256-colour code or red, green, blue."""

TABS = (("stages", "1 Stages"), ("days", "2 Days in status"), ("weeks", "3 Changes per week"))
"""The tabs: their id and title (the key that shows each leads it)."""


def plot_colour(style: Style | None) -> PlotColour:
    """The colour of a stage's ``style`` for plotext: red, green, blue for a true colour,
    the code of a 16- or 256-colour one (the 16-colour theme keeps the terminal's own),
    the foreground ("default") without one."""
    colour = style.color if style is not None else None
    if colour is None or colour.is_default:
        return "default"
    if colour.number is not None:
        return colour.number
    red, green, blue = colour.get_truecolor()
    return (red, green, blue)


def whole_ticks(highest: int) -> list[float]:
    """At most about six whole-number ticks from 0 to ``highest`` (counts are whole)."""
    step = max(-(-highest // 5), 1)
    return [float(tick) for tick in range(0, highest + step, step)]


def draw_stages(plt: Plot, figures: CaseloadFigures, styles: dict[Stage, Style]) -> None:
    """A bar per stage present, in the stage's colour, in the order of a case's life,
    each labelled with the stage's symbol and its count (the legend under the chart
    names the symbols): they read without colour."""
    rows = figures.per_stage
    plt.title(f"Cases per stage · {figures.cases} cases")
    for place, (stage, count) in enumerate(rows, start=1):
        plt.bar([place], [count], color=plot_colour(styles.get(stage)), width=0.5)
    plt.xticks(
        [float(place) for place in range(1, len(rows) + 1)],
        [f"{STAGE_SYMBOLS[stage]} {count}" for stage, count in rows],
    )
    plt.yticks(whole_ticks(max((count for _, count in rows), default=0)))
    plt.ylabel("cases")


def stage_legend(figures: CaseloadFigures, styles: dict[Stage, Style]) -> Columns:
    """The stages of the chart, each ``symbol name count`` in its style, as many to a
    line as fit (an entry is never cut)."""
    return Columns(
        [
            Text(f"{STAGE_SYMBOLS[stage]} {stage.value} {count}", style=styles.get(stage, ""))
            for stage, count in figures.per_stage
        ],
        padding=(0, 3),
    )


def draw_days(plt: Plot, figures: CaseloadFigures) -> None:
    """A box per form type: from the least to the most days in the current status, the
    box between the quartiles, the median across it; each labelled ``form (cases)``."""
    spreads = figures.days_by_form
    others = f" · {figures.other_forms} more forms not shown" if figures.other_forms else ""
    plt.title(f"Days in the current status, by form type{others}")
    if spreads:
        plt.box(  # type: ignore[attr-defined]  # plotext has it; textual-plotext's stub not
            [f"{spread.form_type} ({spread.count})" for spread in spreads],
            [[s.most, s.upper_quartile, s.median, s.lower_quartile, s.least] for s in spreads],
            quintuples=True,
            width=0.5,
        )
    least = min((spread.least for spread in spreads), default=0)
    most = round(max((spread.most for spread in spreads), default=0))
    plt.yticks([tick for tick in whole_ticks(most) if tick >= least])  # within the axis
    plt.ylabel("days")


def draw_weeks(plt: Plot, figures: CaseloadFigures) -> None:
    """A bar per week, the oldest first, every fourth labelled with its Monday (this
    week's the last)."""
    weeks = figures.weeks
    total = sum(count for _, count in weeks)
    plt.title(f"Changes casewatch saw per week · {total} in {len(weeks)} weeks")
    plt.bar(list(range(1, len(weeks) + 1)), [count for _, count in weeks], width=0.6)
    shown = sorted(range(len(weeks), 0, -4))  # this week's Monday among them
    plt.xticks(list(shown), [f"{weeks[place - 1][0]:%b %d}" for place in shown])
    plt.yticks(whole_ticks(max((count for _, count in weeks), default=0)))
    plt.ylabel("changes")


class StatisticsScreen(ModalScreen[None]):
    """Charts of ``figures`` (of the cases the table shows: ``scope``, the table's
    title, says which) with the
    stage colours of ``styles``; ``1`` ``2`` ``3`` (or the arrows on the tabs) switch
    charts, ``escape`` or ``S`` closes."""

    BINDINGS = [
        Binding("escape,S", "close", "Close", id="close_statistics"),
        Binding("1", "show('stages')", "Stages", show=False),
        Binding("2", "show('days')", "Days in status", show=False),
        Binding("3", "show('weeks')", "Changes per week", show=False),
    ]

    def __init__(self, figures: CaseloadFigures, scope: str, styles: dict[Stage, Style]) -> None:
        super().__init__()
        self.figures = figures
        self.scope = scope
        self.stage_styles = styles

    def compose(self) -> ComposeResult:
        unanswered = self.figures.unanswered
        waiting = f" · {unanswered} not answered yet" if unanswered else ""
        with TabbedContent(classes="statistics"):
            for tab_id, title in TABS:
                with TabPane(title, id=tab_id):
                    yield PlotextPlot(id=f"{tab_id}-plot")
                    if tab_id == "stages":
                        legend = stage_legend(self.figures, self.stage_styles)
                        yield Static(legend, id="stage-legend")
        yield Label(f"Statistics · {self.scope}{waiting}", id="statistics-scope")
        yield Static(
            "1 2 3 or ← → switch charts · escape closes", classes="dialog-hint", markup=False
        )

    def on_mount(self) -> None:
        if self.app.current_theme.ansi:  # the terminal's own colours, as the theme's
            for plot in self.query(PlotextPlot):
                plot.theme = "clear"
        figures = self.figures
        draw_stages(self.query_one("#stages-plot", PlotextPlot).plt, figures, self.stage_styles)
        draw_days(self.query_one("#days-plot", PlotextPlot).plt, figures)
        draw_weeks(self.query_one("#weeks-plot", PlotextPlot).plt, figures)

    def action_show(self, tab_id: str) -> None:
        """Show the chart of the tab ``tab_id``."""
        self.query_one(TabbedContent).active = tab_id

    def action_close(self) -> None:
        """Close the statistics."""
        self.dismiss(None)


def show_statistics(dashboard: Dashboard) -> None:
    """Open the statistics of the cases the dashboard's table shows (its filters, which
    its title names)."""
    table = dashboard.table
    figures = caseload_figures(table.visible_cases(), dashboard.now())
    scope = str(table.border_title)  # "Cases · 12 of 50 · stage: approved", say
    dashboard.app.push_screen(StatisticsScreen(figures, scope, dashboard.stage_styles))
