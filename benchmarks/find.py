"""What finding costs among 10,000 cases (issue 13, point 8): making the search texts
(once per version of a case, the first key typed after a start or a change), and
filtering with them at each key typed, for a few queries as people type them.

    python benchmarks/find.py [--cases 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime

from casewatch.cases import US_EASTERN, CaseStatus
from casewatch.finding import SearchTexts, parse_query
from casewatch.receipts import parse_receipt_number
from casewatch.watchlist import WatchedCase

NOW = datetime(2026, 11, 29, 9, 30, tzinfo=US_EASTERN)
QUERIES = ("g", "garcia", "garcía i-485", "MSC-25-906", "not recognized", "premium jd sister")


def cases(count: int) -> list[WatchedCase]:
    """``count`` cases with a label, a client with accents, tags, a note and a status."""
    made = []
    for number in range(count):
        receipt = f"MSC25{90_600_000 + number:08d}"
        status = CaseStatus(
            receipt,
            "I-485",
            "Request for Evidence Was Sent",
            "We sent you a request for evidence.",
            title_es="Se Envió una Solicitud de Evidencia",
        )
        made.append(
            WatchedCase(
                parse_receipt_number(receipt),
                NOW,
                label=f"García, María {number} (I-485 AOS)",
                status=status,
                client=f"Familia Núñez {number % 300}",
                tags=("JD", "premium"),
                note=f"Call her sister before the answer is due (file {number}).",
            )
        )
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    watched = cases(options.cases)
    made = []
    for _ in range(options.runs):
        texts = SearchTexts()
        started = time.perf_counter()
        for case in watched:
            texts(case)
        made.append(time.perf_counter() - started)
    print(f"{options.cases:,} cases, median of {options.runs} runs")
    print(f"  search texts made (the first key typed): {statistics.median(made) * 1000:.0f} ms")
    for typed in QUERIES:
        query, took = parse_query(typed), []
        for _ in range(options.runs):
            started = time.perf_counter()
            found = len(texts.select(query, watched))
            took.append(time.perf_counter() - started)
        print(f"  {typed!r:22} {statistics.median(took) * 1000:5.1f} ms a key, {found:,} found")


if __name__ == "__main__":
    main()
