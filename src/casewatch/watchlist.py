"""The TOML watchlist: the cases a user watches and what USCIS last said of each.

One file per environment (see :func:`casewatch.config.default_watchlist_path`). It is
read with tomllib, written with tomli-w, and replaced atomically, so a crash in the
middle of a save leaves the previous file whole. It never holds a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import tomli_w

from casewatch.cases import US_EASTERN, CaseStatus, HistoryEntry
from casewatch.files import TomlFileError, atomic_write_text, read_toml
from casewatch.receipts import ReceiptNumber, ReceiptNumberError, parse_receipt_number

SCHEMA_VERSION = 1


class WatchlistError(ValueError):
    """A watchlist file that cannot be read; the message names the file and the problem."""


class DuplicateReceipt(ValueError):
    """The receipt number is already on the watchlist."""


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """A change of a case's status title, description or history.

    Both clocks: ``changed_at`` is when USCIS made the change (its ``modifiedDate``, else
    the newest history date; None when it says neither), ``seen_at`` when casewatch saw it
    (aware datetimes). ``fields`` names what changed (``title``, ``description``,
    ``history``); ``first`` marks the first status seen for a newly added case, which is
    recorded but never alerted.
    """

    seen_at: datetime
    changed_at: datetime | None
    previous_title: str
    title: str
    fields: tuple[str, ...]
    first: bool = False


@dataclass(frozen=True, slots=True)
class WatchedCase:
    """One case on the watchlist.

    ``added_at`` and ``checked_at`` are aware datetimes; ``status`` is the last status
    USCIS reported (None before the first answer); ``last_error`` is the message of the
    last failed check, empty when the last check succeeded; ``events`` are its changes,
    oldest first; ``unseen`` marks a change the user has not looked at yet.
    """

    receipt_number: ReceiptNumber
    added_at: datetime
    label: str = ""
    status: CaseStatus | None = None
    checked_at: datetime | None = None
    last_error: str = ""
    events: tuple[ChangeEvent, ...] = ()
    unseen: bool = False


def detect_change(
    previous: CaseStatus | None, status: CaseStatus, seen_at: datetime
) -> ChangeEvent | None:
    """The change from ``previous`` to ``status`` seen at ``seen_at``, or None when the
    title, the description and the history are the same. With no ``previous`` status,
    the event is the case's ``first`` one."""
    fields = (
        ("title",)
        if previous is None
        else tuple(
            name
            for name, before, after in (
                ("title", previous.title_en, status.title_en),
                ("description", previous.description_en, status.description_en),
                ("history", previous.history, status.history),
            )
            if before != after
        )
    )
    if not fields:
        return None
    return ChangeEvent(
        seen_at=seen_at,
        changed_at=status.last_changed,
        previous_title=previous.title_en if previous else "",
        title=status.title_en,
        fields=fields,
        first=previous is None,
    )


class Watchlist:
    """The ordered cases of one watchlist file, keyed by receipt number."""

    def __init__(self, path: Path, cases: dict[str, WatchedCase] | None = None) -> None:
        self.path = path
        self.cases: dict[str, WatchedCase] = cases or {}

    def __len__(self) -> int:
        return len(self.cases)

    def get(self, receipt: ReceiptNumber | str) -> WatchedCase:
        """The watched case of ``receipt``; raises :class:`KeyError` if not watched."""
        return self.cases[str(receipt)]

    def add(self, receipt: ReceiptNumber, *, label: str = "", added_at: datetime) -> WatchedCase:
        """Start watching ``receipt``. Raises :class:`DuplicateReceipt` if already watched."""
        if receipt.value in self.cases:
            raise DuplicateReceipt(f"{receipt} is already on the watchlist")
        case = WatchedCase(receipt, added_at=added_at, label=label.strip())
        self.cases[receipt.value] = case
        return case

    def remove(self, receipt: ReceiptNumber | str) -> WatchedCase:
        """Stop watching ``receipt``; returns the case removed.

        Raises :class:`KeyError` (its first argument the message) if it is not watched.
        """
        try:
            return self.cases.pop(str(receipt))
        except KeyError:
            raise KeyError(f"{receipt} is not on the watchlist {self.path}") from None

    def restore(self, case: WatchedCase, index: int | None = None) -> WatchedCase:
        """Put a removed ``case`` back, with all its data, at position ``index`` (the end
        when None). Raises :class:`DuplicateReceipt` if its receipt is watched again."""
        key = case.receipt_number.value
        if key in self.cases:
            raise DuplicateReceipt(f"{case.receipt_number} is already on the watchlist")
        items = list(self.cases.items())
        position = len(items) if index is None else max(0, min(index, len(items)))
        items.insert(position, (key, case))
        self.cases.clear()
        self.cases.update(items)
        return case

    def record_status(
        self, receipt: ReceiptNumber, status: CaseStatus, checked_at: datetime
    ) -> tuple[WatchedCase, ChangeEvent | None]:
        """Store what USCIS answered at ``checked_at``; clears the last error. Returns the
        case and the change it made (None when nothing changed); a change other than the
        first status marks the case unseen.

        A form type, once known, is kept when a later answer lacks it (``uscis-api.md``).
        """
        case = self.get(receipt)
        if not status.form_type and case.status is not None and case.status.form_type:
            status = replace(status, form_type=case.status.form_type)
        event = detect_change(case.status, status, checked_at)
        case = replace(case, status=status, checked_at=checked_at, last_error="")
        if event is not None:
            case = replace(
                case, events=(*case.events, event), unseen=case.unseen or not event.first
            )
        self.cases[receipt.value] = case
        return case, event

    def mark_seen(self, receipt: ReceiptNumber | str) -> WatchedCase:
        """The user has looked at the case: it is no longer marked changed."""
        case = replace(self.get(receipt), unseen=False)
        self.cases[case.receipt_number.value] = case
        return case

    def record_error(
        self, receipt: ReceiptNumber, message: str, checked_at: datetime
    ) -> WatchedCase:
        """Mark ``receipt`` with the message of a failed check; its last status stays."""
        case = replace(self.get(receipt), checked_at=checked_at, last_error=message)
        self.cases[receipt.value] = case
        return case

    @classmethod
    def load(cls, path: Path) -> Watchlist:
        """Read ``path``; a missing file is an empty watchlist.

        Raises :class:`WatchlistError` (file, line and column for a TOML syntax error;
        the case and field for a bad value). The file is never changed by reading.
        """
        try:
            data = read_toml(path, "the watchlist")
        except TomlFileError as exc:
            raise WatchlistError(str(exc)) from None
        if data is None:
            return cls(path)
        cases: dict[str, WatchedCase] = {}
        try:
            tables = _tables(data.get("case", []), "case")
        except TypeError as exc:
            raise WatchlistError(f"the watchlist {path}: {exc}") from None
        for index, raw in enumerate(tables, start=1):
            try:
                case = _case_from_toml(raw)
            except (ReceiptNumberError, TypeError, ValueError) as exc:
                raise WatchlistError(f"case {index} in the watchlist {path}: {exc}") from None
            if case.receipt_number.value in cases:
                raise WatchlistError(
                    f"case {index} in the watchlist {path}: {case.receipt_number} is listed "
                    "twice; keep one of its [[case]] tables"
                )
            cases[case.receipt_number.value] = case
        return cls(path, cases)

    def to_toml(self) -> str:
        """The watchlist as TOML text (schema version :data:`SCHEMA_VERSION`)."""
        document = {
            "schema": SCHEMA_VERSION,
            "case": [_case_to_toml(case) for case in self.cases.values()],
        }
        return tomli_w.dumps(document)

    def save(self) -> None:
        """Write the watchlist atomically (temporary file, fsync, rename).

        Raises :class:`OSError` (disk full, read-only directory); the file on disk is
        then left as it was.
        """
        atomic_write_text(self.path, self.to_toml())


def _drop_empty(table: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in table.items() if value not in (None, "", [])}


def _history_to_toml(entry: HistoryEntry) -> dict[str, Any]:
    return _drop_empty(
        {
            "date": entry.date,
            "date_text": entry.date_text,
            "text_en": entry.text_en,
            "text_es": entry.text_es,
        }
    )


def _status_to_toml(status: CaseStatus) -> dict[str, Any]:
    return _drop_empty(
        {
            "form_type": status.form_type,
            "title_en": status.title_en,
            "description_en": status.description_en,
            "title_es": status.title_es,
            "description_es": status.description_es,
            "submitted": status.submitted,
            "modified": status.modified,
            "history": [_history_to_toml(entry) for entry in status.history],
        }
    )


def _event_to_toml(event: ChangeEvent) -> dict[str, Any]:
    return _drop_empty(
        {
            "seen_at": event.seen_at,
            "changed_at": event.changed_at,
            "previous_title": event.previous_title,
            "title": event.title,
            "fields": list(event.fields),
            "first": event.first or None,
        }
    )


def _case_to_toml(case: WatchedCase) -> dict[str, Any]:
    table = _drop_empty(
        {
            "receipt_number": case.receipt_number.value,
            "label": case.label,
            "added_at": case.added_at,
            "checked_at": case.checked_at,
            "last_error": case.last_error,
            "unseen": case.unseen or None,
        }
    )
    if case.status is not None:
        table["status"] = _status_to_toml(case.status)
    if case.events:
        table["events"] = [_event_to_toml(event) for event in case.events]
    return table


def _eastern(value: object, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a date and time, got {value!r}")
    aware = value if value.tzinfo is not None else value.replace(tzinfo=US_EASTERN)
    try:
        return aware.astimezone(US_EASTERN)
    except OverflowError:  # year 1 or 9999 with an offset: outside what Python can date
        raise ValueError(f"{name} {value.isoformat()} is out of range") from None


def _tables(value: object, name: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise TypeError(f"{name} must be an array of tables, written [[{name}]]")
    return value


def _str(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise TypeError(f"{key} must be text, got {value!r}")
    return value


def _history_from_toml(raw: dict[str, Any]) -> HistoryEntry:
    day = raw.get("date")
    if day is not None and not isinstance(day, date):
        raise TypeError(f"history date must be a date, got {day!r}")
    return HistoryEntry(
        date=day,
        date_text=_str(raw, "date_text"),
        text_en=_str(raw, "text_en"),
        text_es=_str(raw, "text_es"),
    )


def _status_from_toml(raw: dict[str, Any], receipt: ReceiptNumber) -> CaseStatus:
    return CaseStatus(
        receipt_number=receipt.value,
        form_type=_str(raw, "form_type"),
        title_en=_str(raw, "title_en"),
        description_en=_str(raw, "description_en"),
        title_es=_str(raw, "title_es"),
        description_es=_str(raw, "description_es"),
        submitted=_eastern(raw.get("submitted"), "submitted"),
        modified=_eastern(raw.get("modified"), "modified"),
        history=tuple(
            _history_from_toml(entry) for entry in _tables(raw.get("history", []), "history")
        ),
    )


def _event_from_toml(raw: dict[str, Any]) -> ChangeEvent:
    seen_at = _eastern(raw.get("seen_at"), "seen_at")
    if seen_at is None:
        raise ValueError("an event needs seen_at, when casewatch saw the change")
    fields = raw.get("fields", [])
    if not isinstance(fields, list) or not all(isinstance(name, str) for name in fields):
        raise TypeError("fields must be a list of text")
    return ChangeEvent(
        seen_at=seen_at,
        changed_at=_eastern(raw.get("changed_at"), "changed_at"),
        previous_title=_str(raw, "previous_title"),
        title=_str(raw, "title"),
        fields=tuple(fields),
        first=raw.get("first") is True,
    )


def _case_from_toml(raw: dict[str, Any]) -> WatchedCase:
    receipt = parse_receipt_number(_str(raw, "receipt_number"))
    status = raw.get("status")
    if status is not None and not isinstance(status, dict):
        raise TypeError("status must be a table, written [case.status]")
    added_at = _eastern(raw.get("added_at"), "added_at")
    if added_at is None:
        raise ValueError(
            "added_at is missing: give when the case was added, such as 2026-11-29T09:30:00-05:00"
        )
    return WatchedCase(
        receipt_number=receipt,
        added_at=added_at,
        label=_str(raw, "label"),
        status=None if status is None else _status_from_toml(status, receipt),
        checked_at=_eastern(raw.get("checked_at"), "checked_at"),
        last_error=_str(raw, "last_error"),
        events=tuple(_event_from_toml(event) for event in _tables(raw.get("events", []), "events")),
        unseen=raw.get("unseen") is True,
    )
