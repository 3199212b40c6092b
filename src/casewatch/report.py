"""The report to send on (issue 15, point 2): the digest a paralegal sends an attorney
or a client. Its data is built once here (:func:`build_report`), for ``casewatch
report`` and the dashboard alike, and drawn in four formats by
:mod:`casewatch.report_formats`. Pure functions of the cases and the time: no I/O, no
Textual.

A report holds the changes of the period with both clocks (when USCIS made each, when
casewatch saw it), grouped by client; the count of cases per stage now; the open
response deadlines (:func:`casewatch.deadlines.open_deadlines`); and what needs
attention (:func:`casewatch.attention.needs_attention`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from casewatch.attention import Attention, Reason, needs_attention
from casewatch.cases import US_EASTERN, one_line
from casewatch.config import DEFAULT_QUIET_DAYS
from casewatch.deadlines import ResponseDays, ResponseDue, open_deadlines
from casewatch.listing import on_or_after, same_name, uscis_day
from casewatch.stages import Stage, classify_stage
from casewatch.watchlist import ChangeEvent, WatchedCase

REPORTED_REASONS = (Reason.UNKNOWN_TITLE, Reason.FAILING, Reason.QUIET)
"""The reasons for attention a report lists: a response due has its own section (the
deadlines), and a change not viewed in the dashboard is in the changes."""


@dataclass(frozen=True, slots=True)
class ReportChange:
    """One change of the period. Both clocks: ``changed_at`` is when USCIS made it (its
    ``modifiedDate``, else the newest history date; None when USCIS said neither),
    ``seen_at`` when casewatch saw it (aware datetimes). ``stage`` is the stage of the new
    status title; ``fields`` what changed (``title``, ``description``, ``history``)."""

    receipt_number: str
    client: str
    label: str
    form_type: str
    previous_status: str
    status: str
    stage: Stage
    fields: tuple[str, ...]
    changed_at: datetime | None
    seen_at: datetime

    @classmethod
    def of(cls, case: WatchedCase, event: ChangeEvent) -> ReportChange:
        """The change ``event`` of ``case``, its texts on one line
        (:func:`casewatch.cases.one_line`)."""
        return cls(
            receipt_number=case.receipt_number.value,
            client=case.client,
            label=case.label,
            form_type=one_line(case.status.form_type) if case.status else "",
            previous_status=one_line(event.previous_title),
            status=one_line(event.title),
            stage=classify_stage(event.title),
            fields=event.fields,
            changed_at=event.changed_at,
            seen_at=event.seen_at,
        )

    @property
    def uscis_date(self) -> str:
        """When USCIS made the change: its US Eastern date ``YYYY-MM-DD``, or ``date not
        given``."""
        return uscis_day(self.changed_at)

    @property
    def what(self) -> str:
        """The change in words: ``Case Was Received → Case Was Approved``, or the title
        with what changed under it (``Case Was Approved (description changed)``)."""
        if self.previous_status and self.previous_status != self.status:
            return f"{self.previous_status} → {self.status}"
        return f"{self.status} ({' and '.join(self.fields)} changed)"


@dataclass(frozen=True, slots=True)
class ClientChanges:
    """The changes of one client's cases, oldest seen first; ``client`` is empty for the
    cases without a client."""

    client: str
    changes: tuple[ReportChange, ...]


@dataclass(frozen=True, slots=True)
class Report:
    """What a report says, built by :func:`build_report`.

    ``since`` is the first US Eastern day of the period, ``now`` its end and when the
    report was made (aware); ``selection`` says which cases it covers in words (empty:
    the whole watchlist) and ``cases`` how many; ``by_client`` the changes, by client
    (by name, any case; cases without a client last); ``stages`` the number of cases in
    each stage now, in :class:`Stage` order (None: USCIS never answered), stages
    without a case left out; ``deadlines`` the open response deadlines, soonest first;
    ``attention`` the entries of :data:`REPORTED_REASONS`. ``masked``: the formats
    mask every receipt number (:func:`casewatch.receipts.mask_receipts`); ``zone`` is
    the zone its times are shown in (the ``timezone`` setting)."""

    since: date
    now: datetime
    selection: str
    cases: int
    by_client: tuple[ClientChanges, ...]
    stages: tuple[tuple[Stage | None, int], ...]
    deadlines: tuple[ResponseDue, ...]
    attention: tuple[Attention, ...]
    masked: bool = False
    zone: tzinfo = US_EASTERN

    @property
    def changes(self) -> int:
        """The number of changes of the period."""
        return sum(len(group.changes) for group in self.by_client)

    @property
    def today(self) -> date:
        """The US Eastern day the report was made: what deadlines count from."""
        return self.now.astimezone(US_EASTERN).date()

    @property
    def title(self) -> str:
        """``casewatch report: 3 changes since 2026-11-25``."""
        count = self.changes
        return f"casewatch report: {count} change{'s' * (count != 1)} since {self.since}"


def period_changes(case: WatchedCase, since: date) -> list[ChangeEvent]:
    """The changes of ``case`` in the period from US Eastern day ``since`` on: those
    USCIS made, or casewatch saw, on or after it (:func:`casewatch.listing.on_or_after`;
    the first status recorded when the case was added is no change), oldest first."""
    return [
        event
        for event in case.events
        if not event.first
        and (on_or_after(event.seen_at, since) or on_or_after(event.changed_at, since))
    ]


def build_report(
    cases: Iterable[WatchedCase],
    since: date,
    now: datetime,
    *,
    days: ResponseDays | None = None,
    quiet_days: int = DEFAULT_QUIET_DAYS,
    selection: str = "",
    mask: bool = False,
    zone: tzinfo = US_EASTERN,
) -> Report:
    """The report on ``cases`` (already selected: ``selection`` says how, in words) for
    the period from US Eastern day ``since`` to ``now`` (an aware datetime).
    ``days`` and ``quiet_days`` are the settings ``response_days`` and ``quiet_days``, as
    :func:`casewatch.deadlines.response_due` and
    :func:`casewatch.attention.needs_attention` take them. ``mask``: see
    :attr:`Report.masked`. Never raises."""
    chosen = list(cases)
    grouped: dict[str, list[ReportChange]] = {}
    for case in chosen:
        for event in period_changes(case, since):
            grouped.setdefault(case.client, []).append(ReportChange.of(case, event))
    order = sorted(grouped, key=lambda client: (not client, same_name(client)))
    by_client = tuple(
        ClientChanges(client, tuple(sorted(grouped[client], key=lambda change: change.seen_at)))
        for client in order
    )
    counts: dict[Stage | None, int] = {}
    for case in chosen:
        stage = case.status.stage if case.status is not None else None
        counts[stage] = counts.get(stage, 0) + 1
    stages = tuple((stage, counts[stage]) for stage in (*Stage, None) if stage in counts)
    attention = needs_attention(chosen, now, days=days, quiet_days=quiet_days)
    return Report(
        since=since,
        now=now,
        selection=selection,
        cases=len(chosen),
        by_client=by_client,
        stages=stages,
        deadlines=tuple(open_deadlines(chosen, days)),
        attention=tuple(entry for entry in attention if entry.reason in REPORTED_REASONS),
        masked=mask,
        zone=zone,
    )
