"""The figures of the statistics screen (issue 14, point 5): cases per stage, days in the
current status by form type, changes seen per week, from what the watchlist records."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from rich.text import Text

from casewatch.cases import US_EASTERN, CaseStatus
from casewatch.receipts import parse_receipt_number
from casewatch.stages import Stage
from casewatch.statistics import Spread, caseload_figures, spread, week_of
from casewatch.watchlist import Watchlist

NOW = datetime(2026, 11, 29, 9, 30, tzinfo=US_EASTERN)  # a Sunday
"""The frozen clock of the dashboard's tests."""


def status(receipt: str, form: str, title: str, changed: datetime | None) -> CaseStatus:
    return CaseStatus(receipt, form, title, f"{title}.", modified=changed)


def a_caseload(tmp_path: Path) -> Watchlist:
    """Five cases: three I-485 (approved, in review twice), one I-130 (in review) that
    changed twice under casewatch's watch, one never answered."""
    watchlist = Watchlist(tmp_path / "watchlist.toml")
    added = NOW - timedelta(weeks=40)
    rows = [
        ("EAC9999103401", "I-485", "Case Was Approved", 10),
        ("EAC9999103402", "I-485", "Case Is Being Actively Reviewed By USCIS", 100),
        ("EAC9999103403", "I-485", "Case Is Being Actively Reviewed By USCIS", 400),
        ("EAC9999103404", "I-130", "Case Was Received", 900),
    ]
    for receipt, form, title, days in rows:
        number = parse_receipt_number(receipt)
        watchlist.add(number, added_at=added)
        changed = NOW - timedelta(days=days)
        watchlist.record_status(number, status(receipt, form, title, changed), added)
    watchlist.add(parse_receipt_number("EAC9999103405"), added_at=added)
    # The I-130 moves twice: 30 weeks ago (before the 26 weeks) and this Monday morning.
    number = parse_receipt_number("EAC9999103404")
    for seen, title in (
        (NOW - timedelta(weeks=30), "Case Was Transferred And A New Office Has Jurisdiction"),
        (datetime(2026, 11, 23, 8, 0, tzinfo=US_EASTERN), "Case Is Being Actively Reviewed"),
    ):
        watchlist.record_status(number, status(number.value, "I-130", title, seen), seen)
    return watchlist


def test_the_figures_count_stages_spread_days_by_form_and_changes_per_week(
    tmp_path: Path,
) -> None:
    figures = caseload_figures(a_caseload(tmp_path).cases.values(), NOW)
    assert figures.cases == 5 and figures.unanswered == 1
    assert figures.per_stage == ((Stage.IN_REVIEW, 3), (Stage.APPROVED, 1))
    i485, i130 = figures.days_by_form
    assert i485 == Spread("I-485", 3, 10, 55, 100, 250, 400)
    assert i130 == Spread("I-130", 1, 6, 6, 6, 6, 6)  # changed on the 23rd: 6 days
    assert figures.other_forms == 0
    assert len(figures.weeks) == 26
    assert figures.weeks[0][0] == date(2026, 6, 1) and figures.weeks[-1][0] == date(2026, 11, 23)
    assert all(week.weekday() == 0 for week, _ in figures.weeks)
    # The first statuses are no change; the one 30 weeks ago is before the window.
    assert [(week, count) for week, count in figures.weeks if count] == [(date(2026, 11, 23), 1)]


def test_the_most_common_forms_are_kept_and_the_others_counted(tmp_path: Path) -> None:
    watchlist = Watchlist(tmp_path / "watchlist.toml")
    forms = ["I-485"] * 3 + ["I-130"] * 2 + ["I-765", "N-400"]
    for index, form in enumerate(forms):
        number = parse_receipt_number(f"EAC99991034{index:02d}")
        watchlist.add(number, added_at=NOW)
        watchlist.record_status(
            number, status(number.value, form, "Case Was Received", NOW - timedelta(days=5)), NOW
        )
    figures = caseload_figures(watchlist.cases.values(), NOW, forms_shown=3)
    assert [spread.form_type for spread in figures.days_by_form] == ["I-485", "I-130", "I-765"]
    assert figures.other_forms == 1
    # A case whose date of last change USCIS left out has no days to count.
    number = parse_receipt_number("EAC9999103499")
    watchlist.add(number, added_at=NOW)
    watchlist.record_status(number, status(number.value, "I-90", "Case Was Received", None), NOW)
    figures = caseload_figures(watchlist.cases.values(), NOW)
    assert "I-90" not in {spread.form_type for spread in figures.days_by_form}
    assert figures.per_stage == ((Stage.RECEIVED, 8),)


def test_quartiles_stay_within_the_values_and_weeks_start_on_monday() -> None:
    assert spread("I-765", [7]) == Spread("I-765", 1, 7, 7, 7, 7, 7)
    assert spread("I-765", [30, 10]) == Spread("I-765", 2, 10, 15, 20, 25, 30)
    assert week_of(date(2026, 11, 29)) == date(2026, 11, 23)  # a Sunday
    assert week_of(date(2026, 11, 23)) == date(2026, 11, 23)


def test_no_case_gives_empty_figures() -> None:
    figures = caseload_figures([], NOW)
    assert (figures.cases, figures.per_stage, figures.days_by_form) == (0, (), ())
    assert sum(count for _, count in figures.weeks) == 0


def test_the_charts_are_drawn_labelled_and_the_same_each_time(tmp_path: Path) -> None:
    from textual_plotext.plot import Plot

    from casewatch.tui.statistics_view import draw_days, draw_stages, draw_weeks

    figures = caseload_figures(a_caseload(tmp_path).cases.values(), NOW)
    drawn = []
    for _ in range(2):
        charts = []
        for draw in (
            lambda plt: draw_stages(plt, figures, {}),
            lambda plt: draw_days(plt, figures),
            lambda plt: draw_weeks(plt, figures),
        ):
            plt = Plot()
            draw(plt)
            plt.plotsize(78, 17)
            charts.append(plt.build())
        drawn.append(charts)
    assert drawn[0] == drawn[1]  # snapshots and screenshots stay put
    stages, days, weeks = (Text.from_ansi(chart).plain for chart in drawn[0])
    assert "Cases per stage · 5 cases" in stages and "◔ 3" in stages and "✔ 1" in stages
    assert "I-485 (3)" in days and "I-130 (1)" in days
    assert "Changes casewatch saw per week · 1 in 26 weeks" in weeks and "Nov 23" in weeks
