"""Every known USCIS case status title and its stage: one table to review title by title.

USCIS publishes no list of its status titles (``case-stages.md``). The titles below are
those that public trackers have collected from USCIS over the years, some only seen in
older years; each is classified here on its meaning, with the reason where it is not
obvious. Sources (GitHub repositories and paths):

- ``shaunfowler/CaseTracker``: ``CaseStatusParser.playground/Resources/statusTitles.txt``
  (titles scraped from the case status page) and ``CaseTracker/Data/Model/Status.swift``
  (the app's title table);
- ``vicdus/uscis-case-statistics``: the scraped counts ``src/data.json5`` and
  ``src/scraper/data_center_*.json`` and the day-to-day moves
  ``src/scraper/transitioning*.json``, across the repository's history;
- ``bingjie3216/UscisStatusPredictor``: ``USCISStatusPredictor/CaseDetailController.swift``;
- ``finxster/arewethereyet``: ``areWeThereYet.sh``;
- this project's ``case-stages.md`` (its example titles).

Matching ignores case, whitespace runs, HTML entities (``USCIS&apos;``, ``&#39;``,
``&amp;``) and apostrophes altogether (straight or typographic, U+2019), so that
``USCIS'``, ``USCIS&#39;`` and the bare ``USCIS`` that some years sent all match one row.
A title in none of the rows goes through the keyword fallback (for titles never seen,
ordered so that it keeps the rules of the table), then falls to :attr:`Stage.UNKNOWN`.
"""

from __future__ import annotations

import html
import re
from enum import StrEnum
from functools import lru_cache


class Stage(StrEnum):
    """Where a case stands, grouped from USCIS status titles (``case-stages.md``).

    The values are stored (watchlist, exports) and named in themes: they never change.
    """

    RECEIVED = "received"
    BIOMETRICS = "biometrics"
    IN_REVIEW = "in review"
    TRANSFERRED = "transferred"
    ACTION_NEEDED = "action needed"
    INTERVIEW = "interview"
    APPROVED = "approved"
    CARD_OR_DOCUMENT = "card or document"
    RETURNED = "returned"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"
    UNKNOWN = "unknown"


_R = Stage.RECEIVED
_B = Stage.BIOMETRICS
_V = Stage.IN_REVIEW
_T = Stage.TRANSFERRED
_A = Stage.ACTION_NEEDED
_I = Stage.INTERVIEW
_OK = Stage.APPROVED
_C = Stage.CARD_OR_DOCUMENT
_RET = Stage.RETURNED
_D = Stage.DENIED
_W = Stage.WITHDRAWN

TITLES: tuple[tuple[str, Stage, str], ...] = (
    # (title as USCIS wrote it, stage, reason where the stage is not obvious)
    # --- received: filed, waiting -------------------------------------------------------
    ("Case Was Received", _R, ""),
    ("Case Was Received and A Receipt Notice Was Sent", _R, ""),
    ("Case Was Received and A Receipt Notice Was Emailed", _R, ""),
    ("Case Was Received At Another USCIS Office", _R, ""),
    ("Case Accepted By The USCIS Lockbox", _R, ""),
    ("Filed Under Known Employer Pilot", _R, "a note on how the filing was made"),
    ("Fingerprint Fee Was Received", _R, "the fee came with the filing; no appointment yet"),
    ("Fees Were Waived", _R, ""),
    ("Fee Will Be Refunded", _R, "a fee matter; says nothing of a decision"),
    ("Fee Refund Was Mailed", _R, "a fee matter; says nothing of a decision"),
    ("Duplicate Notice Was Mailed", _R, "a copy of an earlier notice; the case does not move"),
    ("Amended Notice Was Mailed", _R, "an earlier notice corrected; the case does not move"),
    ("Name Was Updated", _R, "a record corrected; the case does not move"),
    ("Date of Birth Was Updated", _R, "a record corrected; the case does not move"),
    ("CNMI Semiannual Report Received", _R, "a required report was filed"),
    # --- biometrics: appointment or fingerprints -------------------------------------------
    ("Biometrics Appointment Was Scheduled", _B, ""),
    ("Fingerprint and Biometrics Appointment Was Scheduled", _B, ""),
    ("Appointment Notice Was Mailed", _B, "an appointment without 'interview' is biometrics"),
    ("Request To Reschedule My Appointment Was Received", _B, "the biometrics appointment"),
    ("Case Was Updated To Show Fingerprints Were Taken", _B, ""),
    ("Fingerprint Review Was Completed", _B, ""),
    (
        "Case Was Updated To Show That No One Appeared for In-Person Processing",
        _B,
        "a missed biometrics appointment: the applicant must reschedule",
    ),
    # --- in review: being worked on -------------------------------------------------------
    ("Case Is Being Actively Reviewed By USCIS", _V, ""),
    ("Case Remains Pending", _V, ""),
    ("Case Is Pending at a Local Office", _V, ""),
    ("Case Is On Hold", _V, ""),
    ("Case Is On Hold Because Of Pending Litigation", _V, ""),
    ("Case Is No Longer On Hold Because Of Pending Litigation", _V, "work resumes"),
    ("Litigation Notice Was Mailed", _V, "a court case holds or shapes the processing"),
    ("Termination Of Litigation Notice Was Mailed", _V, "the litigation ended; work resumes"),
    (
        "Response To USCIS' Request For Evidence Was Received",
        _V,
        "the applicant has answered; USCIS acts next (case-stages.md, correction 2026-12)",
    ),
    (
        "Request for Additional Information Received",
        _V,
        "the information USCIS asked for arrived",
    ),
    ("Correspondence Was Received And USCIS Is Reviewing It", _V, ""),
    ("Document and Letter Was Received", _V, "the applicant's papers arrived; USCIS reads them"),
    ("Document And Letter Was Received And Under Review", _V, ""),
    (
        "Card Was Received By USCIS Along With My Letter",
        _V,
        "the applicant sent a card back (to correct it, say): USCIS reviews it",
    ),
    ("Expedite Request Received", _V, "about the request to hurry, not the case"),
    ("Expedite Request Approved", _V, "the case is hurried, not decided"),
    ("Expedite Request Denied", _V, "the case goes on at its pace; it is not denied"),
    ("Request For Premium Processing Services Was Received", _V, ""),
    (
        "Premium Processing Case is Eligible for Pre-Certification",
        _V,
        "a note on premium processing; not a decision",
    ),
    (
        "Premium Processing Case is Not Eligible for Pre-Certification",
        _V,
        "a note on premium processing; not a decision",
    ),
    (
        "Premium Processing Fee Will Be Refunded",
        _V,
        "USCIS missed the premium deadline and refunds the fee; the case goes on",
    ),
    ("Case Was Reopened", _V, ""),
    ("Case Was Reopened For Reconsideration", _V, ""),
    (
        "Appeal Was Remanded To The Originating Office For Consideration",
        _V,
        "the office that decided must decide again",
    ),
    ("Department of State Sent Case to USCIS For Review", _V, ""),
    ("Case Was Sent To The Administrative Appeals Office for Review", _V, ""),
    ("Sent to CDC for Opinion", _V, "USCIS waits for a medical opinion"),
    (
        "Notice Explaining USCIS Actions Was Mailed",
        _V,
        "a notice of what USCIS did; the title alone names no decision and asks nothing",
    ),
    ("Notice Explaining Actions Mailed", _V, "older wording of the title above"),
    (
        "Interview Cancelled And Notice Ordered",
        _V,
        "no interview after all; USCIS will mail its notice",
    ),
    # --- transferred: moved to another office ------------------------------------------------
    ("Case Was Transferred And A New Office Has Jurisdiction", _T, ""),
    ("Case Transferred And New Office Has Jurisdiction", _T, ""),
    ("Case Transferred To Another Office", _T, ""),
    ("Case Was Transferred To Schedule An Interview", _T, "the move comes first"),
    ("Case Was Transferred To An Asylum Office", _T, ""),
    ("Case Was Transferred To International Office/Consulate", _T, ""),
    (
        "Case Was Relocated From Administrative Appeals Office To USCIS Originating Office",
        _T,
        "",
    ),
    (
        "Case Was Sent To The Executive Office of Immigration Review",
        _T,
        "the immigration court now has the case",
    ),
    (
        "Case Was Returned To USCIS By The Executive Office of Immigration Review",
        _T,
        "the immigration court sent the case back: an office move, not undelivered mail",
    ),
    # --- action needed: the applicant must act ------------------------------------------
    ("Request for Additional Evidence Was Sent", _A, ""),
    ("Request for Additional Evidence Was Mailed", _A, ""),
    ("Request for Initial Evidence Was Sent", _A, ""),
    ("Request for Initial Evidence Was Mailed", _A, ""),
    ("Request for Initial and Additional Evidence Was Mailed", _A, ""),
    ("Notice Of Intent To Deny Was Sent", _A, "an intent, not a denial: it must be answered"),
    ("Intent to Revoke Notice Was Sent", _A, "an intent, not a revocation: it must be answered"),
    ("CWR Notice of Intent to Revoke Sent", _A, "an intent, not a revocation: it must be answered"),
    ("Intent To Rescind Notice Was Mailed", _A, "an intent, not a rescission: it must be answered"),
    (
        "Notice Of USCIS' Intent To Terminate My Status Was Mailed",
        _A,
        "an intent, not a termination: it must be answered",
    ),
    ("Continuation Notice Was Mailed", _A, "the applicant must send papers or come back"),
    (
        "Form G-28 Was Rejected Because It Was Improperly Filed",
        _A,
        "the representative's form was refused, not the case: file a new G-28",
    ),
    # --- interview ----------------------------------------------------------------------------
    ("Case is Ready to Be Scheduled for An Interview", _I, ""),
    ("Interview Was Scheduled", _I, ""),
    ("Interview Was Rescheduled", _I, ""),
    ("Interview Cancelled", _I, "a new date is to come"),
    ("Interview Was Completed And My Case Must Be Reviewed", _I, "as case-stages.md has it"),
    ("Proficiency In English Was Demonstrated", _I, "the naturalization interview's test"),
    # --- approved: decision in favour -----------------------------------------------------
    ("Case Was Approved", _OK, ""),
    ("Case Approved", _OK, ""),
    ("Case Was Approved And My Decision Was Emailed", _OK, ""),
    ("Case Was Approved And A Decision Notice Was Sent", _OK, ""),
    ("Case Was Approved And USCIS Notified The U.S. Consulate or Port of Entry", _OK, ""),
    ("Case Approval Was Affirmed", _OK, "'Affirmed' keeps the approval"),
    ("Case Approval Was Certified By USCIS", _OK, ""),
    (
        "Case Approval Was Reaffirmed And Mailed Back To Department Of State",
        _OK,
        "'Reaffirmed' keeps the approval",
    ),
    ("Appeal Was Approved", _OK, ""),
    ("Request For A Duplicate Card Was Approved", _OK, ""),
    ("Case Was Sent To The Department of State", _OK, "an approved petition goes on to a visa"),
    ("Case Closed Benefit Received By Other Means", _OK, "as case-stages.md has it"),
    ("Case Was Not Revoked or Cancelled By USCIS", _OK, "'Not Revoked': the approval stands"),
    (
        "Petition Withdrawn/Over 180 Days/Not Automatically Revoked",
        _OK,
        "'Not Automatically Revoked': withdrawn after 180 days, the approval stands",
    ),
    ("Eligibility Notice Was Mailed", _OK, "the applicant was found eligible"),
    ("Prequalified Decision Notice Was Mailed", _OK, "a favourable prequalification"),
    ("Request Was Processed", _OK, "USCIS did what the request asked"),
    # --- card or document: produced, mailed, delivered -----------------------------------
    ("New Card Is Being Produced", _C, ""),
    ("Permanent Resident Card Is Being Produced", _C, ""),
    ("Card Was Mailed To Me", _C, ""),
    ("Card Was Picked Up By The United States Postal Service", _C, ""),
    ("Card Was Delivered To Me By The Post Office", _C, ""),
    ("Advance Parole Document Was Produced", _C, ""),
    ("Reentry Permit Was Produced", _C, ""),
    ("Refugee Travel Document Was Produced", _C, ""),
    ("Travel Document Was Mailed", _C, ""),
    ("Document Was Mailed", _C, ""),
    ("Document Was Mailed To Me", _C, ""),
    ("Document Was Mailed To My Local Office", _C, "to be picked up there"),
    ("Document Was Personally Delivered To Me", _C, ""),
    ("Document Was Mailed But Not Returned To USCIS", _C, "mailed, and the post did not bounce it"),
    # --- returned: undeliverable, held or destroyed --------------------------------------
    ("Notice Was Returned To USCIS Because The Post Office Could Not Deliver It", _RET, ""),
    ("Card Is Being Returned to USCIS by Post Office", _RET, ""),
    ("Card Was Returned To USCIS", _RET, ""),
    ("Card Was Determined As Undeliverable By The Post Office", _RET, ""),
    ("Card Destroyed", _RET, "never delivered: the applicant must ask for a new one"),
    ("Card Was Destroyed", _RET, "never delivered: the applicant must ask for a new one"),
    ("Document Was Returned To USCIS", _RET, ""),
    ("Document Was Returned As Undeliverable", _RET, ""),
    ("Document Was Returned To USCIS And Is Being Held", _RET, ""),
    ("Document Is Being Held For 180 Days", _RET, "undelivered, waiting to be claimed"),
    ("Document Destroyed", _RET, "never delivered: the applicant must ask for a new one"),
    (
        "Document Was Destroyed And Letter Was Received",
        _RET,
        "the document is gone; the applicant's letter asks for it too late",
    ),
    ("Travel Document Was Returned to USCIS And Will Be Held For 180 Days", _RET, ""),
    (
        "Travel Document Was Destroyed After USCIS Held It For 180 Days",
        _RET,
        "never delivered: the applicant must ask for a new one",
    ),
    # --- denied: denied, rejected, revoked, terminated -----------------------------------
    ("Case Was Denied", _D, ""),
    ("Case Was Denied And My Decision Notice Mailed", _D, ""),
    ("Appeal Was Dismissed", _D, ""),
    ("Appeal Was Terminated and A Notice Was Mailed To Me", _D, "the appeal ended unheard"),
    (
        "Certified Denial Of My Case Was Affirmed By Appellate Authority",
        _D,
        "'Affirmed' keeps the denial",
    ),
    (
        "Certified Approval Of My Case Was Reversed by The Appellate Authority",
        _D,
        "'Reversed' undoes the approval",
    ),
    ("Case Approval Was Revoked", _D, ""),
    ("Case Was Automatically Revoked", _D, ""),
    ("Revocation Notice Was Sent", _D, ""),
    ("Status Termination Notice Was Mailed", _D, "the status ended"),
    ("Termination Notice Sent", _D, "the status or benefit ended"),
    ("Case Rejected Because I Sent An Incorrect Fee", _D, ""),
    ("Case Rejected Because The Version Of The Form I Sent Is No Longer Accepted", _D, ""),
    ("Case Rejected For Incorrect Fee", _D, ""),
    ("Case Rejected For Incorrect Fee And Form Not Signed", _D, ""),
    ("Case Rejected For Incorrect Fee And Incorrect Form Version", _D, ""),
    ("Case Rejected For Incorrect Fee And Payment Not Signed", _D, ""),
    ("Case Rejected For Incorrect Fee, Payment Not Signed And Incorrect Form Version", _D, ""),
    ("Case Rejected For Form Not Signed And Incorrect Form Version", _D, ""),
    ("Case Was Rejected Because I Did Not Sign My Form", _D, ""),
    ("Case Was Rejected Because It Was Improperly Filed", _D, ""),
    ("Case Was Rejected Because My Check Or Money Order Is Not Signed", _D, ""),
    ("Petition/Application Was Rejected For Insufficient Funds", _D, ""),
    ("Resubmitted Fee Was Not Accepted", _D, "the second payment failed too: the case is rejected"),
    ("Request Was Rejected", _D, ""),
    ("CNMI Semiannual Report Rejected", _D, "the report must be filed again"),
    # --- withdrawn: closed without decision ----------------------------------------------
    ("Withdrawal Acknowledgement Notice Was Sent", _W, ""),
    ("Withdrawal Of My Appeal Was Acknowledged", _W, ""),
    ("Case Was Administratively Closed", _W, ""),
)
"""Every known status title with its stage and, where not obvious, the reason."""

_APOSTROPHES = str.maketrans("", "", "'\u2018\u2019\u02bc`")


def normalize_title(title: str) -> str:
    """``title`` as the table compares it: HTML entities decoded (twice, for a title a
    proxy escaped again: ``&amp;#39;``), apostrophes (straight or typographic) removed,
    whitespace runs made one space, case folded. Never raises."""
    decoded = html.unescape(html.unescape(title))
    return " ".join(decoded.translate(_APOSTROPHES).casefold().split())


_STAGE_BY_TITLE: dict[str, Stage] = {normalize_title(title): stage for title, stage, _ in TITLES}

# Keyword fallback for titles never seen: the first rule whose pattern is found wins. The
# order keeps the rules of the table (case-stages.md and issue 10): an answer received is
# in review before "evidence" or "intent" is seen; an intent is answered before "revok",
# "terminat" or "deny" is seen; "not revoked", "reversed", "affirmed" and "upheld" turn the
# keyword next to them; an expedite decision is not the case's; papers under review are in
# review before "received" or "document" is seen; a returned, held, destroyed or
# undeliverable card or document is returned before "card", "document" or "mailed".
_FALLBACK: tuple[tuple[re.Pattern[str], Stage], ...] = tuple(
    (re.compile(pattern), stage)
    for pattern, stage in (
        (r"\bresponse\b.*\breceived\b|\bevidence (was )?received\b", _V),
        (r"\bintent to\b|\bintends? to\b", _A),
        (r"\bnot (\w+ )?(revoked|cancell?ed|terminated|rescinded)\b", _OK),
        (
            r"\b(denial|denied|dismissal|revocation|rejection)\b.*\b(reversed|overturned|vacated)\b",
            _OK,
        ),
        (r"\bapprov\w*\b.*\b(reversed|overturned|vacated)\b", _D),
        (r"\b(denial|denied|dismissal)\b.*\b(affirmed|upheld|reaffirmed)\b", _D),
        (r"\bapprov\w*\b.*\b(affirmed|upheld|reaffirmed|certified)\b", _OK),
        (r"\bexpedite\b", _V),
        (r"\breviewing\b|\bunder review\b|\bremand", _V),
        (
            r"\breturned\b|\bundeliverable\b|\bcould not (be )?deliver|\bheld\b|\bdestroyed\b",
            _RET,
        ),
        (r"\brevo[kc]|\brescind|\bterminat|\bden(ied|ial|y)\b|\breject|\bdismiss", _D),
        (r"\bapprov", _OK),
        (r"\bpremium processing\b", _V),
        (r"\bevidence\b", _A),
        (r"\binterview", _I),
        (r"\bfingerprint|\bbiometric|\bappointment\b|\bin-person processing\b", _B),
        (r"\btransfer|\brelocat", _T),
        (r"\bfees?\b|\brefund", _R),
        (r"\bcard\b|\bdocument\b|\bpermit\b|\bproduced\b|\bmailed\b|\bdelivered\b", _C),
        (r"\bwithdraw|\bclosed\b", _W),
        (r"\breceived\b|\baccepted\b|\bwaived\b|\bupdated\b", _R),
        (r"\breview|\bpending\b|\bon hold\b|\breopen", _V),
    )
)


def fallback_stage(title: str) -> Stage:
    """The stage the keyword fallback gives ``title``, as if no row of :data:`TITLES`
    had it: the stage of the first rule whose pattern is found in the normalized title
    (``case-stages.md``, "Keyword fallback", in the order that keeps the table's rules),
    :attr:`Stage.UNKNOWN` when none is. Never raises."""
    normalized = normalize_title(title)
    for pattern, stage in _FALLBACK:
        if pattern.search(normalized):
            return stage
    return Stage.UNKNOWN


@lru_cache(maxsize=4096)
def classify_stage(title: str) -> Stage:
    """The stage of a USCIS status title (``current_case_status_text_en``).

    The title is looked up in :data:`TITLES` after :func:`normalize_title`; a title not
    there gets :func:`fallback_stage`, which is :attr:`Stage.UNKNOWN` when no keyword
    fits. Never raises. Answers are cached: a watchlist holds few distinct titles, and the
    table's filter and sort ask for the stage of every case.
    """
    return _STAGE_BY_TITLE.get(normalize_title(title)) or fallback_stage(title)
