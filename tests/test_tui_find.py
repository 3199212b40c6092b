"""Pilot tests of finding cases in the dashboard (issue 13, points 4, 5, 6, 8, 9; issue
14, point 2): find as a person types, escape one thing at a time, the changed count,
the cases USCIS does not recognize, the palette's stages, sorts and tags, and what
``dashboard.toml`` remembers."""

from __future__ import annotations

from collections.abc import Callable

from casewatch.tui.app import CaseWatchApp
from casewatch.tui.case_table import CaseTable


def rows(app: CaseWatchApp) -> list[str]:
    return [str(key.value) for key in app.query_one(CaseTable).rows]


async def test_find_matches_words_accents_separators_client_tags_and_note(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    watchlist = app.watchlist
    watchlist.set_case_details("EAC9999103403", label="Garcia, Maria (I-485 AOS)")
    watchlist.set_case_details("EAC9999103404", label="Garcia, Maria (I-765 EAD)")
    watchlist.set_case_details("EAC9999103405", client="Familia Núñez", tags=["Zeta-Team"])
    watchlist.set_case_details("EAC9999103406", note="Call her sister first")
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        table = app.query_one(CaseTable)
        await pilot.press("slash", *"garcía i485", "enter")
        assert rows(app) == ["EAC9999103403"]
        assert table.border_title is not None and "Cases · 1 of 50" in str(table.border_title)
        for query, found in (
            ("maria garcia", ["EAC9999103403", "EAC9999103404"]),
            ("nunez", ["EAC9999103405"]),
            ("ZETATEAM", ["EAC9999103405"]),
            ("sister", ["EAC9999103406"]),
            ("eac-9999-103404", ["EAC9999103404"]),
        ):
            await pilot.press("slash", "ctrl+u", *query, "enter")
            assert rows(app) == found, query
