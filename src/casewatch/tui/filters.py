"""Finding cases in the table: the text filter, the stage filter and the sort orders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from casewatch.deadlines import ResponseDays, response_due
from casewatch.stages import Stage
from casewatch.watchlist import WatchedCase

_EARLIEST = datetime.min.replace(tzinfo=UTC)
_STAGE_ORDER = {stage: index for index, stage in enumerate(Stage)}


def matches(case: WatchedCase, text: str, stage: Stage | None) -> bool:
    """Whether ``case`` is in ``stage`` (any when None) and ``text`` appears, ignoring
    case, in its receipt number, label, form type, status title or stage."""
    status = case.status
    if stage is not None and (status is None or status.stage is not stage):
        return False
    if not text:
        return True
    haystack = [case.receipt_number.value, case.label]
    if status is not None:
        haystack += [status.form_type, status.title_en, status.title_es, status.stage.value]
    needle = text.casefold()
    return any(needle in field.casefold() for field in haystack)


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
