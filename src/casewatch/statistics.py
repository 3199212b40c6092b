"""The figures of the dashboard's statistics screen (issue 14, point 5): cases per stage,
days in the current status by form type, changes seen per week. Computed in one pass
over the cases (10,000 in a few tens of milliseconds), from what the watchlist records:
the last status USCIS sent (its stage, form type and date of last change) and the
change events casewatch saw. Pure functions of the cases and the time."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from casewatch.cases import US_EASTERN, calendar_days
from casewatch.stages import Stage
from casewatch.watchlist import WatchedCase

WEEKS = 26
"""How many weeks the changes per week go back, this week included."""

FORMS_SHOWN = 6
"""Form types shown in the days-in-status distribution at most, the most common first:
more do not read in an 80-column pane."""


@dataclass(frozen=True, slots=True)
class Spread:
    """The days in the current status (whole US Eastern calendar days since USCIS's last
    change) of the ``count`` cases of one form type: the least, the quartiles (median
    between them) and the most."""

    form_type: str
    count: int
    least: float
    lower_quartile: float
    median: float
    upper_quartile: float
    most: float


@dataclass(frozen=True, slots=True)
class CaseloadFigures:
    """What the statistics screen draws, for ``cases`` cases (of which ``unanswered``
    have no answer from USCIS yet): ``per_stage``, the count of each stage present
    (in the order of a case's life, :class:`~casewatch.stages.Stage`); ``days_by_form``,
    the :class:`Spread` of the :data:`FORMS_SHOWN` most common form types whose date of
    last change USCIS gave (most cases first), ``other_forms`` the count of form types
    left out; ``weeks``, the changes casewatch saw per week (its Monday, US Eastern),
    the oldest first, this week last (a case's first status is no change)."""

    cases: int
    unanswered: int
    per_stage: tuple[tuple[Stage, int], ...]
    days_by_form: tuple[Spread, ...]
    other_forms: int
    weeks: tuple[tuple[date, int], ...]


def week_of(day: date) -> date:
    """The Monday of the week of ``day``."""
    return day - timedelta(days=day.weekday())


def spread(form_type: str, days: list[int]) -> Spread:
    """The :class:`Spread` of ``days`` (at least one value): quartiles by the
    inclusive method (:func:`statistics.quantiles`), which stay within the values."""
    ordered = sorted(days)
    if len(ordered) == 1:
        lower = median = upper = float(ordered[0])
    else:
        lower, median, upper = statistics.quantiles(ordered, n=4, method="inclusive")
    return Spread(form_type, len(ordered), ordered[0], lower, median, upper, ordered[-1])


def caseload_figures(
    cases: Iterable[WatchedCase],
    now: datetime,
    *,
    weeks: int = WEEKS,
    forms_shown: int = FORMS_SHOWN,
) -> CaseloadFigures:
    """The :class:`CaseloadFigures` of ``cases`` at ``now`` (an aware datetime), over the
    last ``weeks`` weeks (this one included), with the ``forms_shown`` most common form
    types. One pass over the cases and their events; never raises."""
    this_week = week_of(now.astimezone(US_EASTERN).date())
    first_week = this_week - timedelta(weeks=weeks - 1)
    count = unanswered = 0
    stages: Counter[Stage] = Counter()
    days_by_form: dict[str, list[int]] = {}
    changes: Counter[date] = Counter()
    for case in cases:
        count += 1
        status = case.status
        if status is None:
            unanswered += 1
        else:
            stages[status.stage] += 1
            if status.last_changed is not None:
                form = status.form_type or "form not given"
                days_by_form.setdefault(form, []).append(calendar_days(status.last_changed, now))
        for event in case.events:
            if not event.first:
                week = week_of(event.seen_at.astimezone(US_EASTERN).date())
                if first_week <= week <= this_week:
                    changes[week] += 1
    common = sorted(days_by_form, key=lambda form: (-len(days_by_form[form]), form))
    return CaseloadFigures(
        cases=count,
        unanswered=unanswered,
        per_stage=tuple((stage, stages[stage]) for stage in Stage if stages[stage]),
        days_by_form=tuple(spread(form, days_by_form[form]) for form in common[:forms_shown]),
        other_forms=max(len(common) - forms_shown, 0),
        weeks=tuple(
            (first_week + timedelta(weeks=index), changes[first_week + timedelta(weeks=index)])
            for index in range(weeks)
        ),
    )
