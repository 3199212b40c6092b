"""The one place where secrets are taken out of text that came from the network.

A token URL or a proxy that echoes the request back (its form body, its headers) in an
error would otherwise put the client secret or the access token into the watchlist's
``last_error``, the log, the screen and CSV exports (issue 11, point 3). Every text from
the network that casewatch turns into a message or stores passes :func:`redact`: the
values of every :class:`~casewatch.uscis.auth.Secret` (the client secret, each access
token; they register themselves) and anything shaped like a credential
(``client_secret=…``, ``"access_token": "…"``, ``Authorization: Bearer …``) become
:data:`REDACTED`.
"""

from __future__ import annotations

import json
import re
import weakref
from collections import Counter
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"
"""What stands in for a secret."""

MIN_SECRET_CHARS = 8
"""Values shorter than this are not redacted by value (they would cut ordinary words out
of USCIS's texts); a credential shaped as ``key=value`` is redacted whatever its length."""

_VALUE = r"""(?:"[^"]*"?|'[^']*'?|[^\s"'&,;<>(){}\[\]]+)"""
# A value after a credential's key: quoted (up to the closing quote, or the end of a
# text cut short), or a bare run up to a separator.

_SHAPED = re.compile(
    r"(?P<key>(?:\b(?:client_secret|access_token|refresh_token|id_token)|(?<![\w-])"
    r"(?:proxy-)?authorization)[\"']?\s*[=:]\s*(?:(?:bearer|basic)\s+)?+)"
    rf"{_VALUE}"
    r"|(?P<scheme>\bbearer\s+)[A-Za-z0-9\-._~+/]{16,}=*",
    re.IGNORECASE,
)
# ``client_secret=…``, ``"client_secret": "…"``, ``access_token``, ``Authorization:
# Bearer …`` (a header or a JSON key), and a bare ``Bearer`` with a token-like word of
# 16 characters or more after it (an English "bearer" is followed by a short word). The
# scheme after ``Authorization`` is possessive (``?+``): ``Bearer [redacted]`` is left
# as it is, not read as the value "Bearer".

_live: Counter[str] = Counter()
# The forms of the secrets alive, each with how many live secrets have it.
_dead: list[tuple[str, ...]] = []
# The forms of secrets gone, taken out of _live at the next redaction: a finalizer may
# run amid any allocation, so it only appends here.
_pattern: re.Pattern[str] | None = None
_pattern_of: frozenset[str] = frozenset()


def register_secret(owner: object, value: str) -> None:
    """Redact ``value`` (a client secret or an access token) from every text that passes
    :func:`redact` for as long as ``owner`` (its :class:`~casewatch.uscis.auth.Secret`)
    lives: the client secret as long as the credentials, a token until a new one
    replaces it, so a dashboard that runs for weeks does not redact by thousands of old
    tokens. It is redacted as sent and as a form body or JSON carries it (URL-encoded,
    JSON-escaped). Values shorter than :data:`MIN_SECRET_CHARS` are not registered."""
    if len(value) < MIN_SECRET_CHARS:
        return
    forms = tuple({value, quote_plus(value), quote(value, safe=""), json.dumps(value)[1:-1]})
    _live.update(forms)
    weakref.finalize(owner, _dead.append, forms)


def secrets_redacted() -> int:
    """How many forms of live secrets :func:`redact` redacts by value now."""
    return len(_live_forms())


def _live_forms() -> frozenset[str]:
    while _dead:
        for form in _dead.pop():
            _live[form] -= 1
            if not _live[form]:
                del _live[form]
    return frozenset(_live)


def _known_pattern() -> re.Pattern[str] | None:
    global _pattern, _pattern_of
    forms = _live_forms()
    if forms != _pattern_of:
        longest_first = sorted(forms, key=len, reverse=True)
        _pattern = re.compile("|".join(map(re.escape, longest_first))) if forms else None
        _pattern_of = forms
    return _pattern


def redact(text: str) -> str:
    """``text`` (from the network) with every registered secret
    (:func:`register_secret`) and every credential-shaped part replaced by
    :data:`REDACTED`; the key of a ``key=value`` kept so the message still says what was
    there. Never raises."""
    if (known := _known_pattern()) is not None:
        text = known.sub(REDACTED, text)
    return _SHAPED.sub(_redact_shaped, text)


def _redact_shaped(match: re.Match[str]) -> str:
    return (match.group("key") or match.group("scheme")) + REDACTED
