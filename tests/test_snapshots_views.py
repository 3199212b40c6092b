"""Snapshot tests of the dashboard's views of the caseload (issue 14): what needs
attention (``t``) and the statistics (``S``). Fixed clock (09:30 US Eastern, 2026-11-29),
seeded sandbox data, animations off; update with ``pytest --snapshot-update`` after a
deliberate change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest
from textual.pilot import Pilot

from casewatch.tui.app import CaseWatchApp
from pilot_helpers import every_case_answered
from test_tui_views import seed_changes


async def attention_listed(pilot: Pilot[None]) -> None:
    await every_case_answered(pilot)
    await pilot.press("t")
    await pilot.pause()


async def statistics_shown(pilot: Pilot[None], *keys: str) -> None:
    await every_case_answered(pilot)
    app = pilot.app
    assert isinstance(app, CaseWatchApp)
    seed_changes(app)
    await pilot.press("S", *keys)
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def statistics_of_stages(pilot: Pilot[None]) -> None:
    await statistics_shown(pilot)


async def statistics_of_weeks(pilot: Pilot[None]) -> None:
    await statistics_shown(pilot, "3")


@pytest.mark.parametrize(
    ("theme", "size", "run_before"),
    [
        pytest.param("casewatch-dark", (120, 40), attention_listed, id="attention-120x40"),
        pytest.param("casewatch-16", (80, 24), attention_listed, id="attention-80x24-16"),
        pytest.param("casewatch-dark", (80, 24), statistics_of_stages, id="stages-80x24"),
        pytest.param("casewatch-16", (80, 24), statistics_of_stages, id="stages-80x24-16"),
        pytest.param("casewatch-dark", (120, 40), statistics_of_weeks, id="weeks-120x40"),
    ],
)
def test_views(
    snap_compare: Callable[..., bool],
    make_app: Callable[..., CaseWatchApp],
    theme: str,
    size: tuple[int, int],
    run_before: Callable[[Pilot[None]], Awaitable[None]],
) -> None:
    app = make_app()
    app.settings = replace(app.settings, theme=theme)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
