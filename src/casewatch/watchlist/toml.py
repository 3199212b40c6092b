"""The watchlist's TOML: its schema and migrations, and each case as the text of its
``[[case]]`` table and back. Read with tomllib, written with tomli-w; a file never holds a
secret."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeGuard

import tomli_w

from casewatch.cases import (
    EARLIEST_YEAR,
    US_EASTERN,
    CaseStatus,
    HistoryEntry,
    latest_year,
    printable,
)
from casewatch.receipts import ReceiptNumber, parse_receipt_number
from casewatch.watchlist.model import (
    ChangeEvent,
    WatchedCase,
    WatchlistError,
    clean_note,
    clean_tags,
    one_line_label,
)

SCHEMA_VERSION = 3


def _from_schema_0(document: dict[str, Any]) -> dict[str, Any]:
    # Schema 0: a file written by hand with no schema key (like the README's example):
    # the same [[case]] tables as schema 1, which only adds the key.
    return {**document, "schema": 1}


def _from_schema_1(document: dict[str, Any]) -> dict[str, Any]:
    # Schema 1 kept one time, checked_at, of the last check whether answered or failed.
    # Schema 2 adds answered_at, the last answer's: checked_at when that check was
    # answered; unknown (left out) when it failed.
    cases = document.get("case")
    if isinstance(cases, list):
        cases = [
            {**case, "answered_at": case["checked_at"]}
            if isinstance(case, dict)
            and "checked_at" in case
            and "status" in case
            and not case.get("last_error")
            else case
            for case in cases
        ]
        document = {**document, "case": cases}
    return {**document, "schema": 2}


def _from_schema_2(document: dict[str, Any]) -> dict[str, Any]:
    # Schema 3 adds a case's client, tags and note (issue 14), all optional: a schema 2
    # file reads as it is. The number changes so that a casewatch that knows schema 2
    # refuses a file holding them (migrate's rule) instead of reading it and dropping
    # them at its next save.
    return {**document, "schema": 3}


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    0: _from_schema_0,
    1: _from_schema_1,
    2: _from_schema_2,
}
"""The migration path: ``MIGRATIONS[n]`` turns a document of schema ``n`` into one of
schema ``n + 1``. A file is migrated in memory when it is read, and written in
:data:`SCHEMA_VERSION` at the next save (the original stays in ``<file>.bak``)."""


def migrate(document: dict[str, Any], path: Path) -> dict[str, Any]:
    """``document`` (the TOML of the watchlist ``path``) brought to :data:`SCHEMA_VERSION`
    through :data:`MIGRATIONS`. A file without ``schema`` is schema 0.

    Raises :class:`WatchlistError` for a schema that is not a whole number, or one newer
    than this casewatch knows (the file is then left alone: upgrade casewatch).
    """
    version = document.get("schema", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise WatchlistError(
            f"the watchlist {path}: schema = {version!r} is not a schema version; "
            f"this casewatch writes schema = {SCHEMA_VERSION}"
        )
    if version > SCHEMA_VERSION:
        raise WatchlistError(
            f"the watchlist {path} has schema {version}: a newer casewatch wrote it, and this "
            f"one knows schema {SCHEMA_VERSION} at most. The file is left as it is: upgrade "
            "casewatch (pip install --upgrade casewatch) to use it"
        )
    while version < SCHEMA_VERSION:
        document = MIGRATIONS[version](document)
        version += 1
    return document


HEADER = "[[case]]\n"
"""The header of a case's table as casewatch writes it."""


def watchlist_text(cases: Mapping[str, WatchedCase]) -> str:
    """``cases`` as the TOML text of a watchlist file (schema :data:`SCHEMA_VERSION`):
    the schema, then each case as a ``[[case]]`` table (:func:`case_text`)."""
    return "\n".join([PREAMBLE, *(case_text(case) for case in cases.values())])


def case_text(case: WatchedCase) -> str:
    """``case`` as the TOML text of its ``[[case]]`` table, the tables inside it
    (``[case.status]``, ``[[case.events]]``) following it.

    Always a table of its own, where tomli-w writes a short array of short tables inline
    (``case = [ ... ]``): so a file splits cheaply into its cases at their headers
    (:meth:`Watchlist.load_first`). The TOML rule that makes this text valid: a table
    header under an array of tables belongs to its last element (TOML 1.0, "Array of
    Tables").
    """
    # tomli-w writes the table named case with its header first, as it holds the
    # receipt number (a plain value); its subtables are written case.status and so on.
    return HEADER + tomli_w.dumps({"case": _case_to_toml(case)}).removeprefix("[case]\n")


PREAMBLE = f"schema = {SCHEMA_VERSION}\n"
"""How a watchlist file starts; each case's table follows after an empty line."""


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
            "submitted_text": status.submitted_text,
            "modified": status.modified,
            "modified_text": status.modified_text,
            "history": [_history_to_toml(entry) for entry in status.history],
            "history_dropped": status.history_dropped or None,
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
            "answered_at": case.answered_at,
            "last_error": case.last_error,
            "unseen": case.unseen or None,
            "notice_date": case.notice_date,
            "response_due": case.response_due,
            "client": case.client,
            "tags": list(case.tags),
            "note": case.note,
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


def toml_tables(value: object, name: str) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise TypeError(f"{name} must be an array of tables, written [[{name}]]")
    return value


SHARED_TEXT_MAX = 120
"""Characters: a text read from the watchlist at most this long is kept once for all the
cases that hold it (``sys.intern``): form types, status titles, most history entries,
clients and tags repeat across a caseload (issue 16, point 4: memory)."""


def toml_text(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    if value is None:
        return ""  # most of the optional texts of most cases
    if not isinstance(value, str):
        raise TypeError(f"{key} must be text, got {value!r}")
    return shared(printable(value))  # a file edited by hand may hold escape sequences


def shared(text: str) -> str:
    """``text``, one string for all the cases that hold it when it is at most
    :data:`SHARED_TEXT_MAX` characters long."""
    return sys.intern(text) if len(text) <= SHARED_TEXT_MAX else text


def _count(raw: dict[str, Any], key: str) -> int:
    value = raw.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError(f"{key} must be a count, got {value!r}")
    return value


def _day(raw: dict[str, Any], key: str) -> date | None:
    # A case's notice_date or response_due: a calendar date, not a time.
    day = raw.get(key)
    if day is not None and (not isinstance(day, date) or isinstance(day, datetime)):
        raise TypeError(f"{key} must be a date such as 2026-05-31, got {day!r}")
    return day


def _history_from_toml(raw: dict[str, Any]) -> HistoryEntry:
    day = raw.get("date")
    if day is not None and not isinstance(day, date):
        raise TypeError(f"history date must be a date, got {day!r}")
    return HistoryEntry(
        date=day,
        date_text=toml_text(raw, "date_text"),
        text_en=toml_text(raw, "text_en"),
        text_es=toml_text(raw, "text_es"),
    )


def _implausible(value: object) -> TypeGuard[datetime]:
    # A USCIS date outside EARLIEST_YEAR to latest_year(), as a casewatch before issue 11
    # stored them (year 9999 read back "out of range"); such a date from USCIS is now
    # kept as its text.
    return isinstance(value, datetime) and not EARLIEST_YEAR <= value.year <= latest_year()


def _uscis_date(raw: dict[str, Any], key: str) -> tuple[datetime | None, str]:
    # A status's submitted/modified date and its text (an implausible date as its text).
    value = raw.get(key)
    if _implausible(value):
        return None, value.isoformat(sep=" ")
    return _eastern(value, key), toml_text(raw, f"{key}_text")


def _status_from_toml(raw: dict[str, Any], receipt: ReceiptNumber) -> CaseStatus:
    submitted, submitted_text = _uscis_date(raw, "submitted")
    modified, modified_text = _uscis_date(raw, "modified")
    return CaseStatus(
        receipt_number=receipt.value,
        form_type=toml_text(raw, "form_type"),
        title_en=toml_text(raw, "title_en"),
        description_en=toml_text(raw, "description_en"),
        title_es=toml_text(raw, "title_es"),
        description_es=toml_text(raw, "description_es"),
        submitted=submitted,
        modified=modified,
        history=tuple(
            _history_from_toml(entry) for entry in toml_tables(raw.get("history", []), "history")
        ),
        submitted_text=submitted_text,
        modified_text=modified_text,
        history_dropped=_count(raw, "history_dropped"),
    )


def _event_from_toml(raw: dict[str, Any]) -> ChangeEvent:
    seen_at = _eastern(raw.get("seen_at"), "seen_at")
    if seen_at is None:
        raise ValueError("an event needs seen_at, when casewatch saw the change")
    fields = raw.get("fields", [])
    if not isinstance(fields, list) or not all(isinstance(name, str) for name in fields):
        raise TypeError("fields must be a list of text")
    changed_at = raw.get("changed_at")  # USCIS's date of the change: implausible, not given
    return ChangeEvent(
        seen_at=seen_at,
        changed_at=None if _implausible(changed_at) else _eastern(changed_at, "changed_at"),
        previous_title=toml_text(raw, "previous_title"),
        title=toml_text(raw, "title"),
        fields=tuple(shared(name) for name in fields),
        first=raw.get("first") is True,
    )


def case_from_toml(raw: dict[str, Any]) -> WatchedCase:
    receipt = parse_receipt_number(toml_text(raw, "receipt_number"))
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
        label=shared(one_line_label(toml_text(raw, "label"))),
        status=None if status is None else _status_from_toml(status, receipt),
        checked_at=_eastern(raw.get("checked_at"), "checked_at"),
        answered_at=_eastern(raw.get("answered_at"), "answered_at"),
        last_error=toml_text(raw, "last_error"),
        events=tuple(
            _event_from_toml(event) for event in toml_tables(raw.get("events", []), "events")
        ),
        unseen=raw.get("unseen") is True,
        notice_date=_day(raw, "notice_date"),
        response_due=_day(raw, "response_due"),
        client=shared(one_line_label(toml_text(raw, "client"))),
        tags=_tags_from_toml(raw),
        note=clean_note(toml_text(raw, "note")),
    )


def _tags_from_toml(raw: dict[str, Any]) -> tuple[str, ...]:
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise TypeError(f'tags must be a list of text, such as ["premium", "JD"], got {tags!r}')
    return tuple(shared(tag) for tag in clean_tags(tags))
