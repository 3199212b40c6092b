"""Tests of cases that move: ``POST /__sandbox/advance/{receiptNumber}`` and ``--evolve``.

Advances are dated by an injected clock; the evolve task is driven directly or waited on
with a generous timeout, never timed.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from casewatch.cases import parse_case_status, strip_html
from casewatch.sandbox import (
    STAGING_RECEIPTS,
    STAGING_RECEIPTS_WITH_HISTORY,
    STAGING_RECEIPTS_WITHOUT_HISTORY,
    SandboxConfig,
    create_app,
    running_server,
    staging_case,
    synthetic_case,
)
from casewatch.sandbox.data import _BY_TITLE, _NEXT, is_final
from casewatch.sandbox.options import add_sandbox_arguments, sandbox_config_from_arguments
from casewatch.sandbox.server import banner
from casewatch.stages import Stage, classify_stage

EASTERN = ZoneInfo("America/New_York")
CREDENTIALS = {
    "grant_type": "client_credentials",
    "client_id": "casewatch-demo",
    "client_secret": "casewatch-demo-secret",
}
# After every generated event (the generator stops at 2026-10-30), so moves are the newest.
START = datetime(2026, 12, 1, 10, 15, 30, tzinfo=EASTERN).timestamp()
TODAY = date(2026, 12, 1)
WAIT_S = 10.0  # generous: the evolve interval in these tests is 0.01 s

# Stage -> stages a single move may lead to (case-stages.md, in life order).
NEXT_STAGES: dict[Stage, set[Stage]] = {
    Stage.RECEIVED: {Stage.RECEIVED, Stage.BIOMETRICS, Stage.IN_REVIEW},
    Stage.BIOMETRICS: {Stage.BIOMETRICS, Stage.IN_REVIEW},
    Stage.IN_REVIEW: {Stage.IN_REVIEW, Stage.INTERVIEW, Stage.ACTION_NEEDED, Stage.APPROVED},
    Stage.TRANSFERRED: {Stage.IN_REVIEW, Stage.INTERVIEW},
    Stage.ACTION_NEEDED: {Stage.ACTION_NEEDED, Stage.IN_REVIEW},
    Stage.INTERVIEW: {Stage.INTERVIEW, Stage.APPROVED},
    Stage.APPROVED: {Stage.APPROVED, Stage.CARD_OR_DOCUMENT},
    Stage.CARD_OR_DOCUMENT: {Stage.CARD_OR_DOCUMENT},
    Stage.RETURNED: {Stage.IN_REVIEW, Stage.CARD_OR_DOCUMENT},
}
FINAL_STAGES = {Stage.APPROVED, Stage.CARD_OR_DOCUMENT, Stage.DENIED, Stage.WITHDRAWN}


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Box:
    """An in-process sandbox with a fake clock and no latency."""

    def __init__(self, **overrides: Any) -> None:
        self.clock = FakeClock()
        # No spike arrest to speak of: the clock moves only when a test moves it.
        config = SandboxConfig(latency_ms=(0.0, 0.0), tps=1e9, clock=self.clock, **overrides)
        self.app = create_app(config)
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://sandbox"
        )
        self.token: str | None = None

    async def advance(self, receipt: str) -> httpx.Response:
        return await self.client.post(f"/__sandbox/advance/{receipt}")

    async def case(self, receipt: str) -> dict[str, Any]:
        if self.token is None:
            response = await self.client.post("/oauth/accesstoken", data=CREDENTIALS)
            self.token = response.json()["access_token"]
        response = await self.client.get(
            f"/case-status/{receipt}", headers={"Authorization": f"Bearer {self.token}"}
        )
        assert response.status_code == 200, response.text
        payload: dict[str, Any] = response.json()
        return payload

    async def stats(self) -> dict[str, Any]:
        body: dict[str, Any] = (await self.client.get("/__sandbox/stats")).json()
        return body


@pytest.fixture
async def box() -> AsyncIterator[Box]:
    sandbox = Box()
    async with sandbox.client:
        yield sandbox


def synthetic_payload(receipt: str) -> dict[str, Any]:
    payload = synthetic_case(receipt)
    assert payload is not None
    return payload


def stage_of(payload: dict[str, Any]) -> Stage:
    return classify_stage(payload["case_status"]["current_case_status_text_en"])


def first(receipts: tuple[str, ...], stage: Stage) -> str:
    return next(r for r in receipts if stage_of(staging_case(r)) == stage)


# --- the transition table ---


def test_every_next_status_has_texts_and_a_known_stage() -> None:
    for title, candidates in _NEXT.items():
        assert title in _BY_TITLE
        for candidate in candidates:
            status = _BY_TITLE[candidate]
            assert status.title_es and status.desc_en and status.desc_es
            assert classify_stage(candidate) in NEXT_STAGES[classify_stage(title)]


# --- POST /__sandbox/advance/{receiptNumber} ---


async def test_advance_changes_title_description_dates_and_history(box: Box) -> None:
    receipt = first(STAGING_RECEIPTS_WITH_HISTORY, Stage.RECEIVED)
    before = await box.case(receipt)
    response = await box.advance(receipt)
    assert response.status_code == 200
    body = response.json()
    assert body["receiptNumber"] == receipt
    assert body["previous"] == before["case_status"]["current_case_status_text_en"]
    after = await box.case(receipt)
    case, old = after["case_status"], before["case_status"]
    assert case["current_case_status_text_en"] == body["current"] != body["previous"]
    for key in ("text_es", "desc_en", "desc_es"):
        assert case[f"current_case_status_{key}"] != old[f"current_case_status_{key}"]
    assert "December 1, 2026" in case["current_case_status_desc_en"]
    assert "1 de diciembre de 2026" in case["current_case_status_desc_es"]
    assert case["modifiedDate"] == "12-01-2026 10:15:30"
    assert case["submittedDate"] == old["submittedDate"]
    assert case["formType"] == old["formType"]
    assert len(case["hist_case_status"]) == len(old["hist_case_status"]) + 1
    parsed = parse_case_status(after)
    assert parsed.title_en == body["current"]
    assert parsed.modified == datetime(2026, 12, 1, 10, 15, 30, tzinfo=EASTERN)
    assert parsed.history[0].date == TODAY
    assert parsed.history[0].text_en
    assert all(entry.date is not None and entry.date <= TODAY for entry in parsed.history)
    assert strip_html(parsed.history[0].text_es)
    assert classify_stage(body["current"]) in NEXT_STAGES[Stage.RECEIVED]


async def test_two_moves_on_one_day_keep_the_newest_first(box: Box) -> None:
    receipt = first(STAGING_RECEIPTS_WITH_HISTORY, Stage.RECEIVED)
    await box.advance(receipt)
    box.clock.now += 60
    second = (await box.advance(receipt)).json()
    after = await box.case(receipt)
    parsed = parse_case_status(after)
    assert after["case_status"]["modifiedDate"] == "12-01-2026 10:16:30"
    assert parsed.title_en == second["current"]
    assert [entry.date for entry in parsed.history[:2]] == [TODAY, TODAY]
    assert parsed.history[0].text_en != parsed.history[1].text_en


async def test_a_case_without_history_keeps_a_null_history(box: Box) -> None:
    receipt = next(r for r in STAGING_RECEIPTS_WITHOUT_HISTORY if not is_final(staging_case(r)))
    assert (await box.advance(receipt)).status_code == 200
    case = (await box.case(receipt))["case_status"]
    assert case["hist_case_status"] is None
    assert case["modifiedDate"] == "12-01-2026 10:15:30"


async def test_every_staging_case_moves_along_a_plausible_path_to_a_final_stage(box: Box) -> None:
    for receipt in STAGING_RECEIPTS:
        stage = stage_of(await box.case(receipt))
        for _ in range(40):
            response = await box.advance(receipt)
            if response.status_code == 409:
                break
            assert response.status_code == 200
            body = response.json()
            assert classify_stage(body["previous"]) == stage
            new_stage = classify_stage(body["current"])
            assert new_stage in NEXT_STAGES[stage], (receipt, body)
            assert stage_of(await box.case(receipt)) == new_stage
            stage = new_stage
        else:
            raise AssertionError(f"{receipt} never became final")
        assert stage in FINAL_STAGES, receipt


async def test_an_i485_goes_the_whole_way_to_a_delivered_card() -> None:
    box = Box(synthetic=True)
    async with box.client:
        receipt = next(
            receipt
            for receipt in (f"IOE{n:010d}" for n in range(1, 500))
            if (case := synthetic_payload(receipt)["case_status"])["formType"] == "I-485"
            and classify_stage(case["current_case_status_text_en"]) == Stage.RECEIVED
        )
        titles = [(await box.case(receipt))["case_status"]["current_case_status_text_en"]]
        while (response := await box.advance(receipt)).status_code == 200:
            titles.append(response.json()["current"])
        assert response.status_code == 409
        stages = [classify_stage(title) for title in titles]
        assert stages[-1] == Stage.CARD_OR_DOCUMENT
        assert titles[-3:] == [
            "New Card Is Being Produced",
            "Card Was Mailed To Me",
            "Card Was Delivered To Me By The Post Office",
        ]
        assert Stage.APPROVED in stages
        case = (await box.case(receipt))["case_status"]
        assert "modifiedDate" not in case  # an IOE receipt has no dates, moved or not


async def test_a_final_case_answers_409_and_stays_put(box: Box) -> None:
    receipt = first(STAGING_RECEIPTS, Stage.DENIED)
    before = await box.case(receipt)
    response = await box.advance(receipt)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == 409
    assert "final" in body["message"] and receipt in body["message"]
    assert await box.case(receipt) == before
    assert (await box.stats())["advances"] == 0


async def test_unknown_and_malformed_receipts(box: Box) -> None:
    unknown = await box.advance("EAC9999999999")  # well formed, not a staging receipt
    assert unknown.status_code == 404
    assert "does not recognize" in unknown.json()["message"]
    for malformed in ("EAC123", "eac9999103403", "EAC99991034030"):
        response = await box.advance(malformed)
        assert response.status_code == 422, malformed
        assert "not formatted correctly" in response.json()["message"]
    assert (await box.client.get("/__sandbox/advance/EAC9999103403")).status_code == 405


async def test_synthetic_receipts_move_and_unknown_ones_do_not() -> None:
    box = Box(synthetic=True)
    async with box.client:
        assert (await box.advance("EAC1234560000")).status_code == 404
        receipt = next(
            receipt
            for receipt in (f"LIN{n:010d}" for n in range(1, 200))
            if not is_final(synthetic_payload(receipt))
        )
        response = await box.advance(receipt)
        assert response.status_code == 200
        current = (await box.case(receipt))["case_status"]["current_case_status_text_en"]
        assert current == response.json()["current"]


async def test_advances_are_deterministic_and_apps_independent() -> None:
    receipts = [r for r in STAGING_RECEIPTS if not is_final(staging_case(r))][:12]
    first_box, second_box, untouched = Box(), Box(), Box()
    async with first_box.client, second_box.client, untouched.client:
        for box in (first_box, second_box):
            for receipt in [*receipts, *receipts[:6], *receipts[:3]]:
                await box.advance(receipt)
        for receipt in receipts:
            assert await first_box.case(receipt) == await second_box.case(receipt)
            assert await untouched.case(receipt) == staging_case(receipt)
        assert (await first_box.stats())["advances"] == (await second_box.stats())["advances"]
        assert (await untouched.stats())["advances"] == 0


async def test_stats_count_advances(box: Box) -> None:
    receipt = first(STAGING_RECEIPTS, Stage.RECEIVED)
    await box.advance(receipt)
    await box.advance(receipt)
    await box.advance(first(STAGING_RECEIPTS, Stage.WITHDRAWN))  # 409: not counted
    await box.advance("EAC9999999999")  # 404: not counted
    stats = await box.stats()
    assert stats["advances"] == 2
    assert stats["requests"] == 0  # the control plane is not case-status traffic


# --- evolve: a background task moves random cases ---


def test_evolve_picks_the_same_cases_with_the_same_seed() -> None:
    def moves(seed: int) -> list[str | None]:
        state = create_app(SandboxConfig(seed=seed, clock=FakeClock())).state.sandbox
        return [state.evolve_once() for _ in range(30)]

    assert moves(7) == moves(7)
    assert len(set(moves(7))) > 5
    assert None not in moves(7)


async def wait_for_advances(stats: Any, count: int) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while True:
        body: dict[str, Any] = await stats()
        if body["advances"] >= count or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.01)


async def test_evolve_in_process_starts_with_the_first_request() -> None:
    box = Box(evolve_s=0.01, seed=5)
    async with box.client:
        state = box.app.state.sandbox
        assert state.evolver is None  # ASGITransport runs no lifespan
        stats = await wait_for_advances(box.stats, 3)
        assert stats["advances"] >= 3
        moved = next(iter(state.moved))
        case = await box.case(moved)
        assert case["case_status"]["modifiedDate"] == "12-01-2026 10:15:30"
        assert classify_stage(case["case_status"]["current_case_status_text_en"]) in (
            set(NEXT_STAGES) | FINAL_STAGES
        )
        # Running the lifespan around the use stops the task cleanly at the end.
        async with box.app.router.lifespan_context(box.app):
            assert state.evolver is not None and not state.evolver.done()
        assert state.evolver is None


async def test_evolve_in_process_with_the_lifespan() -> None:
    box = Box(evolve_s=0.01, seed=5)
    state = box.app.state.sandbox
    async with box.app.router.lifespan_context(box.app):
        task = state.evolver
        assert task is not None
        deadline = time.monotonic() + WAIT_S
        while state.advances < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert state.advances >= 3
    assert task.done() and state.evolver is None


async def test_no_evolve_task_without_evolve(box: Box) -> None:
    await box.stats()
    async with box.app.router.lifespan_context(box.app):
        assert box.app.state.sandbox.evolver is None


def test_evolve_over_uvicorn() -> None:
    config = SandboxConfig(latency_ms=(0.0, 0.0), evolve_s=0.01, seed=3)
    with running_server(config) as url, httpx.Client(base_url=url) as client:
        deadline = time.monotonic() + WAIT_S
        advances = 0
        while advances < 3 and time.monotonic() < deadline:
            advances = client.get("/__sandbox/stats").json()["advances"]
            time.sleep(0.01)
        assert advances >= 3
        assert client.post("/__sandbox/advance/EAC9999999999").status_code == 404


def test_advance_over_uvicorn() -> None:
    config = SandboxConfig(latency_ms=(0.0, 0.0))
    receipt = first(STAGING_RECEIPTS, Stage.INTERVIEW)
    with running_server(config) as url, httpx.Client(base_url=url) as client:
        response = client.post(f"/__sandbox/advance/{receipt}")
        assert response.status_code == 200
        assert classify_stage(response.json()["current"]) in NEXT_STAGES[Stage.INTERVIEW]
        assert client.get("/__sandbox/stats").json()["advances"] == 1


# --- configuration, options and banner ---


@pytest.mark.parametrize("value", [0.0, -1.0, float("nan"), float("inf")])
def test_config_rejects_a_bad_evolve(value: float) -> None:
    with pytest.raises(ValueError, match="evolve_s"):
        SandboxConfig(evolve_s=value)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="casewatch sandbox")
    add_sandbox_arguments(parser)
    return parser.parse_args(argv)


def test_evolve_option() -> None:
    assert sandbox_config_from_arguments(parse()).evolve_s is None
    assert sandbox_config_from_arguments(parse("--evolve", "2.5")).evolve_s == 2.5
    assert sandbox_config_from_arguments(parse("--evolve=30")).evolve_s == 30.0


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf", "nan", ""])
def test_evolve_option_rejects_bad_values(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse(f"--evolve={value}")
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--evolve" in err and "Traceback" not in err


def test_banner_shows_evolve() -> None:
    url = "http://127.0.0.1:8765"
    on = "\n".join(banner(SandboxConfig(evolve_s=30), url))
    assert "evolve:           a random case moves every 30 s" in on
    assert f"POST {url}/__sandbox/advance/{{receiptNumber}}" in on
    off = "\n".join(banner(SandboxConfig(), url))
    assert "evolve:           off" in off
