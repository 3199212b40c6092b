"""Response deadlines, what needs attention and the calendar (issue 14, points 3 and 4):
a scripted USCIS moves a case to "Request for Evidence Was Sent" on March 5, 2026, and
the user sees its response due date in ``casewatch attention``, the ``on_change`` event
and the ``.ics`` file, moved by ``edit --due`` without a new UID; the rules for each
kind of notice, the dates from fields and from text, overdue and closed deadlines."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from casewatch import deadline_verbs
from casewatch.attention import Reason, needs_attention
from casewatch.cases import US_EASTERN, CaseStatus
from casewatch.cli import main
from casewatch.config import load_settings
from casewatch.config_file import ConfigError
from casewatch.deadlines import NoticeKind, ResponseDays, notice_kind, response_due
from casewatch.receipts import parse_receipt_number
from casewatch.watchlist import ChangeEvent, WatchedCase, Watchlist, case_text, parse_watchlist
from conftest import case_status_answer, scripted_uscis
from test_refresh_cli import refresh_with_hook

RECEIPT = "EAC9999103403"
RFE_TITLE = "Request for Evidence Was Sent"
RFE_TEXT = (
    "On March 5, 2026, we sent a request for evidence for your Form I-485, Application to "
    "Register Permanent Residence or Adjust Status. The request explains what we need."
)


def answer(title: str, description: str, modified: str | None) -> object:
    return case_status_answer(
        RECEIPT,
        formType="I-485",
        current_case_status_text_en=title,
        current_case_status_desc_en=description,
        modifiedDate=modified,
    )


def frozen(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    moment = datetime(day.year, day.month, day.day, 9, 30, tzinfo=US_EASTERN)
    monkeypatch.setattr(deadline_verbs, "_now", lambda: moment)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def read_calendar(path: Path) -> list[tuple[str, date, str, timedelta]]:
    """Each event of the .ics file, parsed back with icalendar: UID, start, summary and
    its alarm's trigger."""
    calendar = Calendar.from_ical(path.read_bytes())
    return [
        (
            str(event["UID"]),
            event.decoded("DTSTART"),
            str(event["SUMMARY"]),
            event.walk("VALARM")[0].decoded("TRIGGER"),
        )
        for event in calendar.walk("VEVENT")
    ]


def test_a_request_for_evidence_is_due_in_attention_the_hook_and_the_calendar_and_due_moves_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    received = answer("Case Was Received", "On January 10, 2026, we received it.", "01-10-2026")
    rfe = answer(RFE_TITLE, RFE_TEXT, "03-05-2026 14:28:46")
    answered = answer(
        "Response To USCIS' Request For Evidence Was Received", "We got it.", "05-27-2026"
    )
    watchlist = tmp_path / "w.toml"
    common = ["--watchlist", str(watchlist)]
    ics = tmp_path / "due.ics"
    with scripted_uscis({RECEIPT: [received, rfe, rfe, answered]}) as uscis:
        assert main(["add", RECEIPT, "--label", "AOS", "--client", "Garcia, Maria", *common]) == 0
        capsys.readouterr()
        assert refresh_with_hook(uscis.url, tmp_path, capsys) == ""
        assert RECEIPT in refresh_with_hook(uscis.url, tmp_path, capsys)  # the RFE
        event = json.loads((tmp_path / "hook.log").read_text().splitlines()[-1])
        assert event["status"] == RFE_TITLE
        assert event["response_due"]["due"] == "2026-05-31"
        assert event["response_due"]["notice_date"] == "2026-03-05"
        assert event["response_due"]["kind"] == "request for evidence"
        assert event["response_due"]["estimated"] is True

        frozen(monkeypatch, date(2026, 5, 19))
        code, out, _ = run(capsys, "attention", *common)
        assert code == 0
        lines = out.splitlines()
        assert lines[0] == (
            f"{RECEIPT} (Garcia, Maria · AOS)  response due ≈ 2026-05-31, in 12 days "
            "— the notice has the exact date"
        )
        assert lines[1].startswith(f"{RECEIPT} (Garcia, Maria · AOS)  change not viewed: changed:")
        code, out, _ = run(capsys, "attention", "--json", *common)
        first = json.loads(out.splitlines()[0])
        assert first["reason"] == "response due" and first["response_due"]["due"] == "2026-05-31"
        assert first["client"] == "Garcia, Maria" and first["label"] == "AOS"
        assert first["response_due"]["days_left"] == 12

        assert run(capsys, "calendar", "--output", str(ics), *common)[0] == 0
        [(uid, start, summary, trigger)] = read_calendar(ics)
        assert start == date(2026, 5, 31)
        assert summary == f"Response due (estimate): {RECEIPT} I-485 — Garcia, Maria · AOS"
        assert trigger == -timedelta(days=14)

        code, out, _ = run(capsys, "edit", RECEIPT, "--due", "2026-05-28", *common)
        assert code == 0
        assert "response due 2026-05-28 (from the notice), in 9 days" in out
        assert run(capsys, "calendar", "--output", str(ics), *common)[0] == 0
        assert read_calendar(ics) == [
            (
                uid,
                date(2026, 5, 28),
                f"Response due: {RECEIPT} I-485 — Garcia, Maria · AOS",
                -timedelta(days=14),
            )
        ]
        # A check that finds the same notice keeps the date the user gave.
        assert refresh_with_hook(uscis.url, tmp_path, capsys) == ""
        assert Watchlist.load(watchlist).get(RECEIPT).response_due == date(2026, 5, 28)

        frozen(monkeypatch, date(2026, 6, 2))  # passed, the status unchanged: overdue
        out = run(capsys, "attention", *common)[1]
        assert "OVERDUE response due 2026-05-28 (from the notice), overdue by 5" in out
        assert run(capsys, "calendar", "--output", str(ics), *common)[0] == 0
        assert [event[0] for event in read_calendar(ics)] == [uid]

        refresh_with_hook(uscis.url, tmp_path, capsys)  # the response was received: closed
        code, out, _ = run(capsys, "attention", *common)
        assert code == 0 and "response due" not in out
        assert run(capsys, "calendar", "--output", str(ics), *common)[0] == 0
        assert read_calendar(ics) == []
    case = Watchlist.load(watchlist).get(RECEIPT)
    assert case.notice_date is None and case.response_due is None


def test_due_none_goes_back_to_the_estimate_and_bad_input_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    watchlist = tmp_path / "w.toml"
    common = ["--watchlist", str(watchlist)]
    with scripted_uscis({RECEIPT: answer(RFE_TITLE, RFE_TEXT, "03-05-2026")}) as uscis:
        assert main(["add", RECEIPT, "EAC9999103404", *common]) == 0
        refresh_with_hook(uscis.url, tmp_path, capsys)
    frozen(monkeypatch, date(2026, 5, 19))
    assert run(capsys, "edit", RECEIPT, "--due", "2026-05-28", *common)[0] == 0
    code, out, _ = run(capsys, "edit", RECEIPT, "--due", "None", *common)
    assert code == 0 and "response due ≈ 2026-05-31, in 12 days" in out
    before = watchlist.read_text()
    with pytest.raises(SystemExit) as exited:
        main(["edit", RECEIPT, "--due", "2026-5-28", *common])
    assert exited.value.code == 2
    assert "give the date on the notice as YYYY-MM-DD" in capsys.readouterr().err
    code, _, err = run(capsys, "edit", "EAC9999103404", "--due", "2026-05-28", *common)
    assert code == 2 and "waits for no response" in err  # the scripted 404: no status
    code, _, err = run(capsys, "edit", "EAC9999109999", "--due", "2026-05-28", *common)
    assert code == 2 and "is not on the watchlist" in err
    # One edit gives a client and a due date, or, when the due date is refused, neither.
    code, _, err = run(
        capsys, "edit", "EAC9999103404", "--client", "Doe", "--due", "2026-05-28", *common
    )
    assert code == 2 and "waits for no response" in err and "nothing was changed" in err
    assert watchlist.read_text() == before
    code, out, _ = run(capsys, "edit", RECEIPT, "--client", "Doe", "--due", "2026-05-28", *common)
    assert code == 0 and "client set to 'Doe'" in out and "response due 2026-05-28" in out


def case_in(title: str, *, modified: datetime | None = None, description: str = "") -> WatchedCase:
    status = CaseStatus(RECEIPT, "I-130", title, description, modified=modified)
    added = datetime(2026, 1, 2, tzinfo=US_EASTERN)
    return WatchedCase(parse_receipt_number(RECEIPT), added_at=added, status=status)


MARCH_5 = datetime(2026, 3, 5, 14, 28, tzinfo=US_EASTERN)


@pytest.mark.parametrize(
    ("title", "kind", "due"),
    [
        (RFE_TITLE, NoticeKind.REQUEST_FOR_EVIDENCE, date(2026, 5, 31)),
        ("Request for Initial Evidence Was Mailed", NoticeKind.REQUEST_FOR_EVIDENCE, None),
        ("Notice Of Intent To Deny Was Sent", NoticeKind.NOTICE_OF_INTENT, date(2026, 4, 7)),
        ("Intent to Revoke Notice Was Sent", NoticeKind.NOTICE_OF_INTENT, None),
        ("Intent To Rescind Notice Was Mailed", NoticeKind.NOTICE_OF_INTENT, None),
        (
            "Notice Of USCIS&#39; Intent To Terminate My Status Was Mailed",
            NoticeKind.NOTICE_OF_INTENT,
            None,
        ),
        ("Continuation Notice Was Mailed", NoticeKind.CONTINUATION_NOTICE, date(2026, 4, 7)),
    ],
)
def test_each_kind_of_notice_gets_its_estimate(
    title: str, kind: NoticeKind, due: date | None
) -> None:
    deadline = response_due(case_in(title, modified=MARCH_5))
    assert deadline is not None and deadline.kind is kind and deadline.estimated
    assert deadline.notice_date == date(2026, 3, 5)
    days = {NoticeKind.REQUEST_FOR_EVIDENCE: 87}.get(kind, 33)
    assert deadline.due == (due or date(2026, 3, 5) + timedelta(days=days))
    longer = response_due(case_in(title, modified=MARCH_5), ResponseDays(90, 40, 45))
    assert longer is not None and longer.due > deadline.due


@pytest.mark.parametrize(
    "title",
    [
        "Response To USCIS' Request For Evidence Was Received",  # answered: in review
        "Form G-28 Was Rejected Because It Was Improperly Filed",  # action, but no notice
        "Case Was Approved",
        "Interview Was Scheduled",
    ],
)
def test_statuses_that_ask_no_answer_have_no_deadline(title: str) -> None:
    assert notice_kind(title) is None
    assert response_due(case_in(title, modified=MARCH_5)) is None


def test_an_unlisted_action_needed_title_is_judged_by_its_words() -> None:
    assert notice_kind("Notice Of Intent To Revoke Was Mailed") is NoticeKind.NOTICE_OF_INTENT
    assert notice_kind("Request For Evidence Was Emailed") is NoticeKind.REQUEST_FOR_EVIDENCE


def test_the_notice_date_comes_from_the_description_else_the_day_casewatch_saw_it() -> None:
    from_text = response_due(case_in(RFE_TITLE, description=f"<p>{RFE_TEXT}</p>"))
    assert from_text is not None and from_text.notice_date == date(2026, 3, 5)
    watchlist = Watchlist(Path("unused.toml"))
    receipt = parse_receipt_number(RECEIPT)
    watchlist.add(receipt, added_at=datetime(2026, 1, 2, tzinfo=US_EASTERN))
    status = CaseStatus(RECEIPT, "I-130", RFE_TITLE, "We sent you a request for evidence.")
    seen = datetime(2026, 3, 7, 23, 30, tzinfo=US_EASTERN)
    case, _ = watchlist.record_status(receipt, status, seen)
    assert case.notice_date == date(2026, 3, 7)
    # Recorded: a later check, days after, keeps the notice's date and so its UID.
    later, _ = watchlist.record_status(receipt, status, seen + timedelta(days=9))
    deadline = response_due(later)
    assert deadline is not None and deadline.notice_date == date(2026, 3, 7)
    assert deadline.due == date(2026, 6, 2)
    assert deadline.uid == f"{RECEIPT}-20260307@casewatch"


def test_the_notice_date_and_due_date_are_stored_and_read_back() -> None:
    case = WatchedCase(
        parse_receipt_number(RECEIPT),
        added_at=datetime(2026, 1, 2, tzinfo=US_EASTERN),
        notice_date=date(2026, 3, 5),
        response_due=date(2026, 5, 28),
    )
    text = case_text(case)
    assert "notice_date = 2026-03-05" in text and "response_due = 2026-05-28" in text
    [read] = parse_watchlist(f"schema = 2\n{text}", Path("w.toml")).values()
    assert read == case


def test_a_due_date_set_in_one_process_survives_a_check_saved_by_another(tmp_path: Path) -> None:
    path = tmp_path / "w.toml"
    receipt = parse_receipt_number(RECEIPT)
    status = CaseStatus(RECEIPT, "I-485", RFE_TITLE, RFE_TEXT, modified=MARCH_5)
    first = Watchlist(path)
    first.add(receipt, added_at=MARCH_5)
    first.record_status(receipt, status, MARCH_5)
    first.save()
    pane, cron = Watchlist.load(path), Watchlist.load(path)
    pane.set_response_due(receipt, date(2026, 5, 28))
    pane.save()
    cron.record_status(receipt, status, MARCH_5 + timedelta(days=1))
    cron.save()
    assert Watchlist.load(path).get(receipt).response_due == date(2026, 5, 28)


def test_settings_change_the_estimates_and_bad_ones_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("request_for_evidence_days = 90\nquiet_days = 30\n")
    settings = load_settings(config_path=config, environ={})
    assert settings.response_days == ResponseDays(request_for_evidence=90)
    assert settings.quiet_days == 30
    assert settings.sources["request_for_evidence_days"].startswith("config file")
    from_variable = load_settings(config_path=config, environ={"CASEWATCH_QUIET_DAYS": "7"})
    assert from_variable.quiet_days == 7
    config.write_text("notice_of_intent_days = 0\n")
    with pytest.raises(ConfigError, match="notice_of_intent_days must be from 1 to 3650"):
        load_settings(config_path=config, environ={})
    config.write_text('quiet_days = "180"\n')
    with pytest.raises(ConfigError, match="quiet_days"):
        load_settings(config_path=config, environ={})


def test_attention_lists_each_reason_in_order() -> None:
    now = datetime(2026, 11, 29, 9, 30, tzinfo=US_EASTERN)
    long_ago = now - timedelta(days=400)

    def case(number: str, title: str, **fields: object) -> WatchedCase:
        status = CaseStatus(number, "I-130", title, "", modified=long_ago)
        receipt = parse_receipt_number(number)
        return WatchedCase(receipt, added_at=long_ago, status=status, **fields)  # type: ignore[arg-type]

    change = ChangeEvent(
        now - timedelta(hours=2), None, "Case Was Received", "Case Remains Pending", ("title",)
    )
    cases = [
        case(
            "EAC9999100001",
            "Case Was Approved",
            last_error="USCIS did not answer",
            answered_at=now - timedelta(days=3),
        ),
        case("EAC9999100002", "Case Was Denied"),  # final: never quiet
        case("EAC9999100003", "Case Remains Pending", unseen=True, events=(change,)),
        case("EAC9999100004", "A Title Nobody Has Seen"),
        case(
            "EAC9999100005", RFE_TITLE, last_error="timed out", answered_at=now - timedelta(hours=5)
        ),
    ]
    entries = needs_attention(cases, now, quiet_days=180)
    assert [(entry.case.receipt_number.value, entry.reason) for entry in entries] == [
        ("EAC9999100005", Reason.RESPONSE_DUE),
        ("EAC9999100003", Reason.UNSEEN),
        ("EAC9999100004", Reason.UNKNOWN_TITLE),
        ("EAC9999100001", Reason.FAILING),
        ("EAC9999100001", Reason.QUIET),
        ("EAC9999100003", Reason.QUIET),
        ("EAC9999100004", Reason.QUIET),
    ]
    assert entries[0].overdue and "overdue by" in entries[0].why
    assert entries[1].why == "changed: Case Was Received → Case Remains Pending"
    assert entries[3].why == "no answer for 3 days: USCIS did not answer"
    assert entries[4].why.startswith("USCIS has not changed it for 400 days")
