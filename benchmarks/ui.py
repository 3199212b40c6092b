"""The dashboard with 50 and with 10,000 (or 100,000) cases: paint time, memory, keys.

Each figure comes from its own child process (so peak memory is one run's):

1. start to painted table, as the user waits for it: from opening the watchlist file
   as ``casewatch`` does (its first screenful of cases when it is long, the rest read
   once they show) to the first screen update that shows the table's rows and its
   count (the app's own compositor update), for 50 and for 10,000 cases, and their
   ratio; how much of it went to opening the file, and when every case was read and
   every row in the table, are also given, with the delays of keys pressed meanwhile
   (``j``/``k`` every 150 ms, as in 3);
2. peak resident memory of the large run (``resource.getrusage``), once every case
   is read and every row in the table;
3. key to screen while results stream in: the real refresher asks the in-process
   sandbox (synthetic cases, 10 requests per second, 150-400 ms latency) about every
   case, so up to 10 rows are updated a second (and the watchlist saved every 5 s);
   meanwhile another thread presses ``j`` or ``k`` every 150 ms, as a terminal would,
   whatever the event loop is doing, and each delay runs from the key press to the
   first screen update that shows the moved cursor;
4. the minute update of the ages in the Checked column (``12m``) with every case shown:
   when no age changed, and when every one did (the clock moved on by two hours), the
   time the event loop is held by it.

Targets (issue 5): ratio at most 1.5, memory at most 200 MB, key-to-screen p99 at most
50 ms. With 100,000 cases (issue 16, point 4): first rows within 1 s, every row within
10 s, keys answered meanwhile, at most 500 MB. Headless, 120x40 cells. Each watchlist
is written once (100,000 synthetic cases take about 45 s) and copied for each run.

    python benchmarks/ui.py [--cases 10000] [--seconds 12]
    python benchmarks/ui.py --cases 1000 10000 100000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

os.environ["TEXTUAL_ANIMATIONS"] = "none"

from casewatch.cases import US_EASTERN, parse_case_status
from casewatch.config import Settings, fast_demo_settings
from casewatch.receipts import parse_receipt_number
from casewatch.sandbox import SandboxConfig
from casewatch.sandbox.data import synthetic_case
from casewatch.watchlist import Watchlist, open_watchlist

SIZE = (120, 40)
TARGET_RATIO = 1.5
TARGET_RSS_MB = 200.0
TARGET_P99_MS = 50.0
TARGET_RSS_100K_MB = 500.0
TARGET_FIRST_S = 1.0
TARGET_FILLED_S = 10.0
PAINT_RUNS = 5


def demo_settings(directory: Path) -> Settings:
    """The demo environment at USCIS's 10 requests per second, on a synthetic sandbox."""
    sandbox = SandboxConfig(latency_ms=(150.0, 400.0), tps=10.0, synthetic=True, seed=5)
    settings = fast_demo_settings(directory, sandbox)
    return replace(settings, environment=replace(settings.environment, tps=10.0))


WRITTEN = "CASEWATCH_BENCHMARK_WATCHLISTS"
"""The environment variable naming the folder where the watchlists written for a run of
this benchmark are kept, so that each size is written once (100,000 cases take about
45 s) and copied for each measurement."""


def write_watchlist(settings: Settings, count: int, checked_days_ago: float) -> None:
    """A watchlist of ``count`` synthetic cases with their statuses, last checked
    ``checked_days_ago`` days ago (not due for a while when 0, all due when 3), written
    by another process: so the one measured starts as fresh as a user's."""
    folder = Path(os.environ[WRITTEN]) / f"{count}-{checked_days_ago:g}"
    kept = demo_settings(folder).watchlist_path
    if not kept.exists():
        command = [sys.executable, __file__, "--child", "write", "--cases", str(count)]
        command += ["--directory", str(folder), "--days", str(checked_days_ago)]
        subprocess.run(command, check=True)
    settings.watchlist_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(kept, settings.watchlist_path)


def write_cases(settings: Settings, count: int, checked_days_ago: float) -> None:
    """What :func:`write_watchlist` runs."""
    now = datetime.now(US_EASTERN)
    checked = now - timedelta(days=checked_days_ago)
    watchlist = Watchlist(settings.watchlist_path)
    for number in range(1, count + 1):
        # Ends in 01 to 07, never in 0000 (which the synthetic sandbox does not know).
        receipt = parse_receipt_number(f"EAC26{number:06d}{number % 7 + 1:02d}")
        watchlist.add(receipt, label=f"client {number}", added_at=now)
        watchlist.record_status(receipt, parse_case_status(synthetic_case(receipt.value)), checked)
    watchlist.save()


class ScreenUpdates:
    """Records when each cursor key was handled and when each screen update was sent."""

    def __init__(self, app: Any) -> None:
        self.handled: list[float] = []
        self.sent: list[float] = []
        display = app._display
        table = app.query_one("CaseTable")

        def record(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None:
                self.sent.append(time.perf_counter())

        def handling(action: Any) -> Any:
            def handle() -> None:
                action()
                self.handled.append(time.perf_counter())

            return handle

        app._display = record
        table.action_cursor_down = handling(table.action_cursor_down)
        table.action_cursor_up = handling(table.action_cursor_up)

    def delays(self, pressed: list[float]) -> list[float]:
        """For each key pressed (in order), seconds to the first screen update after
        the key was handled (5 s when none came)."""
        return [
            next((sent for sent in self.sent if sent >= handled), press + 5.0) - press
            for press, handled in zip(pressed, self.handled, strict=False)
        ]


def press_keys(
    app: Any, loop: asyncio.AbstractEventLoop, seconds: float, stop: threading.Event | None = None
) -> list[float]:
    """From another thread, as a terminal would: ``j`` 20 times then ``k`` 20 times, and
    so on, one every 150 ms, whatever the event loop is doing, for ``seconds`` or until
    ``stop`` is set. Returns when each key was pressed."""
    from textual import events

    presses: list[float] = []
    begin = time.perf_counter()
    while time.perf_counter() - begin < seconds and not (stop and stop.is_set()):
        key = "j" if (len(presses) // 20) % 2 == 0 else "k"
        presses.append(time.perf_counter())
        loop.call_soon_threadsafe(app.post_message, events.Key(key, key))
        time.sleep(0.15)
    return presses


async def measure_paint(count: int) -> dict[str, float]:
    from casewatch.tui.app import CaseWatchApp

    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as directory:
        settings = demo_settings(Path(directory))
        write_watchlist(settings, count, checked_days_ago=0)
        start = time.perf_counter()
        watchlist = open_watchlist(settings, first=SIZE[1])  # a line each, as casewatch does
        loaded = time.perf_counter()
        app = CaseWatchApp(settings, watchlist)
        painted: list[float] = []
        original = app._display

        def record(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None and not painted and app.query("CaseTable"):
                table = app.query_one("CaseTable")
                if table.row_count and str(count) in str(table.border_title):
                    painted.append(time.perf_counter())

        app._display = record  # type: ignore[method-assign]
        async with app.run_test(size=SIZE) as pilot:
            while not painted:
                await pilot.pause(0.01)
            table = app.query_one("CaseTable")
            # Keys pressed while the rest of the file is read and the rows fill in.
            screen, stop = ScreenUpdates(app), threading.Event()
            keys = asyncio.create_task(
                asyncio.to_thread(press_keys, app, asyncio.get_running_loop(), 3600.0, stop)
            )
            while table.row_count < count:  # the rest of the file, and of the rows
                await pilot.pause(0.01)
            filled = time.perf_counter()
            stop.set()
            presses = await keys
            await pilot.pause(0.5)
            rows = table.row_count
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    delays = sorted(screen.delays(presses)) or [0.0]
    return {
        "cases": count,
        "rows": rows,
        "load_s": loaded - start,
        "paint_s": painted[0] - loaded,
        "total_s": painted[0] - start,
        "filled_s": filled - start,
        "rss_mb": rss_mb,
        "filling_presses": len(presses),
        "filling_p99_ms": delays[min(len(delays) - 1, round(0.99 * (len(delays) - 1)))] * 1000,
        "filling_max_ms": delays[-1] * 1000,
    }


async def measure_keys(count: int, seconds: float) -> dict[str, float]:
    from casewatch.tui.app import CaseWatchApp
    from casewatch.tui.case_table import CaseTable

    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as directory:
        settings = demo_settings(Path(directory))
        write_watchlist(settings, count, checked_days_ago=3)  # every case is due
        app = CaseWatchApp(settings, open_watchlist(settings, first=SIZE[1]))
        updates = 0
        async with app.run_test(size=SIZE) as pilot:
            table = app.query_one(CaseTable)
            update_case = table.update_case

            def counted(case: Any) -> None:
                nonlocal updates
                updates += 1
                update_case(case)

            table.update_case = counted  # type: ignore[method-assign]
            while app.query_one("CaseTable").row_count < count:
                await pilot.pause(0.05)
            screen = ScreenUpdates(app)
            updates = 0
            keys = asyncio.create_task(
                asyncio.to_thread(press_keys, app, asyncio.get_running_loop(), seconds)
            )
            begin = time.perf_counter()
            while not keys.done():
                if app.dashboard.refresher is not None and not app.dashboard.refresher.running:
                    app.dashboard.action_refresh()  # 50 cases take 5 s: keep results streaming
                await asyncio.sleep(0.1)
            elapsed = time.perf_counter() - begin
            await pilot.pause(1.0)
            presses = keys.result()
    delays = screen.delays(presses)
    delays.sort()
    return {
        "cases": count,
        "presses": len(delays),
        "updates_per_s": updates / elapsed,
        "p50_ms": statistics.median(delays) * 1000,
        "p99_ms": delays[min(len(delays) - 1, round(0.99 * (len(delays) - 1)))] * 1000,
        "max_ms": delays[-1] * 1000,
    }


async def measure_ages(count: int) -> dict[str, float]:
    from casewatch.tui.app import CaseWatchApp
    from casewatch.tui.case_table import CaseTable

    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as directory:
        settings = demo_settings(Path(directory))
        write_watchlist(settings, count, checked_days_ago=0)  # none due: no refresh
        now = [time.time()]
        app = CaseWatchApp(settings, open_watchlist(settings), clock=lambda: now[0])
        async with app.run_test(size=SIZE) as pilot:
            while app.query_one("CaseTable").row_count < count:
                await pilot.pause(0.05)
            timings = []
            for moved_s in (0.0, 2 * 3600.0):  # no age changes, then every age does
                now[0] += moved_s
                start = time.perf_counter()
                app.query_one(CaseTable).age_checked_cells()
                timings.append(time.perf_counter() - start)
    return {"cases": count, "unchanged_ms": timings[0] * 1000, "changed_ms": timings[1] * 1000}


def child(kind: str, count: int, seconds: float) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; returns its figures."""
    command = [sys.executable, __file__, "--child", kind, "--cases", str(count)]
    command += ["--seconds", str(seconds)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    figures: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return figures


def median_run(count: int, seconds: float) -> dict[str, Any]:
    """The paint run of ``count`` cases with the median paint time of :data:`PAINT_RUNS`."""
    runs = sorted((child("paint", count, seconds) for _ in range(PAINT_RUNS)), key=paint_time)
    return runs[len(runs) // 2]


def paint_time(run: dict[str, Any]) -> float:
    return float(run["total_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--cases", type=int, nargs="+", default=[10_000], help="the large watchlists' sizes"
    )
    parser.add_argument("--seconds", type=float, default=12.0, help="key test duration")
    parser.add_argument(
        "--child", choices=("paint", "keys", "ages", "write"), help=argparse.SUPPRESS
    )
    parser.add_argument("--directory", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--days", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "write":
        write_cases(demo_settings(args.directory), args.cases[0], args.days)
        return
    if args.child == "paint":
        print(json.dumps(asyncio.run(measure_paint(args.cases[0]))))
        return
    if args.child == "keys":
        print(json.dumps(asyncio.run(measure_keys(args.cases[0], args.seconds))))
        return
    if args.child == "ages":
        print(json.dumps(asyncio.run(measure_ages(args.cases[0]))))
        return
    with tempfile.TemporaryDirectory() as written:
        os.environ[WRITTEN] = written
        report(args.cases, args.seconds)


def report(sizes: list[int], seconds: float) -> None:
    """Run every measurement for 50 cases and each of ``sizes``, and print the figures."""
    small, *large = (median_run(n, seconds) for n in (50, *sizes))
    print(
        f"start to painted table, from opening the watchlist file (120x40, headless, "
        f"median of {PAINT_RUNS} runs):"
    )
    for run in (small, *large):
        print(
            f"  {run['cases']:>7,} cases: {run['total_s'] * 1000:7.0f} ms "
            f"({run['load_s'] * 1000:.0f} ms opening the file, {run['paint_s'] * 1000:.0f} ms "
            f"the dashboard), every case read and {run['rows']:,} rows in after "
            f"{run['filled_s'] * 1000:.0f} ms, peak RSS {run['rss_mb']:.0f} MB; meanwhile "
            f"{run['filling_presses']} keys, to screen p99 {run['filling_p99_ms']:.0f} ms, "
            f"max {run['filling_max_ms']:.0f} ms"
        )
    for run in large:
        per_thousand = 1000 / run["cases"]
        print(
            f"  {run['cases']:>7,} cases: ratio {run['total_s'] / small['total_s']:.2f} "
            f"(target <= {TARGET_RATIO}), the dashboard alone "
            f"{run['paint_s'] / small['paint_s']:.2f}; per 1,000 cases "
            f"{run['filled_s'] * per_thousand * 1000:.0f} ms to every row and "
            f"{(run['rss_mb'] - small['rss_mb']) * per_thousand:.1f} MB over 50 cases"
        )
    print(
        f"  targets: peak RSS <= {TARGET_RSS_MB:.0f} MB with 10,000 cases, "
        f"<= {TARGET_RSS_100K_MB:.0f} MB with 100,000; first rows within {TARGET_FIRST_S:g} s "
        f"and every row within {TARGET_FILLED_S:g} s with 100,000"
    )
    print(f"key to screen while a refresh streams results ({seconds:g} s, j/k every 150 ms):")
    for count in (50, *sizes):
        run = child("keys", count, seconds)
        print(
            f"  {run['cases']:>7,} cases: p50 {run['p50_ms']:.1f} ms, p99 "
            f"{run['p99_ms']:.1f} ms, max {run['max_ms']:.1f} ms over {run['presses']} "
            f"presses, {run['updates_per_s']:.1f} row updates/s "
            f"(target p99 <= {TARGET_P99_MS:.0f} ms)"
        )
    for count in sizes:
        ages = child("ages", count, seconds)
        print(
            f"the minute update of the Checked ages, {ages['cases']:,} rows: "
            f"{ages['unchanged_ms']:.0f} ms when none changed, {ages['changed_ms']:.0f} ms "
            "when every one did"
        )


if __name__ == "__main__":
    main()
