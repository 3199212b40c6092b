"""How the built-in sandbox behaves: ``SandboxConfig`` (rates, quota, latency, jitter,
token lifetime, hours, injected faults, evolving cases) and the fault kinds it knows."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

FAULT_KINDS: tuple[str, ...] = ("429", "500", "502", "503", "timeout", "badjson", "reset")
"""The faults ``SandboxConfig.faults`` can inject, in the fixed order in which the single
random draw of a request is mapped onto them (so the order of the mapping never matters).

- ``429``: a spike arrest the client did not earn, ``{"code": 429, "message": "Spike Arrest
  Violation"}`` (uscis-api.md: "even a short burst above that gets a 429").
- ``500``: ``{"code": 500, "message": "Internal Server Error"}`` ("403 and 500 happen too",
  a guess of uscis-api.md, with the flat body of the errors seen).
- ``502``: an HTML page from a proxy ("an HTML page ... can come from any proxy").
- ``503``: the nested, whitespace-led body of the "Errors" table.
- ``timeout``: no answer for ``fault_timeout_s`` seconds, then 504 ``Gateway Timeout``.
- ``badjson``: a 200 whose body is not JSON ("A 200 with a body that is not valid JSON has
  been seen on the sandbox").
- ``reset``: the connection is dropped without any response.
"""


@dataclass(frozen=True)
class SandboxConfig:
    """How the sandbox behaves.

    Attributes:
        client_id: the consumer key ``/oauth/accesstoken`` accepts.
        client_secret: the consumer secret it accepts.
        tps: spike arrest rate in requests per second; requests must be at least
            ``1 / tps`` seconds apart, with no burst allowance (uscis-api.md, "Hosts and
            environments": production is 10 TPS, the USCIS sandbox 5).
        daily_quota: case-status requests allowed per US Eastern calendar day (production
            150,000, the USCIS sandbox 1,000).
        latency_ms: range, in milliseconds, of the uniform random delay added to each
            case-status response; ``(0, 0)`` for none.
        jitter_ms: network jitter in milliseconds: each case-status request's arrival,
            as the spike arrest, the token check and the quota see it, is delayed by a
            uniform random 0 to ``jitter_ms`` ms (uscis-api.md, "More facts gathered
            later": requests sent 100 ms apart can arrive 90 ms apart); 0 (the
            default) for none. The arrival itself is when the request's first bytes
            reached the server (``ARRIVAL_KEY``), as a gateway judges it, so the
            sandbox's own scheduling does not count as the client's jitter.
        token_lifetime_s: seconds an access token stays valid (uscis-api.md: 30 minutes).
        synthetic: also answer for any well-formed receipt (see ``data.synthetic_case``)
            instead of the 50 staging receipts only.
        hours: keep the USCIS sandbox's hours: outside Monday to Friday 07:00-20:00 US
            Eastern (by ``clock``), every token and case-status request gets the nested 503
            of uscis-api.md ("Hosts and environments", "Errors"). Off by default.
        faults: probability (0 to 1) of each injected fault, keyed by a ``FAULT_KINDS``
            name, such as ``{"429": 0.05, "reset": 0.01}``; the probabilities add up to at
            most 1. Empty (the default): no faults. See ``app.case_status`` for when they apply.
        fault_timeout_s: seconds the ``timeout`` fault keeps a request waiting before its
            504 (default 60, longer than any sensible client timeout); the wait ends early
            when the client disconnects.
        evolve_s: every this many seconds (of the event loop's monotonic clock), move a
            random non-final known case to its next status, as ``POST
            /__sandbox/advance/{receiptNumber}`` does; ``None`` (the default): cases move
            only when asked. Known cases are the 50 staging receipts, plus, with
            ``synthetic``, every receipt answered or advanced so far.
        seed: seed of the latency, jitter, fault and evolve random streams; ``None`` for
            unpredictable ones.
        clock: wall clock in seconds since the epoch; injectable for tests. It also dates
            the moves of cases (``modifiedDate`` and the new history entry).

    Raises:
        ValueError: ``tps`` is not positive, ``daily_quota`` is negative, ``latency_ms`` is
            not ``(low, high)`` with ``0 <= low <= high``, ``jitter_ms`` is not a finite
            number of 0 or more, ``token_lifetime_s`` is below 1,
            ``faults`` names an unknown fault, has a probability outside 0..1 or adding up
            to more than 1, ``fault_timeout_s`` is negative, or ``evolve_s`` is not a
            finite number above 0; the message names the value.
    """

    client_id: str = "casewatch-demo"
    client_secret: str = "casewatch-demo-secret"
    tps: float = 10.0
    daily_quota: int = 150_000
    latency_ms: tuple[float, float] = (150.0, 400.0)
    jitter_ms: float = 0.0
    token_lifetime_s: int = 1800
    synthetic: bool = False
    hours: bool = False
    faults: Mapping[str, float] = field(default_factory=dict, hash=False)
    fault_timeout_s: float = 60.0
    evolve_s: float | None = None
    seed: int | None = None
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        if not self.tps > 0:
            raise ValueError(f"tps must be positive, got {self.tps}")
        if self.daily_quota < 0:
            raise ValueError(f"daily_quota must not be negative, got {self.daily_quota}")
        low, high = self.latency_ms
        if not 0 <= low <= high:
            raise ValueError(
                f"latency_ms must be (low, high) with 0 <= low <= high, got {low, high}"
            )
        if not (math.isfinite(self.jitter_ms) and self.jitter_ms >= 0):
            raise ValueError(f"jitter_ms must be a finite number, 0 or more, got {self.jitter_ms}")
        if self.token_lifetime_s < 1:
            raise ValueError(f"token_lifetime_s must be at least 1, got {self.token_lifetime_s}")
        if not self.fault_timeout_s >= 0:
            raise ValueError(f"fault_timeout_s must not be negative, got {self.fault_timeout_s}")
        if self.evolve_s is not None and not (math.isfinite(self.evolve_s) and self.evolve_s > 0):
            raise ValueError(f"evolve_s must be a finite number above 0, got {self.evolve_s}")
        # A read-only copy: the validated mapping cannot change behind the config's back.
        object.__setattr__(self, "faults", MappingProxyType(validate_faults(self.faults)))


def validate_faults(faults: Mapping[str, float]) -> dict[str, float]:
    """Check a fault mapping (see ``SandboxConfig.faults``); return it as ``{kind: float}``.

    Raises:
        ValueError: a key is not one of ``FAULT_KINDS``, a value is not a number from 0
            to 1, or the values add up to more than 1; the message names the culprit.
    """
    checked: dict[str, float] = {}
    for kind, probability in faults.items():
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}: the faults are {', '.join(FAULT_KINDS)}")
        if isinstance(probability, bool) or not isinstance(probability, int | float):
            raise ValueError(
                f"fault {kind!r}: probability must be a number from 0 to 1, got {probability!r}"
            )
        if not 0 <= probability <= 1:  # also refuses NaN
            raise ValueError(
                f"fault {kind!r}: probability must be from 0 to 1, got {probability!r}"
            )
        checked[kind] = float(probability)
    total = math.fsum(checked.values())
    if total > 1 + 1e-9:
        raise ValueError(
            f"fault probabilities add up to {total:g}, more than 1: "
            + ", ".join(f"{kind}={p:g}" for kind, p in checked.items())
        )
    return checked
