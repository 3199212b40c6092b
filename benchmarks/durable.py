"""Durability of the watchlist: what a save costs, and what concurrency and kill -9 do.

Prints five sets of figures (issue 6; issue 16, point 4):

1. the ``casewatch`` commands as a user runs them, on watchlists of 1,000 and 10,000
   checked cases (3 history entries and 2 change events each; ``--sizes`` for others):
   ``add``, ``remove``, the first line and the whole of ``list`` and ``list --json``,
   with the wall time and the peak resident memory of each process;
2. the time of a save after one refreshed case, a save that merges another process's
   change, a reload and a load, on the same watchlists;
3. two processes each running 150 ``casewatch add`` at once: the cases kept;
4. kill -9 at random moments (seeded) of a process saving a growing watchlist, until
   500 saves have returned: the kills, the files that did not parse, the saved cases
   missing;
5. kill -9 during 15 imports of 3,000 receipts, each after the save has begun: the
   files that did not parse, and how many kept the old file or got the new one.

    python benchmarks/durable.py [--sizes 1000 10000 100000] [--saves 500] [--seed 6]

The watchlists are written as casewatch writes them (their digest recorded), from the
text of one case of :func:`checked_watchlist` repeated with other receipt numbers and
labels: the same bytes as that function's, in half a second for 100,000 cases.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path

from casewatch.cases import US_EASTERN, CaseStatus, HistoryEntry
from casewatch.files import atomic_write_text
from casewatch.receipts import parse_receipt_number
from casewatch.watchlist import (
    SCHEMA_VERSION,
    WatchedCase,
    Watchlist,
    WatchlistError,
    case_text,
    watchlist_text,
)
from casewatch.watchlist.writing import write_version

NOW = datetime(2026, 11, 29, 9, 30, tzinfo=US_EASTERN)
FIRST = parse_receipt_number("EAC9999103403")


def receipt_text(number: int) -> str:
    return f"LIN{2_100_000_000 + number:010d}"


def checked_watchlist(path: Path, size: int) -> Watchlist:
    """``size`` cases, each with a status, 3 history entries and two change events."""
    watchlist = Watchlist(path)
    history = tuple(
        HistoryEntry(date(2026, 1, 1) + timedelta(days=day), "", f"Step {day} was done.")
        for day in range(3)
    )
    for number in range(size):
        receipt = parse_receipt_number(receipt_text(number))
        watchlist.add(receipt, label=f"client {number}", added_at=NOW)
        status = CaseStatus(receipt.value, "I-130", "Case Was Received", "We received it.")
        watchlist.record_status(receipt, status, NOW)
        approved = replace(status, title_en="Case Was Approved", history=history)
        watchlist.record_status(receipt, approved, NOW + timedelta(days=1))
    watchlist.save()
    return watchlist


def checked_file(path: Path, size: int) -> None:
    """Write the file :func:`checked_watchlist` saves for ``size`` cases, as casewatch
    writes it, from the text of its first case (the receipt number and the label
    changed for each)."""
    template = case_text(next(iter(checked_watchlist(path, 1).cases.values())))
    first = receipt_text(0)
    texts = (
        template.replace(first, receipt_text(n)).replace('"client 0"', f'"client {n}"')
        for n in range(size)
    )
    text = "\n".join([f"schema = {SCHEMA_VERSION}\n", *texts])
    write_version(path, [text.encode()], keep_backup=False)


def milliseconds(step: Callable[[], object]) -> float:
    started = time.perf_counter()
    step()
    return (time.perf_counter() - started) * 1000


def refresh_one(watchlist: Watchlist, number: int, title: str) -> None:
    """Record a new status for one case, as a refresh does."""
    receipt = parse_receipt_number(receipt_text(number))
    status = CaseStatus(receipt.value, "I-130", title, "We did something.")
    watchlist.record_status(receipt, status, NOW + timedelta(days=2))


def save_costs(directory: Path, sizes: list[int]) -> None:
    print("2. save costs (median of 5, milliseconds)")
    print(f"{'cases':>8} {'save':>6} {'merge save':>11} {'reload':>7} {'load':>7} {'file':>8}")
    for size in sizes:
        path = directory / f"w{size}.toml"
        checked_file(path, size)
        ours = Watchlist.load(path)
        other = Watchlist.load(path)  # another process
        times: dict[str, list[float]] = {"save": [], "merge": [], "reload": [], "load": []}
        for round_ in range(5):
            # One case refreshed, nobody else wrote since ours last did: no parse.
            refresh_one(ours, size // 2, f"Case Was Updated {round_}")
            times["save"].append(milliseconds(ours.save))
            # The other process's file is stale: read, parse what changed, merge, write.
            other.set_label(receipt_text(1), f"there {round_}")
            times["merge"].append(milliseconds(other.save))
            # The dashboard following the file takes that in.
            times["reload"].append(milliseconds(partial(asyncio.run, ours.reload_async())))
            times["load"].append(milliseconds(partial(Watchlist.load, path)))
        median = {name: statistics.median(values) for name, values in times.items()}
        print(
            f"{size:>8,} {median['save']:>6.0f} {median['merge']:>11.0f} "
            f"{median['reload']:>7.0f} {median['load']:>7.0f} {path.stat().st_size / 1e6:>6.1f}MB"
        )


MEASURED = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(os.waitstatus_to_exitcode(status), usage.ru_maxrss, file=sys.stderr)
"""
"""Run a command and say on stderr its exit status and its peak resident memory (KB):
the command is started from this small process, as the peak of a process started from
a large one (this benchmark, holding 100,000 cases) counts that one's pages too."""


def run_verb(argv: list[str], path: Path) -> tuple[float, float, float]:
    """Run ``casewatch ARGV --watchlist PATH`` as a user does, its output read from a
    pipe: the seconds to its first line and to its end, and its peak resident memory in
    MB."""
    command = [sys.executable, "-m", "casewatch", *argv, "--watchlist", str(path)]
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", MEASURED, *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.readline()
    first = time.perf_counter() - started
    while child.stdout.read(1 << 20):
        pass
    whole = time.perf_counter() - started
    code, peak_kb = map(int, child.stderr.read().split())
    child.wait()
    assert code == 0, (argv, code)
    return first, whole, peak_kb / 1024


def verb_costs(directory: Path, sizes: list[int]) -> None:
    print("1. casewatch commands (seconds; peak resident memory, MB)")
    print(
        f"{'cases':>8} {'add':>11} {'remove':>11} {'list: 1st line':>15} {'whole':>15} "
        f"{'--json: 1st line':>17} {'whole':>15}"
    )
    for size in sizes:
        path = directory / f"verbs{size}.toml"
        checked_file(path, size)
        _, add, add_mb = run_verb(["add", receipt_text(size)], path)
        _, remove, remove_mb = run_verb(["remove", receipt_text(size)], path)
        first, whole, table_mb = run_verb(["list"], path)
        json_first, json_whole, json_mb = run_verb(["list", "--json"], path)
        print(
            f"{size:>8,} {add:>5.2f} {add_mb:>3.0f}MB {remove:>5.2f} {remove_mb:>3.0f}MB "
            f"{first:>15.2f} {whole:>7.2f} {table_mb:>5.0f}MB "
            f"{json_first:>17.2f} {json_whole:>7.2f} {json_mb:>5.0f}MB"
        )


ADDER = """
import sys
from casewatch.cli import main
path, start = sys.argv[1], int(sys.argv[2])
for number in range(start, start + 150):
    assert main(["add", f"LIN{2_100_000_000 + number:010d}", "--watchlist", path]) == 0
"""


def concurrent_adds(directory: Path) -> None:
    path = directory / "adds.toml"
    started = time.perf_counter()
    children = [
        subprocess.Popen(
            [sys.executable, "-c", ADDER, str(path), str(start)], stdout=subprocess.DEVNULL
        )
        for start in (0, 1000)
    ]
    for child in children:
        child.wait()
    kept = len(Watchlist.load(path))
    print(
        f"3. two processes x 150 casewatch add at once: {kept} of 300 cases kept "
        f"({time.perf_counter() - started:.1f} s)"
    )


SAVER = """
import sys
from pathlib import Path
from casewatch.cases import US_EASTERN
from casewatch.receipts import parse_receipt_number
from casewatch.watchlist import Watchlist
from datetime import datetime
watchlist = Watchlist.load(Path(sys.argv[1]))
while True:
    number = len(watchlist)
    receipt = parse_receipt_number(f"LIN{2_100_000_000 + number:010d}")
    watchlist.add(receipt, label="x" * (number % 40), added_at=datetime.now(US_EASTERN))
    watchlist.save()
    print(number + 1, flush=True)
"""


def kills_during_saves(directory: Path, saves: int, chance: random.Random) -> None:
    path = directory / "crash.toml"
    kills = bad = missing = returned = 0
    while returned < saves:
        child = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        for _ in range(chance.randint(1, 40)):
            child.stdout.readline()
        time.sleep(chance.uniform(0, 0.02))
        child.send_signal(signal.SIGKILL)
        child.wait()
        kills += 1
        lines = child.stdout.read().split()
        try:
            cases = list(Watchlist.load(path).cases)
        except WatchlistError:
            bad += 1
            path.unlink()
            continue
        saved = int(lines[-1]) if lines else len(cases)  # the last save that returned
        returned = max(returned, saved)
        missing += sum(1 for n in range(saved) if receipt_text(n) not in cases)
    print(
        f"4. kill -9 during saves: {kills} kills, {returned} saves returned, "
        f"{bad} files that did not parse, {missing} saved cases missing"
    )


def kills_during_imports(directory: Path, chance: random.Random) -> dict[str, int]:
    """Kill -9 15 ``casewatch import`` runs of 3,000 receipts into a watchlist of one
    case, each at a random moment (from ``chance``) of its save. Returns how many files
    did not parse, kept the old file, got the new one, or hold anything else.
    (``tests/test_durable.py`` runs it too, and asserts.)"""
    receipts = directory / "receipts.txt"
    receipts.write_text("".join(f"{receipt_text(n)}\n" for n in range(3000)))
    outcomes = {"did not parse": 0, "old file": 0, "new file": 0, "other": 0}
    for kill in range(15):
        path = directory / f"import{kill}.toml"
        atomic_write_text(path, watchlist_text({FIRST.value: WatchedCase(FIRST, NOW)}))
        child = subprocess.Popen(
            [sys.executable, "-m", "casewatch", "import", str(receipts), "--watchlist", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        lock = path.with_name(path.name + ".lock")
        while not lock.exists() and child.poll() is None:  # the save has begun
            time.sleep(0.001)
        time.sleep(chance.uniform(0, 0.03))
        child.send_signal(signal.SIGKILL)
        child.wait()
        try:
            size = len(Watchlist.load(path))
        except WatchlistError:
            outcomes["did not parse"] += 1
            continue
        outcomes[{1: "old file", 3001: "new file"}.get(size, "other")] += 1
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--saves", type=int, default=500)
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args()
    chance = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="casewatch-durable-") as name:
        directory = Path(name)
        verb_costs(directory, args.sizes)  # first: from a small process
        save_costs(directory, args.sizes)
        concurrent_adds(directory)
        kills_during_saves(directory, args.saves, chance)
        outcomes = kills_during_imports(directory, chance)
        print(
            "5. kill -9 during 15 imports of 3,000 receipts: "
            + ", ".join(f"{count} {name}" for name, count in outcomes.items())
        )


if __name__ == "__main__":
    main()
