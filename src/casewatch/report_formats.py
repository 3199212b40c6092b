"""The report's four formats (issue 15, point 2): Markdown to paste into an e-mail or a
ticket (and the body of ``--notify``), one self-contained HTML page (inline CSS, the
stage colours, readable printed), CSV with one row per change, and text for the
terminal. :func:`render` draws a :class:`casewatch.report.Report` in any of them.

Every text of a case (a title, a label, a client's name) may come from USCIS or from a
file and is treated as hostile: escaped for HTML (:func:`html.escape`) and for Markdown
(:func:`markdown_text`), made one line of printable characters for the terminal, made
spreadsheet-safe in CSV (:func:`casewatch.listing.spreadsheet_safe`). A masked report
goes through :func:`casewatch.receipts.mask_receipts` whole, after it is drawn.
"""

from __future__ import annotations

import csv
import html
import io
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from functools import cache
from importlib import resources

from casewatch.attention import Attention
from casewatch.cases import one_line
from casewatch.check import align_columns
from casewatch.listing import spreadsheet_safe
from casewatch.receipts import mask_receipts
from casewatch.report import Report, ReportChange
from casewatch.stages import Stage
from casewatch.timezones import format_time

FORMATS = ("markdown", "html", "csv", "text")
"""The formats of :func:`render`, the first the default."""

CSV_COLUMNS = (
    "client",
    "receipt_number",
    "label",
    "form_type",
    "previous_status",
    "status",
    "stage",
    "changed",
    "uscis_changed_on",
    "seen_at",
)
"""The header of the CSV report: one row per change. ``changed`` names what changed
(``title; description``), ``uscis_changed_on`` is when USCIS made it (a US Eastern date,
or ``date not given``), ``seen_at`` when casewatch saw it (ISO 8601 with its offset)."""

PALETTE_THEME = "casewatch-light.toml"
"""The bundled theme whose ``[stages]`` colours the HTML report: dark colours on white,
which print."""

NO_CLIENT = "No client"
"""The heading of the changes of cases without a client (listed last)."""

BOTH_CLOCKS = (
    "Each change has two dates: when USCIS made it, and when casewatch saw it (US Eastern)."
)

NOT_ANSWERED = "not answered yet"
"""The line of the stage counts for cases USCIS never answered."""


def render(report: Report, form: str) -> str:
    """``report`` in ``form``, one of :data:`FORMATS`, ending with a newline; every
    receipt number masked when :attr:`Report.masked`. Raises :class:`ValueError` for
    another format."""
    drawers: dict[str, Callable[[Report], str]] = {
        "markdown": render_markdown,
        "html": render_html,
        "csv": render_csv,
        "text": render_text,
    }
    if form not in drawers:
        raise ValueError(f"{form!r} is not a report format: give one of {', '.join(FORMATS)}")
    text = drawers[form](report)
    return mask_receipts(text) if report.masked else text


def _made(report: Report) -> str:
    count = f"{report.cases} case{'s' * (report.cases != 1)}"
    covers = f"of {one_line(report.selection)}" if report.selection else "(the whole watchlist)"
    return f"{count} {covers}, made {format_time(report.now, report.zone)}."


def _stage_name(stage: Stage | None) -> str:
    return stage.value if stage is not None else NOT_ANSWERED


def _names(change: ReportChange) -> str:
    return " · ".join(one_line(part) for part in (change.form_type, change.label) if part)


def _seen(change: ReportChange, zone: tzinfo) -> str:
    return f"USCIS: {change.uscis_date} · seen: {format_time(change.seen_at, zone)}"


@dataclass(frozen=True, slots=True)
class _Listed:
    """A case in the list of deadlines or of attention: its receipt number, client and
    label (``names``), why it is listed, and whether it is overdue."""

    receipt: str
    names: str
    why: str
    overdue: bool = False


def _case_lists(report: Report) -> tuple[tuple[str, list[_Listed], str], ...]:
    """The report's lists of cases, each with its heading and what it says when empty:
    the response deadlines, then what needs attention."""
    today = report.today
    deadlines = [
        _Listed(due.receipt_number, due.names, due.describe(today), due.days_left(today) < 0)
        for due in report.deadlines
    ]
    attention = [
        _Listed(entry.case.receipt_number.value, entry.case.names, _attention_why(entry))
        for entry in report.attention
    ]
    return (
        ("Response deadlines", deadlines, "None open."),
        ("Needs attention", attention, "Nothing."),
    )


def _attention_why(entry: Attention) -> str:
    return f"{entry.reason.value}: {one_line(entry.why)}"


# --- text -------------------------------------------------------------------------


def render_text(report: Report) -> str:
    """The report for a terminal: sections in capitals, one line per change with its
    two clocks on the next, every case text on one printable line."""
    lines = [report.title, _made(report), BOTH_CLOCKS, "", "CHANGES"]
    if not report.by_client:
        lines.append("  no change in this period")
    for group in report.by_client:
        lines.append(f"  {one_line(group.client) or NO_CLIENT}")
        for change in group.changes:
            names = _names(change)
            lines.append(
                f"    {change.receipt_number}  {names + '  ' if names else ''}{change.what}"
            )
            lines.append(f"    {' ' * len(change.receipt_number)}  {_seen(change, report.zone)}")
    lines += ["", "CASES BY STAGE"]
    rows = [(f"  {_stage_name(stage)}", str(count)) for stage, count in report.stages]
    lines += align_columns(rows).splitlines() if rows else ["  no case"]
    for heading, listed, empty in _case_lists(report):
        lines += ["", heading.upper()]
        lines += [
            f"  {case.receipt}{f' ({one_line(case.names)})' if case.names else ''}  {case.why}"
            for case in listed
        ] or [f"  {empty.lower().rstrip('.')}"]
    return "\n".join(lines) + "\n"


# --- Markdown ---------------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")


def markdown_text(text: str) -> str:
    """``text`` (one line, :func:`casewatch.cases.one_line`) as literal Markdown inside a
    line (never at its start: the report puts a list mark or a heading's ``#`` first, so
    no block can begin): no emphasis, code, link or image (a title
    ``![x](http://tracker/pixel.png)``, a tracking pixel in an e-mail, stays text), no
    table cell, and no HTML: ``<`` becomes ``&lt;`` and an ``&`` that would start an
    entity ``&amp;`` (CommonMark and Python-Markdown, which Apprise uses for e-mail,
    read both). A bare web address may still be shown as a link by GFM."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(text))
    return _ENTITY.sub("&amp;", escaped).replace("<", "&lt;")


def render_markdown(report: Report) -> str:
    """The report in Markdown (CommonMark with a GitHub table): a heading per section, one
    client per subheading, a list item per change, response deadline and entry needing
    attention."""
    lines = [
        f"# {report.title}",
        "",
        f"{markdown_text(_made(report))} {BOTH_CLOCKS}",
        "",
        "## Changes",
        "",
    ]
    if not report.by_client:
        lines += ["No change in this period.", ""]
    for group in report.by_client:
        lines += [f"### {markdown_text(group.client) if group.client else NO_CLIENT}", ""]
        for change in group.changes:
            names = _names(change)
            lines.append(
                f"- **{change.receipt_number}**{f' {markdown_text(names)}' if names else ''}: "
                f"{markdown_text(change.what)} ({_seen(change, report.zone)})"
            )
        lines.append("")
    lines += ["## Cases by stage", ""]
    if report.stages:
        lines += ["| Stage | Cases |", "| --- | ---: |"]
        lines += [f"| {_stage_name(stage)} | {count} |" for stage, count in report.stages]
    else:
        lines.append("No case.")
    for heading, listed, empty in _case_lists(report):
        lines += ["", f"## {heading}", ""]
        lines += [
            f"- **{case.receipt}**{f' {markdown_text(case.names)}' if case.names else ''}: "
            f"{markdown_text(case.why)}"
            for case in listed
        ] or [empty]
    return "\n".join(lines) + "\n"


# --- HTML -------------------------------------------------------------------------

OVERDUE_CLASS = ' class="overdue"'

_HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")

_CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1C232B;
  background: #FFFFFF; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: 0.25rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #DCE3EB; }
h3 { font-size: 1rem; margin: 1.25rem 0 0.5rem; }
p.made { color: #57606A; margin-top: 0; }
table { border-collapse: collapse; }
table.changes { width: 100%; table-layout: fixed; }
table.changes th:nth-child(1) { width: 8.5rem; }
table.changes th:nth-child(2) { width: 10rem; }
table.changes th:nth-child(4) { width: 8.5rem; }
table.changes th:nth-child(5) { width: 6.5rem; }
table.changes th:nth-child(6) { width: 10rem; }
table.stages { min-width: 18rem; }
th, td { text-align: left; vertical-align: top; padding: 0.3rem 0.5rem;
  border-bottom: 1px solid #EEF1F5; }
th { font-weight: 600; color: #57606A; }
td.count { text-align: right; font-variant-numeric: tabular-nums; }
.receipt { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  white-space: nowrap; }
.stage { font-weight: 600; white-space: nowrap; border-left: 4px solid currentColor;
  padding-left: 0.4rem; }
.when { white-space: nowrap; color: #57606A; }
.overdue { color: #C62828; font-weight: 600; }
@media print {
  body { margin: 0; max-width: none; font-size: 10.5pt; }
  h2 { break-after: avoid; }
  tr, li { break-inside: avoid; }
  th, td { border-bottom: 1px solid #999999; }
}
""".strip()


@cache
def stage_colours() -> dict[Stage, str]:
    """The colour (``#RRGGBB``) of each stage in the HTML report: the ``[stages]`` table
    of the bundled theme :data:`PALETTE_THEME` (``src/casewatch/themes``), the one the
    dashboard's light theme uses; a value that is not ``#RRGGBB`` is left out."""
    folder = resources.files("casewatch") / "themes"
    table = tomllib.loads((folder / PALETTE_THEME).read_text(encoding="utf-8")).get("stages", {})
    return {
        stage: table[stage.value]
        for stage in Stage
        if isinstance(table.get(stage.value), str) and _HEX_COLOUR.fullmatch(table[stage.value])
    }


def _css() -> str:
    colours = "\n".join(
        f".stage-{stage.name.lower()} {{ color: {colour}; }}"
        for stage, colour in stage_colours().items()
    )
    return f"{_CSS}\n{colours}"


def _stage_html(stage: Stage | None) -> str:
    kind = f" stage-{stage.name.lower()}" if stage is not None else ""
    return f'<span class="stage{kind}">{html.escape(_stage_name(stage))}</span>'


def _receipt_html(receipt: str) -> str:
    return f'<span class="receipt">{html.escape(receipt)}</span>'


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page: inline CSS (stage colours from
    :func:`stage_colours`, a print style), nothing loaded from elsewhere (its
    Content-Security-Policy forbids it, and scripts), every text escaped
    (:func:`html.escape`)."""
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(report.title)}</title>",
        f"<style>\n{_css()}\n</style>",
        "</head>",
        "<body>",
        f"<h1>{e(report.title)}</h1>",
        f'<p class="made">{e(_made(report))} {e(BOTH_CLOCKS)}</p>',
        "<h2>Changes</h2>",
    ]
    if not report.by_client:
        out.append("<p>No change in this period.</p>")
    for group in report.by_client:
        out.append(f"<h3>{e(one_line(group.client)) if group.client else NO_CLIENT}</h3>")
        out.append(
            '<table class="changes"><thead><tr><th>Receipt</th><th>Case</th><th>Change</th>'
            "<th>Stage</th><th>USCIS made it</th><th>casewatch saw it</th></tr></thead><tbody>"
        )
        out += [
            f"<tr><td>{_receipt_html(change.receipt_number)}</td><td>{e(_names(change))}</td>"
            f"<td>{e(change.what)}</td><td>{_stage_html(change.stage)}</td>"
            f'<td class="when">{e(change.uscis_date)}</td>'
            f'<td class="when">{e(format_time(change.seen_at, report.zone))}</td></tr>'
            for change in group.changes
        ]
        out.append("</tbody></table>")
    out.append("<h2>Cases by stage</h2>")
    if report.stages:
        out.append(
            '<table class="stages"><thead><tr><th>Stage</th><th>Cases</th></tr></thead><tbody>'
        )
        out += [
            f'<tr><td>{_stage_html(stage)}</td><td class="count">{count}</td></tr>'
            for stage, count in report.stages
        ]
        out.append("</tbody></table>")
    else:
        out.append("<p>No case.</p>")
    for heading, listed, empty in _case_lists(report):
        out.append(f"<h2>{heading}</h2>")
        out += _html_list(listed) if listed else [f"<p>{empty}</p>"]
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def _html_list(listed: list[_Listed]) -> list[str]:
    items = [
        f"<li>{_receipt_html(case.receipt)}"
        f"{f' ({html.escape(one_line(case.names))})' if case.names else ''}: "
        f"<span{OVERDUE_CLASS if case.overdue else ''}>{html.escape(case.why)}</span></li>"
        for case in listed
    ]
    return ["<ul>", *items, "</ul>"]


# --- CSV --------------------------------------------------------------------------


def csv_row(change: ReportChange) -> dict[str, str]:
    """The :data:`CSV_COLUMNS` of ``change``, as text (before
    :func:`~casewatch.listing.spreadsheet_safe`)."""
    return {
        "client": change.client,
        "receipt_number": change.receipt_number,
        "label": change.label,
        "form_type": change.form_type,
        "previous_status": change.previous_status,
        "status": change.status,
        "stage": change.stage.value,
        "changed": "; ".join(change.fields),
        "uscis_changed_on": change.uscis_date,
        "seen_at": change.seen_at.isoformat(timespec="minutes"),
    }


def render_csv(report: Report) -> str:
    """The changes as CSV (RFC 4180 quoting, ``\\n`` line ends), one row per change in the
    report's order (by client, cases without one last), with the header
    :data:`CSV_COLUMNS`; a cell a spreadsheet would run as a formula starts with ``'``
    (:func:`~casewatch.listing.spreadsheet_safe`; undone by
    :func:`~casewatch.listing.undo_spreadsheet_safe`)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(
        {key: spreadsheet_safe(value) for key, value in csv_row(change).items()}
        for group in report.by_client
        for change in group.changes
    )
    return buffer.getvalue()
