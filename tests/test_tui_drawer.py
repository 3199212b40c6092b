"""The history drawer and the find box on their own: the drawer paints the case it is
given while open, in the language it is given; the find box posts what is typed and
enter, and clears itself when closed."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import App, ComposeResult

from casewatch.cases import US_EASTERN
from casewatch.tui.drawer import HistoryDrawer
from casewatch.tui.find import FindBox
from conftest import FROZEN_NOW
from pilot_helpers import drawer_text
from test_tui_case_table import four_cases


class DrawerAndFind(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def compose(self) -> ComposeResult:
        yield HistoryDrawer(lambda: FROZEN_NOW, US_EASTERN)
        yield FindBox()

    @on(FindBox.Typed)
    def _typed(self, message: FindBox.Typed) -> None:
        self.found.append(message.text)

    @on(FindBox.Finished)
    def _finished(self) -> None:
        self.found.append("<enter>")


def painted(app: DrawerAndFind) -> str:
    return " ".join(drawer_text(app).split())


async def test_the_drawer_paints_its_case_while_open_in_its_language(tmp_path: Path) -> None:
    watchlist = four_cases(tmp_path)
    app = DrawerAndFind()
    async with app.run_test(size=(120, 30)):
        drawer = app.query_one(HistoryDrawer)
        drawer.case = watchlist.get("EAC9999103403")
        assert painted(app) == ""  # closed: nothing painted
        drawer.is_open = True
        assert drawer.has_class("-open")
        assert "Timeline, newest first" in painted(app)
        drawer.spanish = True
        assert "Historial, lo más reciente primero" in painted(app)
        drawer.case = watchlist.get("EAC9999103404")
        assert "EAC9999103404" in painted(app)
        drawer.is_open = False
        assert not drawer.has_class("-open")


async def test_the_find_box_posts_what_is_typed_and_clears_itself_when_closed() -> None:
    app = DrawerAndFind()
    async with app.run_test(size=(120, 30)) as pilot:
        box = app.query_one(FindBox)
        assert not box.has_class("-open")
        box.open()
        await pilot.pause()
        assert box.has_focus and box.has_class("-open")
        await pilot.press(*"I-1 ", "enter")
        assert app.found[-2:] == ["I-1", "<enter>"]  # trimmed
        box.close()
        await pilot.pause()
        assert box.value == "" and not box.has_class("-open") and app.found[-1] == ""
