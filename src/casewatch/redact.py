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

_known: set[str] = set()
_known_pattern: re.Pattern[str] | None = None


def register_secret(value: str) -> None:
    """Redact ``value`` (a client secret or an access token) from every later text that
    passes :func:`redact`, as sent and as a form body or JSON would carry it (URL-encoded,
    JSON-escaped). Values shorter than :data:`MIN_SECRET_CHARS` are not registered."""
    global _known_pattern
    if len(value) < MIN_SECRET_CHARS:
        return
    forms = {value, quote_plus(value), quote(value, safe=""), json.dumps(value)[1:-1]}
    if forms <= _known:
        return
    _known.update(forms)
    longest_first = sorted(_known, key=len, reverse=True)
    _known_pattern = re.compile("|".join(map(re.escape, longest_first)))


def redact(text: str) -> str:
    """``text`` (from the network) with every registered secret
    (:func:`register_secret`) and every credential-shaped part replaced by
    :data:`REDACTED`; the key of a ``key=value`` kept so the message still says what was
    there. Never raises."""
    if _known_pattern is not None:
        text = _known_pattern.sub(REDACTED, text)
    return _SHAPED.sub(_redact_shaped, text)


def _redact_shaped(match: re.Match[str]) -> str:
    return (match.group("key") or match.group("scheme")) + REDACTED
