"""The case domain: case status, history and stage, parsed from the API's JSON.

The payload shape and its quirks come from ``uscis-api.md`` ("Case status"): a null
history, missing dates for online (IOE) filings, unordered history, more than one date
format, HTML in descriptions and Spanish fields. A status title's stage comes from the
table in :mod:`casewatch.stages`. What is kept of an answer is bounded (issue 11, point 5):
:data:`LINE_MAX_CHARS`, :data:`TEXT_MAX_CHARS` and :data:`MAX_HISTORY_ENTRIES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

from casewatch.redact import redact
from casewatch.stages import Stage, classify_stage, normalize_title

US_EASTERN = ZoneInfo("America/New_York")

LINE_MAX_CHARS = 500
"""Characters kept of a short text of a case status: a status title, the form type, a
date casewatch cannot read, a history entry's text (USCIS's are a title or a sentence,
under 200). Longer is cut, with a note (:func:`cut_text`)."""

TEXT_MAX_CHARS = 5_000
"""Characters kept of a description (USCIS's are under 2,000). Longer is cut, with a
note (:func:`cut_text`). With :data:`LINE_MAX_CHARS` and :data:`MAX_HISTORY_ENTRIES`,
a case keeps about 300 kB at most, whatever USCIS sends."""

MAX_HISTORY_ENTRIES = 200
"""History entries kept of a case, the newest (:func:`history_order`): real histories
have a few dozen; 50,000 froze the dashboard's drawer for 20 s each time it opened
(issue 11, point 5). How many older ones were not kept is
:attr:`CaseStatus.history_dropped`."""


class PayloadError(ValueError):
    """A success response whose body is not a case status we can read."""


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment, writing links as ``text (url)``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._href: str | None = None
        self._link_start = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._link_start = len(self.parts)
        elif tag in ("br", "p", "li"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href:
            text = "".join(self.parts[self._link_start :]).strip()
            if self._href not in text:
                self.parts.append(f" ({self._href})")
            self._href = None

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def strip_html(text: str) -> str:
    """Plain text of a USCIS description: tags removed, entities decoded, links kept.

    ``'see <a href="https://uscis.gov/x">this page</a>'`` gives
    ``'see this page (https://uscis.gov/x)'``. Never raises.
    """
    if "<" not in text and "&" not in text:
        return text.strip()
    extractor = _TextExtractor()
    try:
        extractor.feed(text)
        extractor.close()
    except AssertionError:  # html.parser on a marked section it does not know: "<![x]>"
        extractor = _TextExtractor()
        extractor.feed(text.replace("<!", "&lt;!"))  # declarations read as text
        extractor.close()
    lines = ("".join(extractor.parts)).split("\n")
    return "\n".join(re.sub(r"[ \t]+", " ", line).strip() for line in lines).strip()


DATE_LAYOUTS = (
    "%m-%d-%Y %H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%Y-%m-%d",
    "%m-%d-%Y",
    "%m/%d/%Y",
    "%Y/%m/%d",
    "%B %d, %Y",
    "%b %d, %Y",
)
"""The layouts of the dates USCIS sends (``uscis-api.md``, "Case status"), for
:mod:`datetime.datetime.strptime`, tried in this order."""


EARLIEST_YEAR = 1900
"""The first year of a date casewatch reads as a date (USCIS's systems began long after;
US Eastern has kept whole-hour offsets since 1883, so every such date writes as TOML)."""


def latest_year() -> int:
    """The last year of a date casewatch reads as a date: next year (US Eastern). A date
    later than that is a USCIS placeholder or a fault, kept as the text USCIS sent."""
    return datetime.now(US_EASTERN).year + 1


def _parse_naive(value: object) -> datetime | None:
    # A plausible date (EARLIEST_YEAR to latest_year()) in one of DATE_LAYOUTS, else None:
    # the watchlist can write back and read any date this gives (issue 11, point 2).
    if not isinstance(value, str):
        return None
    text = value.strip()
    for fmt in DATE_LAYOUTS:
        try:
            moment = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return moment if EARLIEST_YEAR <= moment.year <= latest_year() else None
    return None


def parse_uscis_datetime(value: object) -> datetime | None:
    """A ``submittedDate``/``modifiedDate`` as an aware US Eastern datetime, or None.

    The API sends ``MM-DD-YYYY HH:mm:ss`` with no zone (``uscis-api.md``: treat it as
    US Eastern); other layouts and a bare date are accepted. A date before
    :data:`EARLIEST_YEAR` or after :func:`latest_year` gives None (keep USCIS's text
    instead). Never raises.
    """
    naive = _parse_naive(value)
    return None if naive is None else naive.replace(tzinfo=US_EASTERN)


def parse_uscis_date(value: object) -> date | None:
    """A history date (``YYYY-MM-DD``, ``MM-DD-YYYY``, ``MM/DD/YYYY``, ...) or None.

    Never raises: a date in a layout not listed, or outside :data:`EARLIEST_YEAR` to
    :func:`latest_year`, gives None.
    """
    naive = _parse_naive(value)
    return None if naive is None else naive.date()


def calendar_days(since: datetime, now: datetime) -> int:
    """Whole US Eastern calendar days from ``since`` to ``now`` (aware datetimes; 0 when
    ``since`` is later): the days a case has spent in its status, as the dashboard and
    the statistics count them."""
    days = (now.astimezone(US_EASTERN).date() - since.astimezone(US_EASTERN).date()).days
    return max(days, 0)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One line of USCIS's case history.

    ``date`` is the US Eastern calendar date, or None when USCIS sent a date we cannot
    read; ``date_text`` keeps what USCIS sent. Texts are plain (HTML removed).
    """

    date: date | None
    date_text: str
    text_en: str
    text_es: str = ""


def plain_meaning(text: str) -> str:
    """``text`` as a change is judged: HTML removed, entities decoded (:func:`strip_html`)
    and every run of whitespace, line breaks included, made one space."""
    return " ".join(strip_html(text).split())


def history_order(entry: HistoryEntry) -> tuple[int, str, str, str]:
    """The canonical order of history entries, as a sort key: newest date first (an
    unreadable date last, by the text USCIS sent), then by English text, then Spanish.
    USCIS sends the history in any order, and entries of one date in either order
    (``uscis-api.md``, "Case status"); this order depends on the entries alone."""
    day = entry.date or date.min
    undated = "" if entry.date else plain_meaning(entry.date_text)
    return (-day.toordinal(), undated, plain_meaning(entry.text_en), plain_meaning(entry.text_es))


@dataclass(frozen=True, slots=True)
class CaseStatus:
    """The status of one case as USCIS last reported it.

    Dates are aware datetimes in US Eastern time, None when USCIS left them out (online
    filings) or sent a date that is not a plausible one (:func:`parse_uscis_datetime`);
    ``submitted_text`` and ``modified_text`` then keep the text USCIS sent (empty when
    the date was read or left out). ``history`` is in :func:`history_order` (newest
    first), whatever order USCIS sent it in, at most :data:`MAX_HISTORY_ENTRIES` of
    them; ``history_dropped`` counts the older entries USCIS sent that were not kept.
    Descriptions keep USCIS's HTML; use :func:`strip_html` to show them. Titles are one
    line.
    """

    receipt_number: str
    form_type: str
    title_en: str
    description_en: str
    title_es: str = ""
    description_es: str = ""
    submitted: datetime | None = None
    modified: datetime | None = None
    history: tuple[HistoryEntry, ...] = field(default=())
    submitted_text: str = ""
    modified_text: str = ""
    history_dropped: int = 0

    @property
    def stage(self) -> Stage:
        """The stage of the English status title (:func:`casewatch.stages.classify_stage`)."""
        return classify_stage(self.title_en)

    def meaning(self) -> dict[str, object]:
        """What a change of status is judged on, by field name: ``title`` (as
        :func:`casewatch.stages.normalize_title` reads it: one title in other capitals or
        apostrophes, as USCIS wrote it in other years, is the same),
        ``description`` (English, as :func:`plain_meaning`) and ``history``, a sorted
        multiset of (date, text): entries of one date in another order, a null history
        and an empty one (both ``()``), HTML and whitespace are no change, and neither is
        USCIS's ``message``, which varies (``uscis-api.md``, "More facts gathered
        later"), nor a Spanish text."""
        return {
            "title": normalize_title(self.title_en),
            "description": plain_meaning(self.description_en),
            "history": tuple(sorted(history_order(entry)[:3] for entry in self.history)),
        }

    @property
    def last_changed(self) -> datetime | None:
        """When USCIS last changed the case: ``modifiedDate``, else the newest history date."""
        if self.modified is not None:
            return self.modified
        dated = [entry.date for entry in self.history if entry.date is not None]
        if not dated:
            return None
        newest = max(dated)
        return datetime(newest.year, newest.month, newest.day, tzinfo=US_EASTERN)

    def changed_on(self) -> str:
        """When USCIS last changed the case, as shown: the US Eastern date of
        :attr:`last_changed` (``YYYY-MM-DD``), else the ``modifiedDate`` text USCIS sent
        that is not a plausible date, else an empty string."""
        changed = self.last_changed
        return f"{changed:%Y-%m-%d}" if changed is not None else self.modified_text


_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"  # control characters but tab and line feed
    "\u202a-\u202e\u2066-\u2069"  # bidi embeddings, overrides and isolates
    "\u200b-\u200d\u2060\ufeff]"  # zero-width spaces, joiners, word joiner, BOM
)


def printable(text: str) -> str:
    """``text`` as casewatch stores, logs or shows a text from the network or a file:
    without control characters other than tab and line feed (an escape sequence would
    drive the terminal that shows it: set its title, clear the screen, ...), bidi
    overrides (U+202A-U+202E, U+2066-U+2069: they reorder what is shown) and zero-width
    characters (U+200B-U+200D, U+2060, U+FEFF: they hide text). The one sanitizer of
    issue 11, point 4. Never raises."""
    # All of those are unprintable to str.isprintable, which is ten times quicker than
    # the search: most texts (25 a case read from the watchlist) have none of them.
    return text if text.isprintable() else _UNPRINTABLE.sub("", text)


def one_line(text: str) -> str:
    """``text`` as :func:`printable` on one line: every run of whitespace, line breaks
    included, made one space; trimmed. For a title, a label or an error message, which
    are shown one to a line."""
    return " ".join(printable(text).split())


def cut_text(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters, else its first ``limit`` with a
    note of how long it was: ``"…… (cut: USCIS sent 250,000 characters)"``. Never
    raises."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… (cut: USCIS sent {len(text):,} characters)"


def _text(value: object, limit: int = LINE_MAX_CHARS) -> str:
    # A text of an answer as kept: printable, without secrets a server echoed
    # (casewatch.redact), at most ``limit`` characters.
    if not isinstance(value, str):
        return ""
    return cut_text(redact(printable(value)).strip(), limit)


def _unread_date(value: object, read: object) -> str:
    # USCIS's text of a date field that gave no date (``read`` is None), else "".
    return _text(value) if read is None else ""


def parse_history(raw: object) -> tuple[tuple[HistoryEntry, ...], int]:
    """USCIS's ``hist_case_status`` (a list, or null) as entries, in
    :func:`history_order`, at most the newest :data:`MAX_HISTORY_ENTRIES`; and how many
    older entries were not kept.

    Entries that are not objects are skipped; a null or missing history is empty.
    """
    if not isinstance(raw, list):
        return (), 0
    entries = sorted(
        (
            HistoryEntry(
                date=parse_uscis_date(item.get("date")),
                date_text=_text(item.get("date")),
                text_en=strip_html(_text(item.get("completed_text_en"))),
                text_es=strip_html(_text(item.get("completed_text_es"))),
            )
            for item in raw
            if isinstance(item, dict)
        ),
        key=history_order,
    )
    return tuple(entries[:MAX_HISTORY_ENTRIES]), max(0, len(entries) - MAX_HISTORY_ENTRIES)


def parse_case_status(payload: Any) -> CaseStatus:
    """Parse a ``GET /case-status/{receiptNumber}`` 200 body (already decoded JSON).

    Raises :class:`PayloadError` when the body has no ``case_status`` object with a
    receipt number and a status title. Every optional field may be missing or null.
    Texts are kept printable (:func:`printable`), without a secret a server echoed
    (:func:`casewatch.redact.redact`), and cut past :data:`LINE_MAX_CHARS` (titles,
    history texts, ...) or :data:`TEXT_MAX_CHARS` (descriptions); the history past
    :data:`MAX_HISTORY_ENTRIES` entries is counted, not kept.
    """
    if not isinstance(payload, dict) or not isinstance(payload.get("case_status"), dict):
        raise PayloadError("USCIS answered 200 but the body holds no case_status object")
    body: dict[str, Any] = payload["case_status"]
    receipt = _text(body.get("receiptNumber"))
    title = one_line(_text(body.get("current_case_status_text_en")))
    if not receipt or not title:
        raise PayloadError("USCIS answered 200 but the case status has no receipt number or title")
    submitted = parse_uscis_datetime(body.get("submittedDate"))
    modified = parse_uscis_datetime(body.get("modifiedDate"))
    history, dropped = parse_history(body.get("hist_case_status"))
    return CaseStatus(
        receipt_number=receipt.upper(),
        form_type=_text(body.get("formType")),
        title_en=title,
        description_en=_text(body.get("current_case_status_desc_en"), TEXT_MAX_CHARS),
        title_es=one_line(_text(body.get("current_case_status_text_es"))),
        description_es=_text(body.get("current_case_status_desc_es"), TEXT_MAX_CHARS),
        submitted=submitted,
        modified=modified,
        history=history,
        submitted_text=_unread_date(body.get("submittedDate"), submitted),
        modified_text=_unread_date(body.get("modifiedDate"), modified),
        history_dropped=dropped,
    )
