"""Render the demo dashboard to SVG screenshots in screenshots/, deterministically.

Fixed clock (09:30 US Eastern, 2026-11-29), the seeded built-in sandbox without
latency, animations off: the table, the drawer open, a narrow and a compact pane, the
light and the 16-colour themes, the key list, what needs attention, the statistics.
Run: ``python scripts/render_screenshots.py``.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

os.environ["TEXTUAL_ANIMATIONS"] = "none"
os.environ["TZ"] = "America/New_York"
time.tzset()

from casewatch.cases import US_EASTERN  # noqa: E402
from casewatch.config import fast_demo_settings  # noqa: E402
from casewatch.sandbox import SandboxConfig  # noqa: E402
from casewatch.tui.app import CaseWatchApp  # noqa: E402
from casewatch.watchlist import open_watchlist  # noqa: E402

FROZEN_NOW = datetime(2026, 11, 29, 9, 30, tzinfo=US_EASTERN).timestamp()
OUTPUT = Path(__file__).resolve().parent.parent / "screenshots"

SHOTS: tuple[tuple[str, tuple[int, int], tuple[str, ...], str], ...] = (
    # name, terminal size, keys pressed, theme
    ("dashboard", (120, 40), (), "casewatch-dark"),
    ("history-drawer", (120, 40), ("down", "down", "enter"), "casewatch-dark"),
    ("narrow-pane", (60, 20), (), "casewatch-dark"),
    ("compact-pane", (40, 12), (), "casewatch-dark"),
    ("light-theme", (120, 40), ("down", "down", "enter"), "casewatch-light"),
    ("sixteen-colours", (120, 40), (), "casewatch-16"),
    ("keys", (120, 40), ("question_mark",), "casewatch-dark"),
    ("needs-attention", (120, 40), ("t",), "casewatch-dark"),
    ("statistics", (120, 40), ("S",), "casewatch-dark"),
)


async def render(name: str, size: tuple[int, int], keys: tuple[str, ...], theme: str) -> Path:
    with tempfile.TemporaryDirectory() as directory:
        sandbox = SandboxConfig(latency_ms=(0.0, 0.0), tps=1_000_000.0)
        settings = replace(fast_demo_settings(Path(directory), sandbox), theme=theme)
        app = CaseWatchApp(
            settings, open_watchlist(settings, lambda: FROZEN_NOW), clock=lambda: FROZEN_NOW
        )
        async with app.run_test(size=size) as pilot:
            while any(case.status is None for case in app.watchlist.cases.values()):
                await pilot.pause(0.05)  # the first pass answers every case
            await app.workers.wait_for_complete()
            await pilot.press(*keys)
            await pilot.pause()
            return Path(app.save_screenshot(f"{name}.svg", path=str(OUTPUT)))


def main() -> None:
    for name, size, keys, theme in SHOTS:
        print(asyncio.run(render(name, size, keys, theme)))


if __name__ == "__main__":
    main()
