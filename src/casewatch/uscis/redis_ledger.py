"""The request ledger in Redis: shared by every machine that runs casewatch with one API
key (issue 16). A firm gives one set of production credentials to every paralegal; with
a ledger per laptop they would together send faster than the spike arrest allows and
spend the daily quota without seeing each other.

Each step is one Lua script, run atomically by Redis (the claim of the next send slot
among them), with the policy of :class:`~casewatch.uscis.ledger.LedgerPolicy` as the
file ledger applies it (:mod:`casewatch.uscis.file_ledger`). Times are Redis's own clock
(``TIME``), so machines whose clocks disagree still space their sends by one clock; they
are translated to this machine's clock on the way out. The state is a hash under
``{key}`` and the last send a string under ``{key}:send``, the key naming the
environment, the host and the client id.

Redis that cannot be reached raises :class:`RedisUnavailable`: casewatch then sends
nothing (never unspaced); the next pass tries the connection again. The password (from
the URL or ``CASEWATCH_REDIS_PASSWORD``) is a :class:`~casewatch.uscis.auth.Secret`:
never in a message, a log or :attr:`RedisLedger.where`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import redis

from casewatch.redact import redact
from casewatch.uscis.auth import Secret
from casewatch.uscis.ledger import (
    LedgerPolicy,
    LedgerState,
    RedisUnavailable,
    Reservation,
    public_url,
    redis_where,
)

SOCKET_TIMEOUT_S = 2.0
"""Seconds to wait for Redis to connect, and for each answer, before it counts as
unreachable: a send never waits longer than this on a ledger that is gone."""

_T = TypeVar("_T")

_PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local function fmt(x) return string.format('%.6f', x) end
"""

_BOUND = """
local function bound(m, low, high) return math.min(high, math.max(low, m)) end
local function margin(raw, initial, low, high)
  local m = tonumber(raw)
  if m == nil then return initial end
  return bound(m, low, high)
end
"""

# KEYS[1] state; ARGV day, quota, kept, base interval, initial, min, max margin, narrow.
_RESERVE = (
    _PRELUDE
    + _BOUND
    + """
local day, quota, kept = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local base, initial, low, high, narrow =
  tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local s = redis.call('HMGET', KEYS[1], 'day', 'used', 'next_slot', 'hold_until',
  'spacing_margin_s')
local used = 0
if s[1] == day then used = tonumber(s[2]) or 0 end
local m = margin(s[5], initial, low, high)
local left = quota - used
if left <= 0 or (kept > 0 and left <= kept) then
  return {'', tostring(used), fmt(m), fmt(now)}
end
local slot = math.max(now, tonumber(s[3]) or now, tonumber(s[4]) or now)
m = bound(m - narrow, low, high)
redis.call('HSET', KEYS[1], 'day', day, 'used', used + 1, 'spacing_margin_s', fmt(m),
  'next_slot', fmt(slot + base + m))
return {fmt(slot), tostring(used + 1), fmt(m), fmt(now)}
"""
)

# KEYS[1] the last send; ARGV interval, wake noise.
_CLAIM_SEND = (
    _PRELUDE
    + """
local interval, noise = tonumber(ARGV[1]), tonumber(ARGV[2])
local last = tonumber(redis.call('GET', KEYS[1]))
local earliest = now
if last ~= nil then earliest = last + interval end
if now < earliest then return fmt(earliest - now) end
redis.call('SET', KEYS[1], fmt(math.max(earliest, now - noise)))
return '0'
"""
)

# KEYS[1] the last send; ARGV allowance.
_MARK_WRITTEN = (
    _PRELUDE
    + """
local written = now - tonumber(ARGV[1])
local last = tonumber(redis.call('GET', KEYS[1]))
if last == nil or last < written then redis.call('SET', KEYS[1], fmt(written)) end
return '0'
"""
)

# KEYS[1] state; ARGV initial, min, max margin, widen.
_WIDEN = (
    _PRELUDE
    + _BOUND
    + """
local initial, low, high, widen =
  tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local m = bound(margin(redis.call('HGET', KEYS[1], 'spacing_margin_s'), initial, low, high)
  + widen, low, high)
redis.call('HSET', KEYS[1], 'spacing_margin_s', fmt(m), 'last_spike_arrest', fmt(now))
return fmt(m)
"""
)

# KEYS[1] state; ARGV seconds, longest hold.
_HOLD = (
    _PRELUDE
    + """
local seconds, longest = tonumber(ARGV[1]), tonumber(ARGV[2])
local hold_until = now + math.min(seconds, longest)
if hold_until > (tonumber(redis.call('HGET', KEYS[1], 'hold_until')) or 0) then
  redis.call('HSET', KEYS[1], 'hold_until', fmt(hold_until))
end
redis.call('HSET', KEYS[1], 'last_retry_after', fmt(now), 'last_retry_after_s', fmt(seconds))
return '0'
"""
)

_TIMES = ("next_slot", "hold_until", "last_spike_arrest", "last_retry_after")
"""The state's Unix times, kept on Redis's clock and translated to this machine's."""


class RedisLedger:
    """The ledger under ``key`` in the Redis server at ``url``
    (:class:`~casewatch.uscis.ledger.LedgerStore`); ``password`` is used when the URL
    has none. ``clock`` gives this machine's Unix time in seconds (to translate Redis's
    times). Connects on first use; raises :class:`RedisUnavailable` from any method when
    Redis cannot be used, after :data:`SOCKET_TIMEOUT_S` seconds at most per try."""

    def __init__(
        self,
        url: str,
        key: str,
        *,
        password: Secret | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.where = redis_where(url)
        self.key = key
        self._send_key = f"{key}:send"
        self._clock = clock
        in_url = urlsplit(url).password
        self._password = Secret(in_url) if in_url else password
        self._redis = redis.Redis.from_url(
            public_url(url),
            password=self._password.reveal() if self._password else None,
            socket_timeout=SOCKET_TIMEOUT_S,
            socket_connect_timeout=SOCKET_TIMEOUT_S,
            decode_responses=True,
        )
        self._scripts = {
            name: self._redis.register_script(text)
            for name, text in (
                ("reserve", _RESERVE),
                ("claim_send", _CLAIM_SEND),
                ("mark_written", _MARK_WRITTEN),
                ("widen", _WIDEN),
                ("hold", _HOLD),
            )
        }

    def _guarded(self, step: Callable[[], _T]) -> _T:
        try:
            return step()
        except redis.RedisError as exc:
            raise RedisUnavailable(
                f"cannot use the shared request ledger ({self.where}): "
                f"{redact(str(exc)) or type(exc).__name__}; casewatch sends nothing until "
                "Redis answers again"
            ) from None

    def _run(self, name: str, keys: list[str], *args: str | float) -> tuple[Any, float]:
        # The script's answer, and this machine's time in the middle of the call (when
        # the script read Redis's clock, give or take half a round trip).
        before = self._clock()
        answer = self._guarded(lambda: self._scripts[name](keys=keys, args=list(args)))
        return answer, before + (self._clock() - before) / 2

    def read(self, now: float) -> LedgerState:
        """See :meth:`LedgerStore.read`."""

        def step() -> tuple[dict[str, str], list[str]]:
            pipeline = self._redis.pipeline(transaction=False)
            pipeline.hgetall(self.key)
            pipeline.time()
            raw, (seconds, micros) = pipeline.execute()
            return raw, [seconds, micros]

        before = self._clock()
        raw, (seconds, micros) = self._guarded(step)
        offset = int(seconds) + int(micros) / 1e6 - (before + self._clock()) / 2
        state: dict[str, Any] = {}
        for name, value in raw.items():
            try:
                state[name] = value if name == "day" else float(value)
            except ValueError:
                continue
        if "used" in state:
            state["used"] = int(state["used"])
        for name in _TIMES:
            if name in state:
                state[name] -= offset
        return state  # type: ignore[return-value]

    def reserve(self, policy: LedgerPolicy, day: str, kept: int, now: float) -> Reservation:
        """See :meth:`LedgerStore.reserve`."""
        (slot, used, margin, redis_now), local = self._run(
            "reserve",
            [self.key],
            day,
            policy.daily_quota,
            kept,
            policy.base_interval_s,
            policy.initial_margin_s,
            policy.min_margin_s,
            policy.max_margin_s,
            policy.narrow_s,
        )
        at = None if slot == "" else local + float(slot) - float(redis_now)
        return Reservation(at, int(used), float(margin))

    def claim_send(self, policy: LedgerPolicy, interval_s: float, now: float) -> float:
        """See :meth:`LedgerStore.claim_send`."""
        delay, _ = self._run("claim_send", [self._send_key], interval_s, policy.wake_noise_s)
        return float(delay)

    def mark_written(self, allowance_s: float, now: float) -> None:
        """See :meth:`LedgerStore.mark_written`."""
        self._run("mark_written", [self._send_key], allowance_s)

    def widen(self, policy: LedgerPolicy, now: float) -> float:
        """See :meth:`LedgerStore.widen`."""
        margin, _ = self._run(
            "widen",
            [self.key],
            policy.initial_margin_s,
            policy.min_margin_s,
            policy.max_margin_s,
            policy.widen_s,
        )
        return float(margin)

    def hold(self, policy: LedgerPolicy, seconds: float, now: float) -> None:
        """See :meth:`LedgerStore.hold`."""
        self._run("hold", [self.key], seconds, policy.max_hold_s)
