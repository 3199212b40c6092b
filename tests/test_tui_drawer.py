"""The history drawer and the find box on their own: the drawer paints the case it is
given while open, in the language it is given; the find box posts what is typed and
enter, and clears itself when closed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

from rich.console import Group
from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.widgets import Static

from casewatch.cases import US_EASTERN, CaseStatus
from casewatch.receipts import parse_receipt_number
from casewatch.tui.drawer import HistoryDrawer
from casewatch.tui.find import FindBox
from casewatch.watchlist import Watchlist
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


def rfe_case(tmp_path: Path, notice_day: datetime) -> Watchlist:
    """A case whose status became "Request for Evidence Was Sent" on ``notice_day``
    (USCIS's modifiedDate), seen by casewatch the day after."""
    watchlist = Watchlist(tmp_path / "watchlist.toml")
    number = parse_receipt_number(RFE_RECEIPT)
    watchlist.add(number, label="Garcia", added_at=notice_day - timedelta(days=30))
    received = CaseStatus(RFE_RECEIPT, "I-485", "Case Was Received", "Received.")
    watchlist.record_status(number, received, notice_day - timedelta(days=30))
    rfe = CaseStatus(
        RFE_RECEIPT,
        "I-485",
        "Request for Evidence Was Sent",
        "We sent you a request for evidence.",
        title_es="Se Envió una Solicitud de Evidencia",
        modified=notice_day,
    )
    watchlist.record_status(number, rfe, notice_day + timedelta(days=1))
    return watchlist


RFE_RECEIPT = "EAC9999103403"


def response_line(app: DrawerAndFind) -> Text:
    """The drawer's line about the response due (or its closing)."""
    body = app.query_one("#drawer-body", Static).content
    assert isinstance(body, Group)
    lines = [
        part
        for part in body.renderables
        if isinstance(part, Text) and part.plain.startswith(("Response", "Plazo", "Ya no"))
    ]
    assert len(lines) <= 1
    return lines[0] if lines else Text()


async def test_the_drawer_shows_the_response_due_estimated_given_overdue_and_closed(
    tmp_path: Path,
) -> None:
    app = DrawerAndFind()
    async with app.run_test(size=(120, 30)):
        drawer = app.query_one(HistoryDrawer)
        drawer.is_open = True
        # A request for evidence of September 15: due 87 days later, in 12 days.
        case = rfe_case(tmp_path, datetime(2026, 9, 15, 10, 0, tzinfo=US_EASTERN)).get(RFE_RECEIPT)
        drawer.case = case
        line = response_line(app)
        assert line.plain.strip() == (
            "Response due ≈ 2026-12-11, in 12 days — the notice has the exact date"
        )
        assert line.style == "bold"
        drawer.spanish = True
        assert response_line(app).plain.strip() == (
            "Plazo de respuesta ≈ 2026-12-11, en 12 días — la notificación tiene la fecha exacta"
        )
        drawer.spanish = False
        # The date printed on the notice (edit --due) wins, and is not an estimate.
        drawer.case = replace(case, response_due=date(2026, 12, 1))
        assert response_line(app).plain.strip() == (
            "Response due 2026-12-01 (from the notice), in 2 days"
        )
        # The request for evidence of March 5, 2026 of issue 14: due May 31, long passed.
        overdue = rfe_case(tmp_path, datetime(2026, 3, 5, 9, 0, tzinfo=US_EASTERN))
        drawer.case = overdue.get(RFE_RECEIPT)
        line = response_line(app)
        assert line.plain.strip() == (
            "Response due ≈ 2026-05-31, overdue by 182 days — the notice has the exact date"
        )
        assert line.style == "bold red"
        # The case moves on: the deadline is closed, and the drawer says why.
        approved = CaseStatus(RFE_RECEIPT, "I-485", "Case Was Approved", "Approved.")
        moved, _ = overdue.record_status(
            parse_receipt_number(RFE_RECEIPT),
            approved,
            datetime(2026, 6, 2, 8, 0, tzinfo=US_EASTERN),
        )
        drawer.case = moved
        assert response_line(app).plain.strip() == (
            "Response no longer due: the case moved on from “Request for Evidence Was Sent” "
            "on 2026-06-02"
        )
        # A case that never had a notice to answer says nothing of it.
        drawer.case = four_cases(tmp_path).get("EAC9999103404")
        assert response_line(app).plain == ""


async def test_the_drawer_says_its_ages_and_who_noticed_in_words_in_both_languages(
    tmp_path: Path,
) -> None:
    watchlist = Watchlist(tmp_path / "watchlist.toml")
    number = parse_receipt_number(RFE_RECEIPT)
    watchlist.add(number, added_at=datetime(2026, 11, 1, tzinfo=US_EASTERN))
    status = CaseStatus(
        RFE_RECEIPT,
        "I-130",
        "Case Was Approved",
        "Approved.",
        title_es="Caso Fue Aprobado",
        submitted=datetime(2023, 2, 19, 12, 0, tzinfo=US_EASTERN),  # 1379 days before
        modified=datetime(2026, 11, 28, 12, 0, tzinfo=US_EASTERN),  # the day before
    )
    watchlist.record_status(number, status, datetime(2026, 11, 28, 13, 0, tzinfo=US_EASTERN))
    app = DrawerAndFind()
    async with app.run_test(size=(120, 30)):
        drawer = app.query_one(HistoryDrawer)
        drawer.case, drawer.is_open = watchlist.get(RFE_RECEIPT), True
        text = painted(app)
        assert "Filed 2023-02-19 (1379 days ago) · changed 2026-11-28 (1 day in this status)" in (
            text
        )
        assert "casewatch noticed · started watching: Case Was Approved" in text
        assert " seen " not in text
        drawer.spanish = True
        text = painted(app)
        assert (
            "Presentado 2023-02-19 (hace 1379 días) · cambiado 2026-11-28 (1 día en este estado)"
        ) in text
        assert "casewatch notó · empezó a seguir el caso: Caso Fue Aprobado" in text
        assert "atrás" not in text and "visto" not in text
