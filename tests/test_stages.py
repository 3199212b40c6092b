"""The stage of every known USCIS status title, and the keyword fallback for unseen ones.

The table (casewatch.stages.TITLES) holds the titles public trackers collected from
USCIS; these tests run all of it in the shapes USCIS really sends (case changed, spaces
doubled, apostrophes as HTML entities or typographic quotes) and check that the fallback
keeps the table's rules for titles nobody has seen yet.
"""

from __future__ import annotations

from collections import Counter

import pytest

from casewatch.cases import parse_case_status
from casewatch.sandbox.data import _STATUSES
from casewatch.stages import TITLES, Stage, classify_stage, fallback_stage, normalize_title


def variants(title: str) -> list[str]:
    """``title`` as USCIS may send it: as collected, upper-cased, with whitespace runs
    around and inside it, with its apostrophes as HTML entities (escaped again, as a
    proxy may) or typographic, and with a non-breaking space."""
    return [
        title,
        title.upper(),
        f"  {title.replace(' ', '   ')}\t\n",
        title.replace("'", "&apos;"),
        title.replace("'", "&#39;"),
        title.replace("'", "&amp;#39;"),
        title.replace("'", "\u2019"),
        title.replace(" ", "&nbsp;", 1),
    ]


def test_every_title_of_the_table_classifies_to_its_stage_in_every_shape() -> None:
    wrong = [
        (shape, stage.value, classify_stage(shape).value)
        for title, stage, _ in TITLES
        for shape in variants(title)
        if classify_stage(shape) is not stage
    ]
    assert wrong == []


def test_the_table_has_one_row_per_title_and_no_unknown_row() -> None:
    normalized = Counter(normalize_title(title) for title, _, _ in TITLES)
    assert [title for title, count in normalized.items() if count > 1] == []
    assert len(TITLES) >= 150
    assert Stage.UNKNOWN not in {stage for _, stage, _ in TITLES}
    assert {stage for _, stage, _ in TITLES} == set(Stage) - {Stage.UNKNOWN}


@pytest.mark.parametrize(
    ("title", "stage"),
    [
        # the rules of issue 10, on real titles
        ("Response To USCIS' Request For Evidence Was Received", Stage.IN_REVIEW),
        ("Response To USCIS Request For Evidence Was Received", Stage.IN_REVIEW),
        ("Notice Of Intent To Deny Was Sent", Stage.ACTION_NEEDED),
        ("CWR Notice of Intent to Revoke Sent", Stage.ACTION_NEEDED),
        ("Notice Of USCIS&apos; Intent To Terminate My Status Was Mailed", Stage.ACTION_NEEDED),
        ("Card Destroyed", Stage.RETURNED),
        ("Travel Document Was Returned to USCIS And Will Be Held For 180 Days", Stage.RETURNED),
        ("Card Was Determined As Undeliverable By The Post Office", Stage.RETURNED),
        ("Case Was Not Revoked or Cancelled By USCIS", Stage.APPROVED),
        ("Petition Withdrawn/Over 180 Days/Not Automatically Revoked", Stage.APPROVED),
        ("Certified Approval Of My Case Was Reversed by The Appellate Authority", Stage.DENIED),
        ("Certified Denial Of My Case Was Affirmed By Appellate Authority", Stage.DENIED),
        ("Case Approval Was Affirmed", Stage.APPROVED),
        ("Expedite Request Denied", Stage.IN_REVIEW),
        ("Form G-28 Was Rejected Because It Was Improperly Filed", Stage.ACTION_NEEDED),
    ],
)
def test_real_titles_that_a_keyword_alone_would_misfile(title: str, stage: Stage) -> None:
    assert classify_stage(title) is stage


@pytest.mark.parametrize(
    ("title", "stage"),
    [
        # an answer received is in review before "evidence" or "intent" is seen
        ("Response To Request For Initial Evidence Was Received", Stage.IN_REVIEW),
        ("Response To Notice Of Intent To Deny Was Received", Stage.IN_REVIEW),
        # an intent must be answered before "revok", "terminat", "deny" or "rescind" is seen
        ("Notice Of Intent To Revoke My Approval Was Mailed", Stage.ACTION_NEEDED),
        ("Intent To Terminate Notice Was Sent", Stage.ACTION_NEEDED),
        ("USCIS Intends To Deny My Case", Stage.ACTION_NEEDED),
        # "not revoked", "reversed", "affirmed", "upheld" turn the keyword next to them
        ("Approval Was Not Revoked", Stage.APPROVED),
        ("Denial Of My Appeal Was Reversed", Stage.APPROVED),
        ("Dismissal Of My Motion Was Vacated", Stage.APPROVED),
        ("Approval Was Reversed On Appeal", Stage.DENIED),
        ("Denial Was Upheld By The Appellate Authority", Stage.DENIED),
        ("Approval Was Upheld On Review", Stage.APPROVED),
        # a returned, held, destroyed or undeliverable document before card/document/mailed
        ("Employment Authorization Card Was Returned As Undeliverable", Stage.RETURNED),
        ("Reentry Permit Is Held At The Post Office", Stage.RETURNED),
        ("Advance Parole Document Was Destroyed", Stage.RETURNED),
        ("Mailed Notice Could Not Be Delivered", Stage.RETURNED),
        # an expedite decision is not the case's
        ("Expedite Request Was Denied", Stage.IN_REVIEW),
        # papers under review before "received" or "document"
        ("Document And Letter Was Received And USCIS Is Reviewing Them", Stage.IN_REVIEW),
        ("Appeal Was Remanded For A New Decision", Stage.IN_REVIEW),
        ("Premium Processing Upgrade Was Received", Stage.IN_REVIEW),
        ("Request To Cancel My Appointment Was Received", Stage.BIOMETRICS),
        # the plain keywords of case-stages.md
        ("Petition Approval Was Granted Today", Stage.APPROVED),
        ("Application Was Rejected For Missing Signature", Stage.DENIED),
        ("Case Rejected For Form Not Signed", Stage.DENIED),
        ("Request For Evidence Was Mailed Again", Stage.ACTION_NEEDED),
        ("Second Interview Was Scheduled", Stage.INTERVIEW),
        ("Biometrics Were Reused", Stage.BIOMETRICS),
        ("Case Relocated To Another Desk", Stage.TRANSFERRED),
        ("Employment Authorization Card Was Produced", Stage.CARD_OR_DOCUMENT),
        ("Replacement Fee Was Refunded", Stage.RECEIVED),
        ("Appeal Was Withdrawn", Stage.WITHDRAWN),
        ("Motion Was Accepted", Stage.RECEIVED),
        ("Case Is Pending Background Checks", Stage.IN_REVIEW),
    ],
)
def test_the_fallback_keeps_the_rules_on_titles_never_seen(title: str, stage: Stage) -> None:
    assert normalize_title(title) not in {normalize_title(known) for known, _, _ in TITLES}
    assert classify_stage(title) is stage


def test_the_fallback_alone_agrees_with_the_table_on_most_real_titles() -> None:
    # What a title never seen can expect: the fallback judged on the 153 real titles as if
    # they were new (the table overrides it where the words mislead, see the reasons).
    agree = sum(fallback_stage(title) is stage for title, stage, _ in TITLES)
    assert agree >= 0.8 * len(TITLES)
    assert Stage.UNKNOWN not in {fallback_stage(title) for title, _, reason in TITLES if not reason}


@pytest.mark.parametrize("title", ["Something Else Entirely", "", "   ", "&#39;", "Zzz 404"])
def test_a_title_nothing_fits_is_unknown(title: str) -> None:
    assert classify_stage(title) is Stage.UNKNOWN


def test_a_case_status_as_uscis_sends_it_gets_the_stage_of_its_title() -> None:
    case = parse_case_status(
        {
            "case_status": {
                "receiptNumber": "EAC9999103403",
                "formType": "I-130",
                "current_case_status_text_en": (
                    "  Response To USCIS&#39; Request  For Evidence Was Received "
                ),
                "current_case_status_desc_en": "On May 2, 2026, we received your response.",
            }
        }
    )
    assert case.stage is Stage.IN_REVIEW


def test_every_title_the_built_in_sandbox_sends_is_a_row_of_the_table() -> None:
    known = {normalize_title(title): stage for title, stage, _ in TITLES}
    missing = [
        status.title_en for status in _STATUSES if normalize_title(status.title_en) not in known
    ]
    assert missing == []
    assert {known[normalize_title(status.title_en)] for status in _STATUSES} == set(Stage) - {
        Stage.UNKNOWN
    }
