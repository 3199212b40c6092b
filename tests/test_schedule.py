from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from casewatch.cases import US_EASTERN, CaseStatus
from casewatch.receipts import parse_receipt_number
from casewatch.schedule import (
    FINAL_FACTOR,
    SLOW_FACTOR,
    daily_requests,
    due_cases,
    is_final,
    refresh_interval,
)
from casewatch.uscis.errors import ReceiptNotRecognized
from casewatch.watchlist import WatchedCase

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=US_EASTERN)


def case(receipt: str, title: str | None, checked_hours_ago: float | None) -> WatchedCase:
    number = parse_receipt_number(receipt)
    status = None if title is None else CaseStatus(number.value, "I-485", title, "")
    checked = None if checked_hours_ago is None else NOW - timedelta(hours=checked_hours_ago)
    return WatchedCase(number, added_at=NOW, status=status, checked_at=checked)


@pytest.mark.parametrize(
    ("title", "factor"),
    [
        (None, 1),
        ("Request for Additional Evidence Was Sent", 1),
        ("Interview Was Scheduled", 1),
        ("Case Is Being Actively Reviewed By USCIS", SLOW_FACTOR),
        ("Card Was Mailed To Me", SLOW_FACTOR),
        ("Card Was Delivered To Me By The Post Office", FINAL_FACTOR),
        ("Case Was Denied", FINAL_FACTOR),
        ("Withdrawal Acknowledgement Notice Was Sent", FINAL_FACTOR),
    ],
)
def test_intervals_follow_the_stage(title: str | None, factor: int) -> None:
    assert refresh_interval(case("EAC9999103403", title, 1), 60) == timedelta(hours=factor)


def test_a_case_whose_last_check_failed_is_checked_every_interval() -> None:
    failed = WatchedCase(
        parse_receipt_number("EAC9999103403"),
        added_at=NOW,
        status=CaseStatus("EAC9999103403", "I-485", "Case Was Denied", ""),
        last_error="USCIS is unavailable",
    )
    assert not is_final(case("EAC9999103403", "Case Was Approved", 1))
    assert refresh_interval(failed, 60) == timedelta(hours=1)


def test_due_cases_come_most_overdue_first() -> None:
    cases = [
        case("EAC9999103401", "Case Was Denied", 3),  # final: due after 24 h
        case("EAC9999103402", "Interview Was Scheduled", 3),  # 2 h late
        case("EAC9999103403", None, None),  # never checked: first
        case("EAC9999103404", "Case Is Being Actively Reviewed By USCIS", 1),  # not due
        case("EAC9999103405", "Case Is Being Actively Reviewed By USCIS", 5),  # 3 h late
    ]
    due = [receipt.value for receipt in due_cases(cases, NOW, 60)]
    assert due == ["EAC9999103403", "EAC9999103405", "EAC9999103402"]


def test_daily_requests_show_when_the_quota_cannot_keep_up() -> None:
    cases = [case(f"EAC99991{n:05d}", "Interview Was Scheduled", 1) for n in range(2000)]
    assert daily_requests(cases, 60) == pytest.approx(2000 * 24)
    calm = [case(f"EAC99991{n:05d}", "Case Was Denied", 1) for n in range(2000)]
    assert daily_requests(calm, 60) == pytest.approx(2000)


def test_cases_that_failed_while_uscis_was_unreachable_are_due_when_it_answers() -> None:
    # Answered 2 h ago, failed 1 minute ago (an interval is 1 h): due again at once, so
    # the first pass after an outage brings their data up to date.
    answered = case("EAC9999103401", "Interview Was Scheduled", 2)
    failed = replace(
        answered,
        answered_at=answered.checked_at,
        checked_at=NOW - timedelta(minutes=1),
        last_error="Could not reach USCIS",
    )
    never_answered = replace(case("EAC9999103402", None, 1 / 60), last_error="Could not reach")
    assert due_cases([failed, never_answered], NOW, 60) == [failed.receipt_number]
    assert due_cases([replace(failed, last_error="")], NOW, 60) == []


def test_a_case_uscis_does_not_recognize_waits_its_interval_from_that_check() -> None:
    # Counted from its last answer, long ago, it came first in every pass and spent the
    # quota of 100,000 cases before those not checked yet.
    answered = case("EAC9999103401", "Interview Was Scheduled", 48)
    unknown = replace(
        answered,
        checked_at=NOW - timedelta(minutes=1),
        last_error=f"{ReceiptNotRecognized.summary}: EAC9999103401",
    )
    assert due_cases([unknown], NOW, 60) == []
    assert due_cases([unknown], NOW + timedelta(hours=1), 60) == [unknown.receipt_number]
