"""Where the request ledger lives: what :class:`~casewatch.uscis.limits.RateLimiter`
asks of it, whatever keeps it.

The ledger is the state every casewatch sharing one API key shares: the requests counted
on the current US Eastern day, the next free send slot, the learned spacing margin,
the hold USCIS asked for with ``Retry-After``, and the last send of any process. Two
stores keep it: a file in the user state directory
(:class:`~casewatch.uscis.file_ledger.FileLedger`, the default: the processes of one
machine) and Redis (:class:`~casewatch.uscis.redis_ledger.RedisLedger`: the machines of
a firm, issue 16). Each applies the same :class:`LedgerPolicy`, atomically: under a file
lock, or in one Lua script. Times given to and returned by a store are Unix times in
seconds on this machine's clock; a store whose own clock is another's (Redis) translates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, Protocol, TypedDict
from urllib.parse import urlsplit

REDIS_SCHEMES = ("redis", "rediss")
"""The URL schemes of ``limits_url``: Redis over TCP, and over TLS."""


class LedgerError(OSError):
    """The request ledger (the shared state file, or Redis) cannot be read or written."""


class RedisUnavailable(LedgerError):
    """Redis, where the shared request ledger lives, cannot be reached or refused casewatch
    (a wrong password, a full server): nothing is sent until it is back."""


class LedgerState(TypedDict, total=False):
    """The ledger's shared state. Every key may be missing: a new ledger, or one written
    by an older casewatch.

    - ``day`` and ``used``: the US Eastern date and the requests counted on it;
    - ``next_slot``: Unix time (seconds) of the next free send slot;
    - ``spacing_margin_s``: the learned spacing margin (seconds added to 1/TPS between
      two sends), widened on each spike arrest and narrowed slowly while none come;
    - ``hold_until``: Unix time (seconds) before which no request may be sent, because
      USCIS asked so with ``Retry-After`` (``uscis-api.md``, "More facts gathered later");
    - ``last_spike_arrest``, ``last_retry_after`` (Unix times, seconds) and
      ``last_retry_after_s`` (the seconds USCIS asked for): the last of each, for
      ``casewatch diagnose``.
    """

    day: str
    used: int
    next_slot: float
    spacing_margin_s: float
    hold_until: float
    last_spike_arrest: float
    last_retry_after: float
    last_retry_after_s: float


def number(state: LedgerState, key: str) -> float | None:
    """The finite number under ``key`` of ``state``, or None (missing, or not a number)."""
    value = state.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


@dataclass(frozen=True, slots=True)
class LedgerPolicy:
    """The rules every store applies alike. ``base_interval_s`` is 1/TPS (seconds);
    the margin (seconds) starts at ``initial_margin_s``, stays within ``min_margin_s``
    and ``max_margin_s``, narrows by ``narrow_s`` with each reservation and widens by
    ``widen_s`` with each spike arrest; ``daily_quota`` is in requests per US Eastern
    day; a send up to ``wake_noise_s`` late is recorded as if on time; a hold lasts at
    most ``max_hold_s``. Source: ``uscis-api.md`` (spike arrest, quota, Retry-After)."""

    base_interval_s: float
    daily_quota: int
    initial_margin_s: float
    min_margin_s: float
    max_margin_s: float
    narrow_s: float
    widen_s: float
    wake_noise_s: float
    max_hold_s: float

    def bounded(self, margin: float) -> float:
        """``margin`` (seconds) brought within the policy's bounds."""
        return min(self.max_margin_s, max(self.min_margin_s, margin))

    def margin_of(self, state: LedgerState) -> float:
        """The learned margin recorded in ``state``, or the initial one (seconds)."""
        margin = number(state, "spacing_margin_s")
        return self.initial_margin_s if margin is None else self.bounded(margin)


class Reservation(NamedTuple):
    """What a reservation got: the send ``slot`` (Unix time, seconds), or None when the
    quota (or the reserve kept for manual checks) refused it; ``used``, the requests
    counted today with it; ``margin_s``, the spacing margin after it (seconds)."""

    slot: float | None
    used: int
    margin_s: float


class LedgerStore(Protocol):
    """A place the ledger lives. Every method is atomic across every process sharing
    the store, and raises :class:`LedgerError` when the store cannot be used."""

    where: str
    """What to call the store in a message: a file's path, or a Redis URL without its
    password."""

    def read(self, now: float) -> LedgerState:
        """The ledger's state, times on this machine's clock; ``{}`` for a new ledger."""
        ...

    def reserve(self, policy: LedgerPolicy, day: str, kept: int, now: float) -> Reservation:
        """Count one request on US Eastern date ``day`` and reserve the next send slot
        (never before a hold), unless the quota has no more than ``kept`` requests left
        (or none); narrow the margin by ``policy.narrow_s``."""
        ...

    def claim_send(self, policy: LedgerPolicy, interval_s: float, now: float) -> float:
        """0 when ``interval_s`` seconds have passed since the last send of any process
        (this send is then recorded as the last, forgiving ``policy.wake_noise_s`` of
        lateness); else the seconds still to wait."""
        ...

    def mark_written(self, allowance_s: float, now: float) -> None:
        """Record the last send at ``now - allowance_s`` if it is later than recorded."""
        ...

    def widen(self, policy: LedgerPolicy, now: float) -> float:
        """A spike arrest at ``now``: widen the margin by ``policy.widen_s``; returns it."""
        ...

    def hold(self, policy: LedgerPolicy, seconds: float, now: float) -> None:
        """USCIS asked at ``now`` that nothing be sent for ``seconds`` (at most
        ``policy.max_hold_s``); a shorter hold never cuts a longer one."""
        ...


def check_limits_url(url: str) -> str:
    """``url`` if it names a Redis server (``redis://host:6379/0``, or ``rediss://`` for
    TLS). Raises :class:`ValueError` saying what is wrong, with an example."""
    parts = urlsplit(url)
    if parts.scheme not in REDIS_SCHEMES or not parts.hostname:
        raise ValueError(
            f"limits_url must be a Redis URL such as redis://ledger.example.internal:6379/0 "
            f"(rediss:// for TLS), got {public_url(url)!r}"
        )
    return url


def public_url(url: str) -> str:
    """``url`` without the password of its userinfo, fit for a message (the user name
    stays: it says which account)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}@" if parts.username else ""
    host = parts.hostname or ""
    netloc = f"{user}{host}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


def redis_where(url: str) -> str:
    """How a message names the Redis server at ``url``: ``Redis at redis://host:6379/0``,
    without the password (:func:`public_url`)."""
    return f"Redis at {public_url(url)}"
