"""Finding cases in the table: the find text (:mod:`casewatch.finding`), the filter of
one stage, one tag or the cases whose checks fail, and the sort orders."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

from casewatch.deadlines import ResponseDays, response_due
from casewatch.stages import Stage
from casewatch.watchlist import WatchedCase

_EARLIEST = datetime.min.replace(tzinfo=UTC)
_STAGE_ORDER = {stage: index for index, stage in enumerate(Stage)}


class Trouble(StrEnum):
    """The filter of the cases whose last check failed, USCIS not recognizing the
    receipt number among them (issue 13, point 6): a place of its own in the stage cycle."""

    FAILING = "not recognized or failing"


@dataclass(frozen=True, slots=True)
class Tagged:
    """The filter of the cases that have the tag ``tag`` (issue 14, point 2)."""

    tag: str


CaseFilter = Stage | Trouble | Tagged
"""What the table can be filtered to, besides the find text: one stage, the failing
cases, or one tag."""


def admits(case_filter: CaseFilter, case: WatchedCase) -> bool:
    """Whether ``case`` passes ``case_filter``."""
    if isinstance(case_filter, Stage):
        return case.status is not None and case.status.stage is case_filter
    if isinstance(case_filter, Tagged):
        return case_filter.tag in case.tags
    return bool(case.last_error)


def filter_label(case_filter: CaseFilter) -> str:
    """``case_filter`` in words, for the table's title: ``stage: approved``,
    ``tag: premium``, ``not recognized or failing``."""
    if isinstance(case_filter, Stage):
        return f"stage: {case_filter.value}"
    if isinstance(case_filter, Tagged):
        return f"tag: {case_filter.tag}"
    return case_filter.value


def stage_cycle(cases: Iterable[WatchedCase]) -> list[CaseFilter | None]:
    """What ``s`` steps through: every case (None), each stage seen on the watchlist in
    the order of a case's life, then the failing cases when there are any."""
    seen: set[Stage] = set()
    failing = False
    for case in cases:
        if case.status is not None:
            seen.add(case.status.stage)
        failing = failing or bool(case.last_error)
    return [None, *(stage for stage in Stage if stage in seen), *[Trouble.FAILING] * failing]


def filter_text(case_filter: CaseFilter) -> str:
    """``case_filter`` as ``dashboard.toml`` keeps it: ``stage:approved``,
    ``tag:premium``, ``failing`` (:func:`filter_from_text` reads it back)."""
    if isinstance(case_filter, Stage):
        return f"stage:{case_filter.value}"
    if isinstance(case_filter, Tagged):
        return f"tag:{case_filter.tag}"
    return "failing"


def filter_from_text(text: str, tags: set[str]) -> CaseFilter | None:
    """The filter :func:`filter_text` wrote as ``text``; None when ``text`` names none,
    or a tag not among ``tags`` (the watchlist's, now)."""
    kind, _, value = text.partition(":")
    if kind == "stage" and value in Stage._value2member_map_:
        return Stage(value)
    if kind == "tag" and value in tags:
        return Tagged(value)
    return Trouble.FAILING if text == "failing" else None


def sort_key(
    column: str, days: ResponseDays | None = None
) -> Callable[[WatchedCase], tuple[object, ...]]:
    """The sort key of a table column: receipt, label (the client first, as the column
    shows it), form, status, stage (in the order
    of a case's life), changed or checked (oldest first; checked is the last answer, the
    age the column shows), days (most days in the status first), due (the response due
    date, :func:`casewatch.deadlines.response_due` with ``days``: soonest first, cases
    asked for no answer last); other unknown values sort first."""

    def key(case: WatchedCase) -> tuple[object, ...]:
        status = case.status
        values: dict[str, object] = {
            "receipt": case.receipt_number.value,
            "label": (case.client.casefold(), case.label.casefold()),
            "form": status.form_type if status else "",
            "status": status.title_en.casefold() if status else "",
            "stage": _STAGE_ORDER[status.stage] if status else -1,
            "changed": (status.last_changed if status else None) or _EARLIEST,
            "checked": case.answered_at or _EARLIEST,
        }
        if column == "due":
            due = response_due(case, days)
            values["due"] = (due is None, due.due if due else date.max)
        # Most days in the status first is the oldest change first.
        return (values["changed" if column == "days" else column], case.receipt_number.value)

    return key
