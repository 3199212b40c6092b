"""Command-line options of ``casewatch sandbox``, and the ``SandboxConfig`` they make.

``add_sandbox_arguments`` adds every option to a parser; ``sandbox_config_from_arguments``
turns the parsed namespace into a ``SandboxConfig`` (``--host`` and ``--port`` are for
``serve``). Every check happens while parsing: a bad value is an argparse error (usage,
a message naming the option, what is wrong and what to give instead, exit status 2),
never a traceback. The defaults are those of production (uscis-api.md, "Hosts and
environments"): 10 TPS, 150,000 requests a day, tokens of 30 minutes.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from casewatch.argtypes import positive_float, whole
from casewatch.config import is_loopback_host
from casewatch.sandbox.config import FAULT_KINDS, SandboxConfig, validate_faults

__all__ = ["add_sandbox_arguments", "sandbox_config_from_arguments"]

_FAULTS_EXAMPLE = "429=0.05,500=0.05,503=0.02,timeout=0.02,badjson=0.01,reset=0.01"


def _loopback_host(text: str) -> str:
    if not is_loopback_host(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a loopback host: the sandbox serves on loopback only; give "
            "127.0.0.1, ::1 or localhost"
        )
    return text


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a port: give a whole number from 0 to 65535 (0 picks a free one)"
        ) from None
    if not 0 <= port <= 65_535:
        raise argparse.ArgumentTypeError(
            f"{port} is out of range: give a port from 0 to 65535 (0 picks a free one)"
        )
    return port


def _amount(unit: str, example: str) -> Callable[[str], float]:
    """A converter to a finite number of ``unit`` (for the message), 0 or more."""

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a number of {unit}: give 0 or more, such as {example}"
            ) from None
        if not (math.isfinite(value) and value >= 0):
            raise argparse.ArgumentTypeError(
                f"{text!r} must be a finite number of {unit}, 0 or more"
            )
        return value

    return convert


_seconds = _amount("seconds", "60 or 0.5")
_milliseconds = _amount("milliseconds", "10")


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number: give an integer, such as 42"
        ) from None


def _latency_range(text: str) -> tuple[float, float]:
    low_text, dash, high_text = text.strip().partition("-")
    try:
        low = float(low_text)
        high = float(high_text) if dash else low
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a latency: give milliseconds, such as 300, or a range LOW-HIGH, "
            "such as 150-400"
        ) from None
    if not (math.isfinite(low) and math.isfinite(high) and 0 <= low <= high):
        raise argparse.ArgumentTypeError(
            f"{text!r}: give finite milliseconds with 0 <= LOW <= HIGH, such as 150-400"
        )
    return low, high


def _probability(kind: str, text: str, part: str) -> float:
    percent = text.endswith("%")
    try:
        value = float(text[:-1] if percent else text)
    except ValueError:
        value = math.nan
    if percent:
        value /= 100
    if not 0 <= value <= 1:  # also refuses NaN
        raise argparse.ArgumentTypeError(
            f"{part!r}: the probability of {kind} must be a number from 0 to 1 (or a "
            "percentage), such as 0.05 or 5%"
        )
    return value


def _faults(text: str) -> dict[str, float]:
    """Parse ``KIND=PROBABILITY[,KIND=PROBABILITY...]``; empty or ``none`` for no faults."""
    if text.strip().lower() in ("", "none"):
        return {}
    faults: dict[str, float] = {}
    for raw_part in text.split(","):
        part = raw_part.strip()
        kind, equals, value = (piece.strip() for piece in part.partition("="))
        if not equals or not kind or not value:
            raise argparse.ArgumentTypeError(
                f"{part!r} is not KIND=PROBABILITY: give comma-separated pairs, such as "
                f"{_FAULTS_EXAMPLE}"
            )
        if kind not in FAULT_KINDS:
            raise argparse.ArgumentTypeError(
                f"unknown fault {kind!r} in {part!r}: the faults are {', '.join(FAULT_KINDS)}"
            )
        if kind in faults:
            raise argparse.ArgumentTypeError(f"fault {kind!r} is given twice in {text!r}")
        faults[kind] = _probability(kind, value, part)
    try:
        return validate_faults(faults)
    except ValueError as exc:  # the sum is above 1
        raise argparse.ArgumentTypeError(f"{exc}; lower some of them") from None


def _nonempty(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty: leave the option out for the default")
    return text


def add_sandbox_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``casewatch sandbox`` to ``parser``.

    Destinations: ``host``, ``port`` (for ``serve``), then ``tps``, ``daily_quota``,
    ``latency_ms`` (a ``(low, high)`` tuple in milliseconds), ``jitter_ms``
    (milliseconds), ``token_lifetime``
    (seconds), ``hours``, ``faults`` (``{kind: probability}``), ``fault_timeout``
    (seconds), ``synthetic``, ``evolve`` (seconds, or ``None`` for off), ``seed``,
    ``client_id`` and ``client_secret`` (``None``: the ``SandboxConfig`` default), read by
    ``sandbox_config_from_arguments``.
    """
    defaults = SandboxConfig()
    parser.add_argument(
        "--host",
        type=_loopback_host,
        default="127.0.0.1",
        help="loopback address to listen on: 127.0.0.1 (default), ::1 or localhost",
    )
    parser.add_argument(
        "--port", type=_port, default=8765, help="TCP port (default: 8765; 0 picks a free one)"
    )
    parser.add_argument(
        "--tps",
        type=positive_float,
        default=defaults.tps,
        metavar="N",
        help="spike arrest: requests per second, evenly spaced, no burst (default: "
        f"{defaults.tps:g}, as production; the USCIS sandbox allows 5)",
    )
    parser.add_argument(
        "--daily-quota",
        type=whole(1, "a number of requests"),
        default=defaults.daily_quota,
        metavar="N",
        help="case-status requests per US Eastern day (default: "
        f"{defaults.daily_quota}; the USCIS sandbox allows 1000)",
    )
    low, high = defaults.latency_ms
    parser.add_argument(
        "--latency-ms",
        type=_latency_range,
        default=defaults.latency_ms,
        metavar="MS",
        help="added latency in milliseconds: 300, or a range such as 150-400 (default: "
        f"{low:g}-{high:g}; 0 for none)",
    )
    parser.add_argument(
        "--jitter-ms",
        type=_milliseconds,
        default=defaults.jitter_ms,
        metavar="MS",
        help="network jitter: delay each request's arrival, as the spike arrest sees it, by "
        "a random 0 to MS milliseconds, as over the Internet (default: 0, none)",
    )
    parser.add_argument(
        "--token-lifetime",
        type=whole(1, "seconds"),
        default=defaults.token_lifetime_s,
        metavar="SECONDS",
        help=f"access token lifetime in seconds (default: {defaults.token_lifetime_s})",
    )
    parser.add_argument(
        "--hours",
        action="store_true",
        help="keep the USCIS sandbox's hours: outside Mon-Fri 07:00-20:00 US Eastern every "
        "request gets 503",
    )
    parser.add_argument(
        "--faults",
        type=_faults,
        default={},
        metavar="KIND=P,...",
        help="inject faults with these probabilities (0 to 1, adding up to at most 1), such "
        f"as 429=0.05,reset=0.01; kinds: {', '.join(FAULT_KINDS)} (default: none)",
    )
    parser.add_argument(
        "--fault-timeout",
        type=_seconds,
        default=defaults.fault_timeout_s,
        metavar="SECONDS",
        help="how long the timeout fault keeps a request waiting before its 504 (default: "
        f"{defaults.fault_timeout_s:g})",
    )
    parser.add_argument(
        "--synthetic",
        action="store_true",
        help="answer for any well-formed receipt, not only the 50 staging receipts",
    )
    parser.add_argument(
        "--evolve",
        type=positive_float,
        default=None,
        metavar="SECONDS",
        help="every SECONDS, move a random known case to a plausible next status, so that "
        "change alerts show (default: off; POST /__sandbox/advance/RECEIPT moves one on "
        "demand)",
    )
    parser.add_argument(
        "--seed",
        type=_integer,
        default=None,
        help="seed of the latency, fault and evolve random streams, for repeatable runs",
    )
    parser.add_argument(
        "--client-id",
        type=_nonempty,
        default=None,
        help=f"client id the sandbox accepts (default: {defaults.client_id})",
    )
    parser.add_argument(
        "--client-secret",
        type=_nonempty,
        default=None,
        help=f"client secret the sandbox accepts (default: {defaults.client_secret})",
    )


def sandbox_config_from_arguments(args: argparse.Namespace) -> SandboxConfig:
    """The ``SandboxConfig`` of arguments parsed by a parser given ``add_sandbox_arguments``.

    Raises:
        ValueError: only for a namespace that did not come from such a parser (the parser
            checks every value); the message names the bad value.
    """
    credentials = {
        name: value
        for name, value in (("client_id", args.client_id), ("client_secret", args.client_secret))
        if value is not None
    }
    return SandboxConfig(
        tps=args.tps,
        daily_quota=args.daily_quota,
        latency_ms=args.latency_ms,
        jitter_ms=args.jitter_ms,
        token_lifetime_s=args.token_lifetime,
        hours=args.hours,
        faults=args.faults,
        fault_timeout_s=args.fault_timeout,
        synthetic=args.synthetic,
        evolve_s=args.evolve,
        seed=args.seed,
        **credentials,
    )
