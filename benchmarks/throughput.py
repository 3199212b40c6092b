"""Throughput against the spike arrest: how close casewatch gets to the TPS limit.

Starts ``casewatch sandbox --synthetic`` on a loopback port (10 TPS, 300 ms latency by
default) and checks N synthetic receipts three ways:

1. one casewatch client (pipelined, the dashboard's and ``casewatch check``'s path);
2. two processes sharing one request ledger, N/2 receipts each, at the same time;
3. a plain sequential client (one request at a time, spaced 1/TPS): the baseline.

For each: wall time against the ideal N/TPS, the share of the TPS limit reached, and
the spike arrests the sandbox counted. Targets (issue 3): at least 97% of the TPS limit
and zero spike arrests for 1 and 2.

    python benchmarks/throughput.py [--receipts 600] [--tps 10] [--latency-ms 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from casewatch.check import check_receipts
from casewatch.config import DEMO_CREDENTIALS, load_settings
from casewatch.receipts import ReceiptNumber, parse_receipt_number
from casewatch.uscis.errors import USCISError

TARGET_SHARE = 0.97


def synthetic_receipts(count: int) -> list[ReceiptNumber]:
    """Well-formed receipts the synthetic sandbox answers (none ends in 0000)."""
    return [parse_receipt_number(f"EAC2612{number:06d}") for number in range(1, count + 1)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def sandbox_server(tps: float, latency_ms: float) -> Iterator[str]:
    """``casewatch sandbox --synthetic`` in a child process; yields its base URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "casewatch",
        "sandbox",
        "--synthetic",
        "--port",
        str(port),
        "--tps",
        str(tps),
        "--daily-quota",
        "1000000",
        "--latency-ms",
        str(latency_ms),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{url}/__sandbox/stats", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise RuntimeError("the sandbox did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def stats(url: str) -> dict[str, object]:
    body: dict[str, object] = httpx.get(f"{url}/__sandbox/stats", timeout=5).json()
    return body


def run_client(url: str, tps: float, receipts: list[str], state_home: str) -> tuple[float, float]:
    """One casewatch client checking ``receipts``; returns (start, end) Unix times.
    Runs in a child process for the two-process case."""
    os.environ["XDG_STATE_HOME"] = state_home
    os.environ["XDG_DATA_HOME"] = state_home
    settings = load_settings(
        environment="demo", base_url=url, tps=tps, daily_quota=1_000_000, environ={}
    )

    async def run() -> tuple[float, float]:
        async with settings.open_client() as client:
            start = time.time()
            results = await check_receipts(client, [parse_receipt_number(r) for r in receipts])
            end = time.time()
        failures = [r for r in results if isinstance(r, USCISError)]
        if failures:
            raise RuntimeError(f"{len(failures)} receipts failed, first: {failures[0]}")
        return start, end

    return asyncio.run(run())


def run_sequential(url: str, tps: float, receipts: list[str]) -> tuple[float, float]:
    """The baseline: one request at a time, at most ``tps`` per second."""
    with httpx.Client(base_url=url, timeout=30) as http:
        token = http.post(
            "/oauth/accesstoken",
            data={
                "grant_type": "client_credentials",
                "client_id": DEMO_CREDENTIALS.client_id,
                "client_secret": DEMO_CREDENTIALS.client_secret.reveal(),
            },
        ).json()["access_token"]
        start = last = time.time()
        for index, receipt in enumerate(receipts):
            if index:
                time.sleep(max(0.0, last + 1 / tps + 0.002 - time.time()))
            last = time.time()
            response = http.get(
                f"/case-status/{receipt}", headers={"Authorization": f"Bearer {token}"}
            )
            response.raise_for_status()
        return start, time.time()


def report(name: str, count: int, tps: float, span: tuple[float, float], url: str) -> bool:
    wall = span[1] - span[0]
    ideal = count / tps
    share = count / wall / tps
    seen = stats(url)
    arrests = seen["spike_arrests"]
    print(
        f"{name:<34} {count:>5} receipts  wall {wall:7.2f} s  ideal {ideal:6.1f} s  "
        f"{share:6.1%} of {tps:g} TPS  spike arrests {arrests}  "
        f"peak {seen['max_requests_per_second']}/s"
    )
    return share >= TARGET_SHARE and arrests == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--receipts", type=int, default=600)
    parser.add_argument("--tps", type=float, default=10.0)
    parser.add_argument("--latency-ms", type=float, default=300.0)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    receipts = [r.value for r in synthetic_receipts(args.receipts)]
    half = len(receipts) // 2
    print(
        f"sandbox: {args.tps:g} TPS spike arrest, {args.latency_ms:g} ms latency, "
        f"synthetic receipts; target >= {TARGET_SHARE:.0%} of the TPS limit, 0 spike arrests"
    )
    met = []
    with tempfile.TemporaryDirectory() as home:
        with sandbox_server(args.tps, args.latency_ms) as url:
            span = run_client(url, args.tps, receipts, home)
            met.append(report("casewatch, one process", len(receipts), args.tps, span, url))
        with sandbox_server(args.tps, args.latency_ms) as url:
            context = multiprocessing.get_context("spawn")
            with context.Pool(2) as pool:
                spans = pool.starmap(
                    run_client,
                    [
                        (url, args.tps, receipts[:half], home),
                        (url, args.tps, receipts[half:], home),
                    ],
                )
            both = (min(s for s, _ in spans), max(e for _, e in spans))
            met.append(
                report("casewatch, two processes sharing", len(receipts), args.tps, both, url)
            )
        if not args.skip_baseline:
            with sandbox_server(args.tps, args.latency_ms) as url:
                span = run_sequential(url, args.tps, receipts)
                report("plain sequential client (baseline)", len(receipts), args.tps, span, url)
    print(json.dumps({"targets_met": all(met)}))
    return 0 if all(met) else 1


if __name__ == "__main__":
    raise SystemExit(main())
