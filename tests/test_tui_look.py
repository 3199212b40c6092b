"""Pilot tests of the dashboard's look and keys: themes, narrow panes, vim keys, the key
list, the command palette, remapped keys and a large watchlist."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from rich.style import Style
from rich.text import Text
from textual.widgets import Input, Label, Static
from textual.widgets._footer import FooterKey

from casewatch.cases import US_EASTERN
from casewatch.config import load_settings
from casewatch.config_file import ConfigError
from casewatch.receipts import parse_receipt_number
from casewatch.stages import Stage
from casewatch.tui.app import CaseWatchApp
from casewatch.tui.case_cells import fit_columns
from casewatch.tui.case_table import CaseTable
from casewatch.tui.dialogs import AskScreen, CaseDetailsScreen
from casewatch.tui.drawer import HistoryDrawer
from casewatch.tui.help import HelpScreen
from casewatch.tui.keys import case_bindings
from casewatch.tui.themes import (
    ThemeError,
    bundled_theme_files,
    load_theme_file,
    load_themes,
    remembered_theme,
    stage_styles,
)
from casewatch.watchlist import Watchlist, WatchlistError
from casewatch.watchlist import store as watchlist_store
from pilot_helpers import record_toasts, screen_text, until

BAD_COLOUR = 'name = "mine"\nprimary = "#12345"\n'


def column_keys(app: CaseWatchApp) -> list[str]:
    return [str(key.value) for key in app.query_one(CaseTable).columns]


def stage_style(app: CaseWatchApp, receipt: str) -> Style:
    cell = app.query_one(CaseTable).get_cell(receipt, "stage")
    assert isinstance(cell, Text) and isinstance(cell.style, Style)
    return cell.style


def test_three_themes_ship_inside_the_package() -> None:
    themes, problems = load_themes(bundled_theme_files())
    assert problems == []
    assert {"casewatch-dark", "casewatch-light", "casewatch-16"} <= set(themes)
    assert not themes["casewatch-light"].theme.dark
    assert themes["casewatch-16"].theme.ansi
    for theme in themes.values():
        assert set(theme.stage_styles) == set(Stage), theme.theme.name


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('name = "mine"\nprimary = "#5FA8D3"\n[stages]\nlost = "#FFFFFF"\n', "unknown stage"),
        (BAD_COLOUR, "'#12345' is not a colour"),
        ('name = "mine"\nprimary = "#5FA8D3"\nshade = 3\n', "unknown key 'shade'"),
        ('primary = "#5FA8D3"\n', "needs a name"),
        ('name = "mine"\n', "needs a primary colour"),
        ('name = "mine"\nprimary = "#5FA8D3"\ndark = "yes"\n', "dark must be true or false"),
        ('name = "mine\n', "line 1"),
    ],
)
def test_a_bad_theme_file_is_named_with_its_problem(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(text)
    with pytest.raises(ThemeError) as raised:
        load_theme_file(path)
    assert str(path) in str(raised.value)
    assert problem in str(raised.value)


def test_textual_themes_borrow_the_stage_colours_of_their_kind() -> None:
    themes, _ = load_themes(bundled_theme_files())
    from textual.theme import BUILTIN_THEMES

    light = stage_styles(BUILTIN_THEMES["textual-light"], themes)
    assert light == themes["casewatch-light"].stage_styles
    assert stage_styles(BUILTIN_THEMES["nord"], themes) == themes["casewatch-dark"].stage_styles
    assert stage_styles(BUILTIN_THEMES["ansi-dark"], themes) == themes["casewatch-16"].stage_styles


def test_the_least_important_columns_go_first_and_the_label_and_status_share_the_rest() -> None:
    everything = ["receipt", "label", "form", "status", "stage", "changed", "days", "due"]
    everything.append("checked")
    for width in (200, 160):
        widths = fit_columns(width)
        assert list(widths) == everything
        assert sum(widths.values()) + 2 * len(widths) + 3 == width  # no cell left empty
    assert fit_columns(200)["label"] == 40 and fit_columns(200)["status"] == 60
    assert list(fit_columns(140)) == everything[:-1]  # the due date, not the age
    # At 120 the label keeps room to tell a family's cases apart: "In status" hides first.
    assert fit_columns(120) == {
        "receipt": 15,
        "label": 28,
        "form": 7,
        "status": 27,
        "stage": 18,
        "changed": 10,
    }
    # At 80 the status hides before the label, which takes its room.
    assert fit_columns(80) == {"receipt": 15, "label": 38, "stage": 18}
    assert fit_columns(60) == {"receipt": 15, "label": 18, "stage": 18}
    assert list(fit_columns(40)) == ["receipt", "stage"]
    assert list(fit_columns(20)) == ["receipt", "stage"]  # never fewer


async def test_vim_keys_and_home_end_move_through_the_cases(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        table = app.query_one(CaseTable)
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("G")
        assert table.cursor_row == 49
        await pilot.press("g")
        assert table.cursor_row == 0
        await pilot.press("end")
        assert table.cursor_row == 49
        await pilot.press("home", "down")
        assert table.cursor_row == 1


async def test_question_mark_says_what_every_key_does_without_binding_ids(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = screen_text(app)
        for _, binding in case_bindings():
            what = " ".join((binding.tooltip or binding.description).split()[:3])
            assert what in shown, binding.id  # what it does
            assert f"({binding.id})" not in shown and f"[keys] {binding.id}" not in shown
        assert "Check the selected case now" in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_question_mark_names_the_id_of_a_remapped_key_in_a_second_column(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    app.settings = replace(app.settings, keys={"refresh": "f5"})
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        lines = screen_text(app).splitlines()
        (refresh,) = [line for line in lines if "Refresh every case now" in line]
        assert refresh.split()[0] == "f5" and refresh.rstrip().endswith("[keys] refresh")
        assert sum("[keys]" in line for line in lines) == 1  # only the remapped one


def test_the_configuration_page_lists_every_binding_id() -> None:
    page = (Path(__file__).parents[1] / "docs" / "configuration.md").read_text(encoding="utf-8")
    for _, binding in case_bindings():
        assert f"| `{binding.id}` |" in page, binding.id


async def test_keys_are_remapped_from_the_config_and_bad_ids_are_named(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    app.settings = replace(app.settings, keys={"next_stage": "z", "hyperdrive": "h"})
    toasts = record_toasts(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        assert any("hyperdrive" in message for _, message in toasts)
        await pilot.press("s")  # no longer bound
        assert "stage:" not in str(app.query_one(CaseTable).border_title)
        await pilot.press("z")
        assert "stage:" in str(app.query_one(CaseTable).border_title)
        assert ("z", "Stage filter") in {(keys, name) for keys, name, _, _ in app.key_list()}


async def test_a_key_remapped_onto_another_actions_key_is_named(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    app.settings = replace(app.settings, keys={"find": "j", "next_stage": "z"})
    toasts = record_toasts(app, monkeypatch)
    async with app.run_test(size=(120, 40)):
        await app.workers.wait_for_complete()
        warnings = [message for title, message in toasts if title == "Keys remapped twice"]
        assert len(warnings) == 1
        assert "j (cursor_down and find)" in warnings[0] and "z (" not in warnings[0]


async def test_the_palette_runs_casewatch_actions_and_saves_a_screenshot(
    make_app: Callable[..., CaseWatchApp], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)  # the dialog offers the current directory
    app = make_app()
    toasts = record_toasts(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert {"Refresh all", "Stage filter", "Add", "Keys", "Theme", "Screenshot"} <= set(titles)
        assert titles.count("Keys") == titles.count("Screenshot") == 1  # casewatch's own
        await pilot.press("ctrl+p", *"stage filter")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert "stage:" in str(app.query_one(CaseTable).border_title)
        await pilot.press("ctrl+p", *"screenshot")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(
            pilot, lambda: isinstance(app.screen, AskScreen) and bool(app.screen.query(Input))
        )
        offered = app.screen.query_one(Input).value
        assert offered == str(here / "casewatch-2026-11-29-093000.svg")  # frozen clock, EST
        await pilot.press("enter")
        await until(pilot, lambda: any(message.startswith("Saved") for _, message in toasts))
    (saved,) = here.glob("*.svg")
    assert toasts[-1] == ("", f"Saved to {saved}")  # the full path


async def test_the_screenshot_goes_to_the_path_typed_and_a_missing_folder_is_named(
    make_app: Callable[..., CaseWatchApp], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    toasts = record_toasts(app, monkeypatch)
    async with app.run_test(size=(60, 20)) as pilot:
        await app.workers.wait_for_complete()
        for answer in (f"{tmp_path}/shots/", f"{tmp_path}/pane", f"{tmp_path}/"):
            app.action_screenshot()
            await until(
                pilot, lambda: isinstance(app.screen, AskScreen) and bool(app.screen.query(Input))
            )
            app.screen.query_one(Input).value = answer
            await pilot.press("enter")
            await until(pilot, lambda: not isinstance(app.screen, AskScreen))
            await until(pilot, lambda: len(toasts) == 1)
            title, message = toasts.pop()
            if answer.endswith("shots/"):
                assert title == "Screenshot"  # no such folder: named, nothing created
                assert message.startswith("Cannot save the screenshot: ")
                assert f"{tmp_path}/shots" in message and not (tmp_path / "shots").exists()
        assert (tmp_path / "pane.svg").read_text(encoding="utf-8").startswith("<svg")
        assert message == f"Saved to {tmp_path / 'casewatch-2026-11-29-093000.svg'}"


async def test_a_theme_picked_in_the_palette_recolours_stages_and_is_remembered(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        assert app.theme == "casewatch-dark"
        dark = stage_style(app, "EAC9999103403")
        await pilot.press("ctrl+p", *"theme")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.5)
        await pilot.press(*"casewatch-light")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "casewatch-light"
        light = stage_style(app, "EAC9999103403")
        assert light.color != dark.color
        assert str(light.color.triplet.hex).upper() == "#2E7D32"  # type: ignore[union-attr]
    assert remembered_theme(app.settings.state_dir) == "casewatch-light"
    again = CaseWatchApp(app.settings, app.watchlist, clock=app.clock)
    async with again.run_test(size=(120, 40)):
        assert again.theme == "casewatch-light"


async def test_the_theme_option_wins_and_is_remembered(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    app.settings = replace(app.settings, theme="casewatch-16")
    async with app.run_test(size=(120, 40)):
        assert app.theme == "casewatch-16"
        assert app.current_theme.ansi
    assert remembered_theme(app.settings.state_dir) == "casewatch-16"


async def test_a_bad_user_theme_file_is_toasted_and_the_default_used(
    make_app: Callable[..., CaseWatchApp], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    (config / "themes").mkdir(parents=True)
    (config / "themes" / "mine.toml").write_text(BAD_COLOUR)
    (config / "themes" / "paper.toml").write_text(
        'name = "paper"\ndark = false\nprimary = "#224488"\n[stages]\napproved = "#008800"\n'
    )
    app = make_app()
    app.settings = replace(app.settings, config_path=config / "config.toml", theme="mine")
    toasts = record_toasts(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        messages = [message for _, message in toasts]
        assert any(str(config / "themes" / "mine.toml") in m and "#12345" in m for m in messages)
        assert any("no theme named 'mine'" in m for m in messages)
        assert app.theme == "casewatch-dark"
        assert remembered_theme(app.settings.state_dir) is None  # the fallback is no choice
        app.theme = "paper"  # the good user theme is there, its stages over the light ones
        await pilot.pause()
        assert stage_style(app, "EAC9999103403").color.triplet.hex == "#008800"  # type: ignore[union-attr]
        assert (
            app.dashboard.stage_styles[Stage.DENIED]
            == load_themes(bundled_theme_files())[0]["casewatch-light"].stage_styles[Stage.DENIED]
        )


async def test_a_narrow_pane_hides_columns_live_and_the_drawer_covers_the_table(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        assert len(column_keys(app)) == 6
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        assert column_keys(app) == ["receipt", "label", "stage"]
        assert app.query_one(CaseTable).row_count == 50
        await pilot.press("j", "j", "enter")
        drawer = app.query_one(HistoryDrawer)
        assert drawer.has_class("-open")
        assert drawer.size.width >= 58
        assert (
            app.query_one(CaseTable).selected_receipt == "EAC9999103405"
        )  # kept as the columns changed
        await pilot.press("down")  # the table keeps the focus under the drawer
        assert app.query_one(CaseTable).selected_receipt == "EAC9999103410"
        head = app.query_one("#drawer-body", Static).content.renderables[0]  # type: ignore[union-attr]
        assert head.plain.startswith("EAC9999103410")  # the drawer follows the cursor
        await pilot.press("escape")
        await pilot.resize_terminal(40, 12)
        await pilot.pause()
        assert column_keys(app) == ["receipt", "stage"]
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert len(column_keys(app)) == 6


async def test_the_add_dialog_fits_a_40x12_pane(make_app: Callable[..., CaseWatchApp]) -> None:
    app = make_app()
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.press("a")
        for button in app.screen.query("Button"):
            region = button.region
            assert region.height >= 1 and region.bottom <= 12 and region.right <= 40, button


async def test_a_large_watchlist_fills_in_batches_and_keeps_the_selection(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app(synthetic=True)
    added_at = datetime(2026, 11, 1, tzinfo=US_EASTERN)
    big = Watchlist.load(app.watchlist.path)  # the cases on disk are removed, not merged in
    for receipt in list(big.cases):
        big.remove(receipt)
    for number in range(1, 1201):
        big.add(parse_receipt_number(f"EAC26{number:08d}"), added_at=added_at)
    app.watchlist = big
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(CaseTable)
        assert table.border_title == "Cases · 1200"
        await until(pilot, lambda: table.row_count == 1200)
        await pilot.press("G")
        assert table.selected_receipt == "EAC2600001200"
        table.fill()  # a refill (filter, sort, theme) keeps the selected case at once
        assert table.selected_receipt == "EAC2600001200"
        await until(pilot, lambda: not table.filling)
        assert table.row_count == 1200
        assert table.selected_receipt == "EAC2600001200"
        await pilot.press("o", "e")  # a key right after a re-sort: the case shown
        assert isinstance(app.screen, CaseDetailsScreen)
        assert "EAC2600001200" in str(app.screen.query_one(".dialog-title", Label).render())
        await pilot.press("escape", "G", "enter")  # the drawer opened on the last row
        await pilot.press("escape", "e")  # closed: the columns change, the case stays
        assert "EAC2600001200" in str(app.screen.query_one(".dialog-title", Label).render())


def test_the_config_file_keys_table_is_read_and_checked(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keys]\nrefresh = "f5"\nquit = "q,ctrl+q"\n')
    assert load_settings(config_path=config, environ={}).keys == {
        "refresh": "f5",
        "quit": "q,ctrl+q",
    }
    config.write_text("[keys]\nrefresh = 5\n")
    with pytest.raises(ConfigError, match=r"\[keys\] maps a binding id to keys"):
        load_settings(config_path=config, environ={})


def long_file(app: CaseWatchApp, count: int, unseen: int = 0) -> list[str]:
    """Write ``count`` cases to the dashboard's watchlist file (the ``unseen``-th marked
    changed), then give the dashboard their first 20 only, as ``casewatch`` does with a
    long file; returns the receipts in order."""
    added_at = datetime(2026, 11, 1, tzinfo=US_EASTERN)
    app.watchlist.path.unlink()  # the demo's cases go
    file = Watchlist(app.watchlist.path)
    for number in range(1, count + 1):
        file.add(parse_receipt_number(f"EAC26{number:08d}"), added_at=added_at)
    if unseen:
        key = list(file.cases)[unseen - 1]
        file.cases[key] = replace(file.cases[key], unseen=True)
    file.save()
    app.watchlist = Watchlist.load_first(app.watchlist.path, 20)
    assert app.watchlist.unread == count - 20
    return list(file.cases)


def hold_reads(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """From now on, reads of the whole watchlist file wait until the event is set."""
    go = threading.Event()
    read_current = watchlist_store.read_current

    def held(*args: Any) -> Any:
        assert go.wait(60)
        return read_current(*args)

    monkeypatch.setattr(watchlist_store, "read_current", held)
    return go


async def test_a_long_file_shows_its_first_cases_and_its_count_then_all(
    make_app: Callable[..., CaseWatchApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(synthetic=True)
    order = long_file(app, 300, unseen=2)
    held_reads = hold_reads(monkeypatch)
    before = app.watchlist.path.read_bytes()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(CaseTable)
        assert table.border_title == "Cases · 300 · reading the watchlist"
        assert table.row_count == 20 and not app.dashboard.sync.lease.held  # no refresh yet
        await pilot.press("d", "slash", "R")  # wait for every case: nothing happens
        assert app.screen is app.screen_stack[0] and not app.query_one("#find").has_focus
        assert app.dashboard.check_action("delete_case", ()) is None
        await pilot.press("j", "enter")  # viewed: marked seen in memory, saved later
        assert not app.watchlist.get(order[1]).unseen
        await pilot.pause(0.2)
        assert app.watchlist.path.read_bytes() == before
        held_reads.set()
        await until(pilot, lambda: table.row_count == 300)
        assert table.border_title == "Cases · 300" and app.dashboard.check_action("delete_case", ())
        assert (
            list(app.watchlist.cases) == order
            and app.query_one(CaseTable).selected_receipt == order[1]
        )
        await until(pilot, lambda: not Watchlist.load(app.watchlist.path).get(order[1]).unseen)
        await until(pilot, lambda: app.dashboard.sync.lease.held)
    assert list(Watchlist.load(app.watchlist.path).cases) == order


async def test_a_long_file_that_does_not_parse_after_its_first_cases_ends_the_dashboard(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app(synthetic=True)
    order = long_file(app, 300)
    path = app.watchlist.path
    broken = path.read_text().replace(f'"{order[250]}"', order[250])
    path.write_text(broken)
    with pytest.raises(WatchlistError) as whole:
        Watchlist.load(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.load_error is not None)
    assert str(app.load_error) == str(whole.value) and app.return_code == 2
    assert path.read_text() == broken


async def test_at_60_columns_the_footer_shows_its_keys_uncovered(
    make_app: Callable[..., CaseWatchApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(60, 20)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = [key for key in app.screen.query("Footer FooterKey") if key.display]
        assert len(shown) == 7  # ⏎ r R / a ? q; the palette hint (ctrl+p) is in ? instead
        assert all(key.region.right <= 60 for key in shown)
        spans = sorted((key.region.x, key.region.right) for key in shown)
        assert all(left >= right for (_, right), (left, _) in itertools.pairwise(spans))


@pytest.mark.parametrize("size", [(60, 20), (120, 40)])
async def test_the_footers_keys_do_not_overlap_and_fit_the_pane(
    make_app: Callable[..., CaseWatchApp], size: tuple[int, int]
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        keys = [key for key in app.screen.query(FooterKey) if key.display]
        assert len(keys) >= 7  # check, refresh all, find, add, keys, quit and history
        spans = sorted((key.region.x, key.region.right) for key in keys)
        assert all(
            left_end <= right_start for (_, left_end), (right_start, _) in itertools.pairwise(spans)
        )
        assert spans[-1][1] <= size[0]
