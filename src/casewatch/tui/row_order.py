"""The order of the case table's rows: the cases shown, sorted by a column either way
(or in the watchlist's order), grouped by client or not. A case that changes finds its
new place by bisection among the others (issue 13, point 3); each client's header row
counts its cases per stage (issue 14, point 2). Nothing here is redone for every row
when one case changes. No Textual."""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rich.style import Style
from rich.text import Text

from casewatch.listing import same_name
from casewatch.stages import Stage
from casewatch.tui.formats import STAGE_SYMBOLS
from casewatch.watchlist import WatchedCase

HEADER_PREFIX = "client:"
"""How the row key of a client's header row starts (a receipt number has no ``:``)."""

NO_CLIENT = "No client"
"""The heading of the cases without a client, listed last."""

SORT_WAYS: dict[str, tuple[str, str]] = {
    "changed": ("oldest first", "newest first"),
    "checked": ("oldest first", "newest first"),
    "days": ("most days first", "fewest days first"),
    "due": ("soonest first", "latest first"),
    "stage": ("earliest stage first", "latest stage first"),
}
"""What each way of sorting a column means, ascending and descending, where "A to Z"
does not say it."""


def sort_way(column: str, descending: bool) -> str:
    """``↑ oldest first`` or ``↓ newest first``: the arrow and what the order means for
    ``column`` (``A to Z`` and ``Z to A`` for the texts)."""
    ascending_words, descending_words = SORT_WAYS.get(column, ("A to Z", "Z to A"))
    return f"↓ {descending_words}" if descending else f"↑ {ascending_words}"


def is_header(row_key: str) -> bool:
    """Whether ``row_key`` is a client's header row, not a case."""
    return row_key.startswith(HEADER_PREFIX)


SortKey = tuple[object, ...]


@dataclass
class _Group:
    """The cases of one client (all the cases, when the table is not grouped), their
    sort keys ascending, and their count per stage."""

    header: str | None
    client: str
    keys: list[SortKey] = field(default_factory=list)
    receipts: list[str] = field(default_factory=list)
    stages: Counter[Stage] = field(default_factory=Counter)


@dataclass(frozen=True)
class _Place:
    group: _Group
    key: SortKey
    stage: Stage | None


class RowOrder:
    """The rows of ``cases`` (those the filters let through, in the watchlist's order):
    sorted by ``key`` (None: the watchlist's order), ``descending`` or not; with
    ``grouped``, under one header row per client, the clients in alphabetical order
    and the cases without one last (:data:`NO_CLIENT`). Row keys are receipt numbers,
    and :data:`HEADER_PREFIX` plus the client for the headers."""

    def __init__(
        self,
        cases: Iterable[WatchedCase],
        key: Callable[[WatchedCase], SortKey] | None,
        *,
        descending: bool = False,
        grouped: bool = False,
    ) -> None:
        self._key = key
        self.descending = descending
        self.grouped = grouped
        self._places: dict[str, _Place] = {}
        by_client: dict[str, _Group] = {}
        for position, case in enumerate(cases):
            name = same_name(case.client) if grouped else ""
            group = by_client.get(name)
            if group is None:
                header = HEADER_PREFIX + name if grouped else None
                group = by_client[name] = _Group(header, case.client)
            sort = key(case) if key is not None else (position,)
            stage = case.status.stage if case.status is not None else None
            self._places[case.receipt_number.value] = _Place(group, sort, stage)
            group.keys.append(sort)
            group.receipts.append(case.receipt_number.value)
            if stage is not None:
                group.stages[stage] += 1
        for group in by_client.values():
            pairs = sorted(zip(group.keys, group.receipts, strict=True))
            group.keys, group.receipts = [k for k, _ in pairs], [r for _, r in pairs]
        self._groups = [by_client[name] for name in sorted(by_client, key=lambda n: (not n, n))]

    def __len__(self) -> int:
        """The number of cases (header rows not counted)."""
        return len(self._places)

    def __contains__(self, receipt: object) -> bool:
        """Whether the case of ``receipt`` (a receipt number) is shown."""
        return receipt in self._places

    def rows(self) -> list[str]:
        """Every row key, in table order."""
        rows: list[str] = []
        for group in self._groups:
            if group.header is not None:
                rows.append(group.header)
            rows += reversed(group.receipts) if self.descending else group.receipts
        return rows

    def headers(self) -> list[str]:
        """The row keys of the header rows, in table order."""
        return [group.header for group in self._groups if group.header is not None]

    def _row(self, group: _Group, position: int) -> int:
        """The row index of the case at ``position`` (ascending) in ``group``."""
        before = 0
        for other in self._groups:
            if other is group:
                break
            before += len(other.receipts) + (other.header is not None)
        shown = len(group.receipts) - 1 - position if self.descending else position
        return before + (group.header is not None) + shown

    def place(self, case: WatchedCase) -> tuple[int, int] | None:
        """Take the changes of ``case`` (shown) into account: its row index before and
        after (the same when it keeps its place); None when it belongs under another
        client now (the rows are to be made again). Bisection among the group's keys:
        no sorting, no sort key computed but this case's."""
        receipt = case.receipt_number.value
        old = self._places[receipt]
        group = old.group
        if self.grouped and same_name(case.client) != same_name(group.client):
            return None
        stage = case.status.stage if case.status is not None else None
        if stage != old.stage:
            if old.stage is not None:
                group.stages[old.stage] -= 1
            if stage is not None:
                group.stages[stage] += 1
        key = self._key(case) if self._key is not None else old.key
        self._places[receipt] = _Place(group, key, stage)
        position = bisect_left(group.keys, old.key)
        before = self._row(group, position)
        if key == old.key:
            return before, before
        del group.keys[position], group.receipts[position]
        position = bisect_left(group.keys, key)
        group.keys.insert(position, key)
        group.receipts.insert(position, receipt)
        return before, self._row(group, position)

    def remove(self, receipt: str) -> tuple[int, str | None]:
        """Take ``receipt`` away: its row index, and the key of its header row when it
        was the last case under it (that row goes too, before it)."""
        place = self._places.pop(receipt)
        group = place.group
        position = bisect_left(group.keys, place.key)
        row = self._row(group, position)
        del group.keys[position], group.receipts[position]
        if place.stage is not None:
            group.stages[place.stage] -= 1
        if group.receipts or group.header is None:
            return row, None
        self._groups.remove(group)
        return row, group.header

    def header_of(self, receipt: str) -> str | None:
        """The key of the header row ``receipt`` is under; None when not grouped."""
        return self._places[receipt].group.header

    def header_text(self, header: str, styles: dict[Stage, Style]) -> Text:
        """The text of the header row ``header``: ``Garcia, Maria · 3 · ✔1 ◔2``, the
        client in bold, then its number of cases and a count per stage (in the order
        of a case's life, each symbol in the theme's ``styles``)."""
        group = next(group for group in self._groups if group.header == header)
        text = Text.assemble((group.client or NO_CLIENT, "bold"), f" · {len(group.receipts)}")
        counts = [(stage, group.stages[stage]) for stage in Stage if group.stages[stage]]
        if counts:
            text.append(" ·")
            for stage, count in counts:
                text.append(" ")
                text.append(f"{STAGE_SYMBOLS[stage]}{count}", style=styles.get(stage, ""))
        return text
