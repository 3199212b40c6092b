"""Tests of the built-in sandbox against uscis-api.md and case-stages.md.

Every test drives a fake clock: nothing here depends on how fast the machine is.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from casewatch.sandbox import (
    STAGING_RECEIPTS,
    STAGING_RECEIPTS_WITH_HISTORY,
    STAGING_RECEIPTS_WITHOUT_HISTORY,
    SandboxConfig,
    create_app,
    running_server,
    serve,
    staging_case,
    synthetic_case,
)
from casewatch.stages import Stage, classify_stage

EASTERN = ZoneInfo("America/New_York")
CREDENTIALS = {
    "grant_type": "client_credentials",
    "client_id": "casewatch-demo",
    "client_secret": "casewatch-demo-secret",
}
START = datetime(2026, 3, 10, 9, 0, tzinfo=EASTERN).timestamp()

# Every stage but unknown: what the sandbox's titles must cover (case-stages.md).
KNOWN_STAGES = {stage for stage in Stage if stage is not Stage.UNKNOWN}
CASE_KEYS = {
    "receiptNumber",
    "formType",
    "submittedDate",
    "modifiedDate",
    "current_case_status_text_en",
    "current_case_status_desc_en",
    "current_case_status_text_es",
    "current_case_status_desc_es",
    "hist_case_status",
}
STAMP = re.compile(r"\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2}")


@dataclass
class FakeClock:
    """Wall-clock seconds that move only when a test says so."""

    now: float = START

    def __call__(self) -> float:
        return self.now


class Sandbox:
    """An in-process sandbox app with a fake clock and an httpx client on it."""

    def __init__(self, client: httpx.AsyncClient, clock: FakeClock) -> None:
        self.client = client
        self.clock = clock

    async def token(self) -> str:
        response = await self.client.post("/oauth/accesstoken", data=CREDENTIALS)
        assert response.status_code == 200
        token: str = response.json()["access_token"]
        return token

    async def case(self, receipt: str, token: str | None, *, wait: float = 1.0) -> httpx.Response:
        """GET a case ``wait`` seconds after the previous step (clear of spike arrest)."""
        self.clock.now += wait
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return await self.client.get(f"/case-status/{receipt}", headers=headers)

    async def stats(self) -> dict[str, Any]:
        body: dict[str, Any] = (await self.client.get("/__sandbox/stats")).json()
        return body


def sandbox_config(clock: FakeClock, **overrides: Any) -> SandboxConfig:
    return SandboxConfig(latency_ms=(0.0, 0.0), clock=clock, **overrides)


async def open_sandbox(**overrides: Any) -> Sandbox:
    clock = FakeClock(overrides.pop("start", START))
    app = create_app(sandbox_config(clock, **overrides))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox")
    return Sandbox(client, clock)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    box = await open_sandbox()
    async with box.client:
        yield box


def parse_history_date(text: str) -> date:
    for pattern in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            pass
    raise AssertionError(f"unexpected history date {text!r}")


def parse_stamp(text: str) -> datetime:
    assert STAMP.fullmatch(text), text
    return datetime.strptime(text, "%m-%d-%Y %H:%M:%S")


def check_case(payload: dict[str, Any], receipt: str) -> dict[str, Any]:
    """Check the invariants every generated payload keeps; return its ``case_status``."""
    assert payload["message"] == "Query was successful"
    case: dict[str, Any] = payload["case_status"]
    assert case["receiptNumber"] == receipt
    if receipt.startswith("IOE"):
        assert set(case) == CASE_KEYS - {"submittedDate", "modifiedDate"}
    else:
        assert set(case) == CASE_KEYS
    assert classify_stage(case["current_case_status_text_en"]) in KNOWN_STAGES
    form = case["formType"]
    for language in ("en", "es"):
        assert case[f"current_case_status_text_{language}"]
        assert receipt in case[f"current_case_status_desc_{language}"]
    assert case["current_case_status_text_es"] != case["current_case_status_text_en"]
    assert "Número de Recibo" in case["current_case_status_desc_es"]
    en_desc, es_desc = case["current_case_status_desc_en"], case["current_case_status_desc_es"]
    if f"Form {form}," not in en_desc:  # card notices name the receipt only, as USCIS does
        assert "card" in en_desc
    else:
        assert f"Formulario {form}," in es_desc
    history = case["hist_case_status"]
    if history is not None:
        assert 1 <= len(history) <= 8
        for entry in history:
            assert set(entry) == {"date", "completed_text_en", "completed_text_es"}
            assert entry["completed_text_en"] and entry["completed_text_es"]
    if "submittedDate" in case:
        submitted = parse_stamp(case["submittedDate"])
        modified = parse_stamp(case["modifiedDate"])
        assert datetime(2022, 1, 1) <= submitted <= modified < datetime(2026, 11, 1)
        if history is not None:
            days = [parse_history_date(entry["date"]) for entry in history]
            assert submitted.date() <= min(days)
            assert max(days) == modified.date()
    return case


# --- OAuth token endpoint (uscis-api.md, "Authentication") ---


async def test_token_success_has_the_apigee_shape(sandbox: Sandbox) -> None:
    response = await sandbox.client.post("/oauth/accesstoken", data=CREDENTIALS)
    assert response.status_code == 200
    body = response.json()
    assert all(isinstance(value, str) for value in body.values())
    assert body == {
        "refresh_token_expires_in": "0",
        "api_product_list": "[Case Status API - Sandbox]",
        "organization_name": "uscis",
        "token_type": "Bearer",
        "issued_at": str(int(START * 1000)),
        "client_id": "casewatch-demo",
        "access_token": body["access_token"],
        "application_name": body["application_name"],
        "scope": "",
        "expires_in": "1799",
        "refresh_count": "0",
        "status": "approved",
    }
    assert len(body["access_token"]) >= 20
    assert body["access_token"] != await sandbox.token()


async def test_token_with_basic_auth_misses_grant_type(sandbox: Sandbox) -> None:
    response = await sandbox.client.post(
        "/oauth/accesstoken", auth=("casewatch-demo", "casewatch-demo-secret")
    )
    assert response.status_code == 400
    assert response.json() == {
        "ErrorCode": "invalid_request",
        "Error": "Required param : grant_type",
    }


async def test_token_with_another_grant_type(sandbox: Sandbox) -> None:
    response = await sandbox.client.post(
        "/oauth/accesstoken", data=CREDENTIALS | {"grant_type": "password"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "ErrorCode": "invalid_request",
        "Error": "Unsupported grant type : password",
    }


@pytest.mark.parametrize(
    "changes",
    [
        {"client_secret": "not-the-secret"},
        {"client_id": "someone-else"},
        {"client_id": ""},
        {"client_secret": ""},
    ],
)
async def test_token_with_bad_credentials(sandbox: Sandbox, changes: dict[str, str]) -> None:
    response = await sandbox.client.post("/oauth/accesstoken", data=CREDENTIALS | changes)
    assert response.status_code == 401
    body = response.json()
    assert body["ErrorCode"] == "invalid_client"
    assert body["Error"] in {"Invalid client identifier", "Client identifier is required"}
    assert "secret" not in response.text
    assert (await sandbox.stats())["tokens_issued"] == 0


# --- case status: errors (uscis-api.md, "Errors") ---


async def test_case_status_without_or_with_a_bad_token(sandbox: Sandbox) -> None:
    expected = {"code": 401, "message": "Invalid Access Token"}
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        sandbox.clock.now += 1
        response = await sandbox.client.get("/case-status/EAC9999103403", headers=headers)
        assert response.status_code == 401
        assert response.json() == expected
    token = await sandbox.token()
    response = await sandbox.case("EAC9999103403", token)
    assert response.status_code == 200
    response = await sandbox.client.get(
        "/case-status/EAC9999103403", headers={"Authorization": token}
    )
    assert response.status_code == 401


async def test_token_expires_after_its_lifetime(sandbox: Sandbox) -> None:
    token = await sandbox.token()
    assert (await sandbox.case("EAC9999103403", token, wait=1798.5)).status_code == 200
    expired = await sandbox.case("EAC9999103403", token, wait=1.5)
    assert expired.status_code == 401
    assert expired.json() == {"code": 401, "message": "Invalid Access Token"}
    assert (await sandbox.case("EAC9999103403", await sandbox.token())).status_code == 200


async def test_the_token_is_checked_before_the_receipt(sandbox: Sandbox) -> None:
    assert (await sandbox.case("bad", None)).status_code == 401


@pytest.mark.parametrize(
    "receipt",
    [
        "eac9999103403",
        "EAC-99-991-03403",
        "EAC999910340",
        "EAC99991034033",
        "EA19999103403",
        "EAC*99991034",
        "EAC*9999103403",
        "EAC%209999103403",
        "EAC" + "\u0663" * 10,  # Arabic-Indic digits are not ASCII digits
        "IOEO123456789",
    ],
)
async def test_malformed_receipt_is_422(sandbox: Sandbox, receipt: str) -> None:
    response = await sandbox.case(receipt, await sandbox.token())
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == 422
    assert body["message"].startswith(
        "The application receipt number is not formatted correctly, It should be total of 13 "
        "characters (3 character prefix followed by 10 digits)."
    )


@pytest.mark.parametrize("receipt", ["EAC9999103401", "IOE0123456789", "EAC*999910340"])
async def test_unknown_well_formed_receipt_is_404(sandbox: Sandbox, receipt: str) -> None:
    response = await sandbox.case(receipt, await sandbox.token())
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == 404
    assert body["message"].startswith(
        "Case Status Online does not recognize the receipt number entered."
    )


# --- case status: the staging receipts (uscis-api.md, "Staging receipts") ---


def test_staging_receipts_are_the_50_of_the_reference() -> None:
    assert len(STAGING_RECEIPTS_WITH_HISTORY) == len(STAGING_RECEIPTS_WITHOUT_HISTORY) == 25
    assert STAGING_RECEIPTS == STAGING_RECEIPTS_WITH_HISTORY + STAGING_RECEIPTS_WITHOUT_HISTORY
    assert len(set(STAGING_RECEIPTS)) == 50
    assert STAGING_RECEIPTS[0] == "EAC9999103403"
    assert STAGING_RECEIPTS[-1] == "SRC9999132707"


async def test_every_staging_receipt_answers_200(sandbox: Sandbox) -> None:
    token = await sandbox.token()
    cases = {}
    for receipt in STAGING_RECEIPTS:
        response = await sandbox.case(receipt, token)
        assert response.status_code == 200, receipt
        assert response.headers["content-type"].startswith("application/json")
        cases[receipt] = check_case(response.json(), receipt)
    for receipt in STAGING_RECEIPTS_WITH_HISTORY:
        assert isinstance(cases[receipt]["hist_case_status"], list)
    for receipt in STAGING_RECEIPTS_WITHOUT_HISTORY:
        assert cases[receipt]["hist_case_status"] is None
    histories = [cases[r]["hist_case_status"] for r in STAGING_RECEIPTS_WITH_HISTORY]
    assert len({len(history) for history in histories}) >= 4
    assert len({case["formType"] for case in cases.values()}) >= 10
    # The quirks of uscis-api.md: unordered history, a second date format, HTML links.
    assert any(
        [parse_history_date(e["date"]) for e in history]
        != sorted(parse_history_date(e["date"]) for e in history)
        for history in histories
    )
    assert any("/" in entry["date"] for history in histories for entry in history)
    descriptions = [case["current_case_status_desc_en"] for case in cases.values()]
    linked = [d for d in descriptions if '<a href="https://www.uscis.gov/' in d]
    assert 0 < len(linked) < len(descriptions)


async def test_staging_stages_are_all_covered_twice(sandbox: Sandbox) -> None:
    token = await sandbox.token()
    stages: Counter[str] = Counter()
    for receipt in STAGING_RECEIPTS:
        case = (await sandbox.case(receipt, token)).json()["case_status"]
        stages[classify_stage(case["current_case_status_text_en"])] += 1
    assert set(stages) == KNOWN_STAGES
    assert min(stages.values()) >= 2


async def test_the_two_reported_staging_answers(sandbox: Sandbox) -> None:
    token = await sandbox.token()
    approved = (await sandbox.case("EAC9999103403", token)).json()["case_status"]
    assert approved["formType"] == "I-130"
    assert approved["current_case_status_text_en"] == "Case Was Approved"
    assert approved["current_case_status_text_es"] == "Caso Fue Aprobado"
    assert approved["submittedDate"] == approved["modifiedDate"] == "09-05-2023 14:28:46"
    assert approved["current_case_status_desc_en"].startswith(
        "On September 5, 2023, we approved your Form I-130, Petition for Alien Relative, "
        "Receipt Number EAC9999103403."
    )
    assert approved["hist_case_status"]
    affirmed = (await sandbox.case("EAC9999103402", token)).json()["case_status"]
    assert affirmed["formType"] == "I-130"
    assert affirmed["current_case_status_text_en"] == "Case Approval Was Affirmed"
    assert affirmed["hist_case_status"] is None


async def test_payloads_are_deterministic() -> None:
    first, second = await open_sandbox(), await open_sandbox(start=START + 86_400 * 90)
    async with first.client, second.client:
        tokens = await first.token(), await second.token()
        for receipt in STAGING_RECEIPTS:
            one = await first.case(receipt, tokens[0])
            two = await second.case(receipt, tokens[1])
            assert one.content == two.content
            assert one.json() == staging_case(receipt) == synthetic_case(receipt)


# --- rate limits (uscis-api.md, "Hosts and environments") ---


async def test_spike_arrest_smooths_without_burst(sandbox: Sandbox) -> None:
    token = await sandbox.token()
    assert (await sandbox.case("EAC9999103403", token)).status_code == 200
    refused = await sandbox.case("EAC9999103403", token, wait=0.05)
    assert refused.status_code == 429
    assert refused.json() == {"code": 429, "message": "Spike Arrest Violation"}
    # The refused request did not move the window: 100 ms after the accepted one passes.
    assert (await sandbox.case("EAC9999103403", token, wait=0.049)).status_code == 429
    assert (await sandbox.case("EAC9999103403", token, wait=0.001)).status_code == 200
    assert (await sandbox.case("not-even-a-receipt", token, wait=0.0)).status_code == 429
    stats = await sandbox.stats()
    assert stats["spike_arrests"] == 3
    assert stats["by_status"] == {"200": 2, "429": 3}


async def test_exactly_tps_requests_per_second_all_pass(sandbox: Sandbox) -> None:
    token = await sandbox.token()
    for _ in range(21):
        assert (await sandbox.case("EAC9999103403", token, wait=0.1)).status_code == 200
    assert (await sandbox.stats())["max_requests_per_second"] == 10


@pytest.mark.parametrize("month", [1, 7])  # EST (UTC-5) and EDT (UTC-4)
async def test_daily_quota_resets_at_us_eastern_midnight(month: int) -> None:
    start = datetime(2026, month, 15, 18, 59, 0, tzinfo=EASTERN).timestamp()
    box = await open_sandbox(daily_quota=3, start=start)
    async with box.client:
        token = await box.token()
        for receipt in ("EAC9999103403", "EAC9999999999", "bad"):  # 200, 404 and 422 count
            assert (await box.case(receipt, token)).status_code != 429
        refused = await box.case("EAC9999103403", token)
        assert refused.status_code == 429
        assert refused.json() == {
            "code": 429,
            "message": "Quota Exceeded. The daily quota of 3 requests for the Case Status API "
            "has been reached; it resets at midnight US Eastern.",
        }
        # Past midnight UTC, still the same US Eastern day.
        box.clock.now = datetime(2026, month, 15, 23, 59, 59, tzinfo=EASTERN).timestamp()
        assert (await box.case("EAC9999103403", await box.token(), wait=0)).status_code == 429
        box.clock.now = datetime(2026, month, 16, 0, 0, 0, tzinfo=EASTERN).timestamp()
        assert (await box.case("EAC9999103403", await box.token(), wait=0)).status_code == 200
        stats = await box.stats()
        assert stats["spike_arrests"] == 0
        assert stats["by_status"]["429"] == 2


async def test_stats_count_the_traffic(sandbox: Sandbox) -> None:
    token = await sandbox.token()
    await sandbox.case("EAC9999103403", None)  # 401
    await sandbox.case("EAC9999103403", token)  # 200
    await sandbox.case("EAC9999103404", token, wait=0.1)  # 200
    await sandbox.case("EAC9999103405", token, wait=0.05)  # 429
    await sandbox.case("EAC9999999999", token, wait=0.05)  # 404
    await sandbox.case("EAC", token, wait=5)  # 422
    assert await sandbox.stats() == {
        "requests": 6,
        "by_status": {"401": 1, "200": 2, "429": 1, "404": 1, "422": 1},
        "spike_arrests": 1,
        "tokens_issued": 1,
        "max_requests_per_second": 3,
        "faults": {},
        "advances": 0,
    }


async def test_two_apps_do_not_share_state() -> None:
    first, second = await open_sandbox(), await open_sandbox()
    async with first.client, second.client:
        token = await first.token()
        assert (await first.case("EAC9999103403", token)).status_code == 200
        assert (await second.case("EAC9999103403", token, wait=0)).status_code == 401
        assert (await second.stats())["requests"] == 1
        assert (await first.stats())["tokens_issued"] == 1


async def test_latency_is_drawn_from_the_configured_range(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    delays: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr("casewatch.sandbox.app.asyncio.sleep", fake_sleep)
    for _ in range(2):
        clock = FakeClock()
        config = SandboxConfig(latency_ms=(150.0, 400.0), seed=7, clock=clock)
        app = create_app(config)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            box = Sandbox(client, clock)
            token = await box.token()
            for receipt in ("EAC9999103403", "EAC9999999999", "bad"):
                await box.case(receipt, token)
            await box.case("EAC9999103403", None)
    assert len(delays) == 8
    assert all(0.150 <= delay <= 0.400 for delay in delays)
    assert delays[:4] == delays[4:]


@pytest.mark.parametrize(
    "changes",
    [{"tps": 0}, {"daily_quota": -1}, {"latency_ms": (5.0, 1.0)}, {"token_lifetime_s": 0}],
)
def test_config_rejects_nonsense(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        SandboxConfig(**changes)


# --- synthetic mode ---


async def test_synthetic_mode_answers_any_well_formed_receipt() -> None:
    box = await open_sandbox(synthetic=True)
    async with box.client:
        token = await box.token()
        assert (await box.case("WAC2490010000", token)).status_code == 404
        assert (await box.case("wac2490012345", token)).status_code == 422
        for receipt in ("WAC2490012345", "EAC*123456789", "EAC9999103403"):
            response = await box.case(receipt, token)
            assert response.status_code == 200
            check_case(response.json(), receipt)
        online = (await box.case("IOE0123456789", token)).json()
        assert "submittedDate" not in check_case(online, "IOE0123456789")


def test_synthetic_cases_are_plausible_and_varied() -> None:
    receipts = [f"{prefix}{n:010d}" for prefix in ("LIN", "IOE", "MSC") for n in range(1, 201)]
    cases = [check_case(synthetic_case(r) or {}, r) for r in receipts]
    assert synthetic_case("LIN2500010000") is None
    with pytest.raises(ValueError):
        synthetic_case("LIN-25-000-10001")
    stages = Counter(classify_stage(c["current_case_status_text_en"]) for c in cases)
    assert set(stages) == KNOWN_STAGES
    assert {c["hist_case_status"] is None for c in cases} == {True, False}
    assert [synthetic_case(r) for r in receipts[:20]] == [synthetic_case(r) for r in receipts[:20]]


# --- serving over loopback ---


def test_running_server_answers_over_loopback() -> None:
    config = SandboxConfig(latency_ms=(0.0, 0.0))
    with running_server(config) as base_url:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base_url)
        with httpx.Client(base_url=base_url) as client:
            token = client.post("/oauth/accesstoken", data=CREDENTIALS).json()["access_token"]
            response = client.get(
                "/case-status/EAC9999103403", headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 200
            assert response.json() == staging_case("EAC9999103403")


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::"])
def test_never_serves_beyond_loopback(host: str) -> None:
    config = SandboxConfig()
    with pytest.raises(ValueError, match="loopback"):
        serve(config, host=host, port=0)
    with pytest.raises(ValueError, match="loopback"), running_server(config, host=host):
        pass
