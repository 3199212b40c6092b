"""OAuth 2.0 client credentials for the USCIS API, as an :class:`httpx.Auth`.

Rules from ``uscis-api.md`` ("Authentication"): a form-encoded POST with
``grant_type=client_credentials``, the client id and the client secret (HTTP Basic is
refused); an Apigee-style answer whose values are all strings; tokens live 30 minutes
(``expires_in`` "1799"), ``issued_at`` is in milliseconds; no refresh token.

Expiry is measured on this machine's clock from the moment the token was requested:
``issued_at`` is USCIS's clock, and a skew between the two must not make every request
fetch a new token.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass

import httpx

from casewatch.redact import register_secret
from casewatch.uscis.errors import (
    AuthenticationError,
    BadResponse,
    NestingTooDeep,
    UnexpectedAnswer,
    decode_json,
    error_from_response,
    parse_error_body,
)

RENEW_BEFORE_S = 60.0
"""Seconds before expiry at which a token is renewed (a tenth of its life if shorter, but
never less than :data:`LAST_LEG_S`)."""

LAST_LEG_S = 1.0
"""Seconds a token must still live when it is chosen, for the last leg of the request:
from its choice, after the wait for the send slot, to its arrival at USCIS (the claim of
the send, a new connection, the network). USCIS checks the token on arrival
(``uscis-api.md``, "More facts gathered later")."""

MAX_TRIES = 2
"""Tries of one request at most: the first, and one retry with a new token after a 401."""


class Secret:
    """A string that never shows itself in a repr, a str, a log or a traceback, nor in
    a text from the network that echoes it back while it lives (it registers itself
    with :func:`casewatch.redact.register_secret`)."""

    __slots__ = ("__weakref__", "_value")

    def __init__(self, value: str) -> None:
        self._value = value
        register_secret(self, value)

    def reveal(self) -> str:
        """The secret itself, for the one place that must send it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class Credentials:
    """A USCIS developer app's consumer key (client id) and consumer secret."""

    client_id: str
    client_secret: Secret


@dataclass(frozen=True, slots=True)
class _Token:
    value: Secret
    renew_at: float


class ClientCredentialsAuth(httpx.Auth):
    """Adds ``Authorization: Bearer <token>`` to every request, fetching the token once
    and reusing it until shortly before it expires.

    ``wait_to_send`` is awaited for each try before its token is chosen: the wait for
    the send slot (:class:`~casewatch.uscis.client.CaseStatusClient` gives the rate
    limiter's). So the token is chosen when the request is about to be written, never
    before a wait in which it could expire (the first token is fetched before the wait
    too, so that refused credentials spend no slot); a token with less than
    ``min(RENEW_BEFORE_S, a tenth of its life)``, and never less than
    :data:`LAST_LEG_S` seconds, left is renewed first. However many requests need a
    token at once, one token request is made.

    A 401 gets one retry with a new token; a second 401 gives the 401 back
    (:data:`MAX_TRIES`). A token request refused with a 4xx raises
    :class:`AuthenticationError`, and so does every later request without asking again
    (no retry storm): the credentials must be fixed. A 429 or 5xx of the token URL
    raises the typed error of :func:`error_from_response`. ``clock`` gives Unix time in
    seconds; ``timeout_s`` bounds the token request's connection and each of its reads,
    in seconds (None: no bound), as the client's timeout bounds other requests.
    """

    def __init__(
        self,
        token_url: str,
        credentials: Credentials,
        *,
        wait_to_send: Callable[[httpx.Request], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.time,
        timeout_s: float | None = None,
    ) -> None:
        self.token_url = token_url
        self._timeout = httpx.Timeout(timeout_s).as_dict()
        self._credentials = credentials
        self._wait_to_send = wait_to_send
        self._clock = clock
        self._token = _Token(Secret(""), renew_at=0.0)  # expired: the first request fetches
        self._lock = asyncio.Lock()
        self.tokens_fetched = 0
        self._refused: AuthenticationError | None = None

    def token_request(self) -> httpx.Request:
        """The token request for these credentials (``POST`` to :attr:`token_url`)."""
        return httpx.Request(
            "POST",
            self.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": self._credentials.client_id,
                "client_secret": self._credentials.client_secret.reveal(),
            },
            extensions={"timeout": self._timeout},
        )

    def _store(self, response: httpx.Response, requested_at: float) -> _Token:
        status = response.status_code
        if status == 429 or status >= 500:
            raise error_from_response(status, response.content)
        if status != 200:
            code, message = parse_error_body(response.content)
            self._refused = AuthenticationError(
                message or f"the token request answered HTTP {status}", status=status, code=code
            )
            raise self._refused
        try:
            data = decode_json(response.content)
            access_token = str(data["access_token"])
            lifetime = float(data["expires_in"])
        except NestingTooDeep as exc:
            raise UnexpectedAnswer(f"the token response is {exc}", status=status) from None
        except (ValueError, KeyError, TypeError) as exc:
            raise BadResponse("the token response has no access_token/expires_in") from exc
        expires_at = requested_at + lifetime
        margin = max(min(RENEW_BEFORE_S, lifetime / 10), LAST_LEG_S)
        self.tokens_fetched += 1
        return _Token(Secret(access_token), expires_at - margin)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        refused: _Token | None = None
        for _ in range(MAX_TRIES):
            # The token is looked at twice: before the wait for the send slot, so that
            # refused credentials or a failing token URL spend no slot (nothing is sent,
            # nothing counted against the quota), and after it, so that the token sent
            # is chosen as the request is about to be written.
            for waited in (False, True):
                if waited and self._wait_to_send is not None:
                    await self._wait_to_send(request)
                async with self._lock:
                    if self._refused is not None:  # a fresh copy: no traceback piles up
                        known = self._refused
                        raise AuthenticationError(
                            known.message, status=known.status, code=known.code
                        )
                    if self._token is refused or self._clock() >= self._token.renew_at:
                        requested_at = self._clock()
                        token_response = yield self.token_request()
                        await token_response.aread()
                        self._token = self._store(token_response, requested_at)
                    token = self._token
            request.headers["Authorization"] = f"Bearer {token.value.reveal()}"
            response = yield request
            if response.status_code != 401:
                return
            refused = token

    def sync_auth_flow(self, request: httpx.Request) -> None:  # type: ignore[override]
        raise RuntimeError("ClientCredentialsAuth works with httpx.AsyncClient only")
