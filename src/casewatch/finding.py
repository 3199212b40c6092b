"""Finding cases as a person types them (issue 13, point 8; issue 14, point 2): several
words must all match, accents and case are ignored, and so are the separators people put
in receipt numbers, form types and names ("MSC-25-906" finds MSC2590612345, "i485"
finds I-485, "garcía" finds Garcia). A case is found by its receipt number, label,
client, tags, note, form type, status titles (English and Spanish), stage and the error
of its last check. No Textual here: the dashboard's find uses it, and so could the verbs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from casewatch.uscis.errors import ReceiptNotRecognized
from casewatch.watchlist import WatchedCase

NOT_RECOGNIZED = "not recognized"
"""What casewatch calls a case USCIS does not recognize (HTTP 404, ``uscis-api.md``
"Errors": also what protected cases and staging receipts in production answer)."""

_JOINERS = re.compile(r"[-\u2010-\u2015./_#'\u2019]")
"""Characters that join the parts of one word: the dashes and dots of receipt numbers
and form types ("MSC-25-906", "I-485", "N.Y."), apostrophes of names ("O'Brien")."""

_BREAKS = re.compile(r"\W+")
"""Anything else that is not a letter or a digit separates words."""

COMBINING_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
"""The combining diacritical marks (Unicode's five blocks of them), dropped once a text
is decomposed (NFKD): "í" is "i" and a combining acute accent."""

_LETTERS = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ħ": "h", "\u0131": "i", "æ": "ae", "œ": "oe"}  # dotless i
)
"""Letters that Unicode does not decompose into a base letter and an accent."""


def normalize(text: str) -> str:
    """``text`` as find compares it: case folded, accents dropped (``unicodedata``'s
    NFKD decomposition without its :data:`COMBINING_MARKS`, and :data:`_LETTERS`), the
    joiners of a word removed (:data:`_JOINERS`), and every other run of non-letters one
    space. ``normalize("García, María (I-485)") == "garcia maria i485"``."""
    folded = text.casefold()
    if not folded.isascii():  # decomposing may give capitals ("㏗"): folded once more
        decomposed = unicodedata.normalize("NFKD", folded).casefold()
        folded = COMBINING_MARKS.sub("", decomposed).translate(_LETTERS)
    return _BREAKS.sub(" ", _JOINERS.sub("", folded)).strip()


@dataclass(frozen=True, slots=True)
class Query:
    """What the user typed to find: ``words``, each :func:`normalize`-d, and ``symbols``,
    the typed words that have no letter nor digit (``[/]``, ``#``), case folded and
    matched as typed. A case is found when it holds every one; an empty query finds
    every case."""

    words: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.words or self.symbols)


def parse_query(text: str) -> Query:
    """The :class:`Query` of ``text``, split at whitespace."""
    words: list[str] = []
    symbols: list[str] = []
    for typed in text.split():
        normalized = normalize(typed)
        if normalized:
            words += normalized.split()
        else:
            symbols.append(typed.casefold())
    return Query(tuple(words), tuple(symbols))


def is_not_recognized(case: WatchedCase) -> bool:
    """Whether the last check of ``case`` failed because USCIS does not recognize its
    receipt number (:class:`ReceiptNotRecognized`, HTTP 404)."""
    return case.last_error.startswith(ReceiptNotRecognized.summary)


def search_fields(case: WatchedCase) -> list[str]:
    """Everything find matches in ``case``: receipt number, label, client, tags, note,
    form type, status titles, stage, the error of the last check and, for a case USCIS
    does not recognize, :data:`NOT_RECOGNIZED`."""
    fields = [case.receipt_number.value, case.label, case.client, *case.tags, case.note]
    status = case.status
    if status is not None:
        fields += [status.form_type, status.title_en, status.title_es, status.stage.value]
    if case.last_error:
        fields.append(case.last_error)
        if is_not_recognized(case):
            fields.append(NOT_RECOGNIZED)
    return fields


_normalized_field = lru_cache(maxsize=4096)(normalize)
""":func:`normalize` of the fields that many cases share (status titles, form types,
stages, clients, tags), made once."""


def search_text(case: WatchedCase) -> str:
    """The :func:`search_fields` of ``case``, :func:`normalize`-d into one line."""
    return " ".join(filter(None, map(_normalized_field, search_fields(case))))


class SearchTexts:
    """The :func:`search_text` of each case, made once per version of the case: cases are
    immutable and replaced when anything about them changes, so an entry is reused while
    it belongs to the very case object asked about. Finding among 10,000 cases then costs
    a dictionary look-up and a substring test per case and word, not a normalization of
    each field at each key typed."""

    def __init__(self) -> None:
        self._texts: dict[str, tuple[WatchedCase, str]] = {}

    def __call__(self, case: WatchedCase) -> str:
        """The search text of ``case``."""
        key = case.receipt_number.value
        known = self._texts.get(key)
        if known is not None and known[0] is case:
            return known[1]
        text = search_text(case)
        self._texts[key] = (case, text)
        return text

    def select(self, query: Query, cases: Iterable[WatchedCase]) -> list[WatchedCase]:
        """The ``cases`` that hold every word and symbol of ``query``, in their order.
        One loop with the cache at hand: this runs over every case at each key typed."""
        texts, words, symbols = self._texts, query.words, query.symbols
        selected = []
        for case in cases:
            known = texts.get(case.receipt_number.value)
            text = known[1] if known is not None and known[0] is case else self(case)
            for word in words:
                if word not in text:
                    break
            else:
                if symbols:  # rare: looked for as typed, in the fields
                    fields = "\n".join(search_fields(case)).casefold()
                    if not all(symbol in fields for symbol in symbols):
                        continue
                selected.append(case)
        return selected
