"""The secret echoed back (issue 11, point 3): a token URL or a proxy that echoes the
request (the token request's form, the case-status request's ``Authorization`` header)
in its error. A session of ``check``, ``refresh``, ``list`` and ``export`` against such
scripted loopback servers, then a dashboard; the client secret and the access token
appear in no output, not in the watchlist, the log or the CSV export, nor on the
dashboard's screen or in its drawer; the messages still say what the server said."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote_plus

import pytest

from casewatch.cli import main
from casewatch.logs import default_log_path
from casewatch.uscis.auth import Credentials, Secret
from casewatch.watchlist import Watchlist
from conftest import Answer, Received, scripted_uscis
from pilot_helpers import drawer_text, until
from test_tui_offline import RECEIPTS as DUE
from test_tui_offline import dashboard

SECRET = "SENTINEL-secret+5f0c/9d7e1b"
"""The client secret of the session: ``+`` and ``/`` so that its form-encoded echo
differs from it."""

TOKEN = "SENTINEL-token-8a2e4c6b3d1f"
"""The access token the scripted token URL gives."""

HIDDEN = "SENTINEL"
"""What neither the secret nor the token may leave behind, not even cut in two."""

CLIENT_ID = "casewatch-echo"
RECEIPTS = ("EAC2612000401", "EAC2612000402", "EAC2612000403")

TOKEN_ANSWER = Answer(
    200, json.dumps({"access_token": TOKEN, "expires_in": "1799", "token_type": "Bearer"}).encode()
)


def echo(
    status: int, shape: Callable[[str], str], content_type: str = "application/json"
) -> Answer:
    """An answer that echoes the request: ``shape`` gets the token request's form (as
    sent, URL-encoded) or the case-status request's headers (``Name: value`` lines)."""

    def body(received: Received) -> Iterable[bytes]:
        sent = received.body.decode() or "\n".join(
            f"{name}: {value}" for name, value in received.headers.items()
        )
        return [shape(sent).encode()]

    return Answer(status, body, content_type)


TOKEN_ECHOES = {
    "400 OAuth error": echo(
        400,
        lambda form: json.dumps(
            {"error": "invalid_request", "error_description": f"Bad request: {form}"}
        ),
    ),
    "401 Apigee error": echo(
        401,
        lambda form: json.dumps(
            {"ErrorCode": "invalid_client", "Error": f"ClientId is Invalid; you sent {form}"}
        ),
    ),
    "500 JSON dump": echo(
        500,
        lambda form: json.dumps(
            {
                "request": {
                    key: value for key, _, value in (p.partition("=") for p in form.split("&"))
                }
            }
        ).replace(quote_plus(SECRET), SECRET),
    ),
    "502 decoded credentials cut at 300 characters": echo(
        502,
        # The secret decoded, with no key before it, where the message is cut in two.
        lambda form: f"proxy error {'x' * 250} credentials {CLIENT_ID}:{SECRET} refused",
        "text/plain",
    ),
    "500 HTML page": echo(
        500,
        lambda form: f"<html><head><title>Error for {form}</title></head><body>{form}</body>",
        "text/html",
    ),
}

CASE_ECHOES = {
    RECEIPTS[0]: echo(
        500, lambda headers: f"upstream failed; request was\n{headers}", "text/plain"
    ),
    RECEIPTS[1]: echo(
        404,
        lambda headers: json.dumps({"code": 404, "message": f"no case for request {headers}"}),
    ),
    RECEIPTS[2]: echo(
        404,
        lambda headers: json.dumps(
            {"code": 404, "message": "unknown", "headers": {"Authorization": f"Bearer {TOKEN}"}}
        ),
    ),
}


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The session's credentials, by the environment, for a production-like URL."""
    monkeypatch.setenv("CASEWATCH_ENV", "production")
    monkeypatch.setenv("CASEWATCH_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("CASEWATCH_CLIENT_SECRET", SECRET)


def assert_hidden(text: str, where: str) -> None:
    assert HIDDEN not in text, f"{where}: {text[text.index(HIDDEN) - 200 :][:400]!r}"


def test_echoed_credentials_reach_no_output_and_no_file(
    tmp_path: Path, credentials: None, capfd: pytest.CaptureFixture[str]
) -> None:
    watchlist = tmp_path / "w.toml"
    export = tmp_path / "export.csv"
    outputs: list[str] = []

    def run(url: str, *argv: str) -> int:
        code = main([*argv, "--base-url", url, "--tps", "1000"])
        captured = capfd.readouterr()
        outputs.extend([captured.out, captured.err])
        return code

    assert main(["add", *RECEIPTS, "--watchlist", str(watchlist)]) == 0
    for name, answer in TOKEN_ECHOES.items():
        with scripted_uscis({}, token=answer) as uscis:
            assert run(uscis.url, "check", RECEIPTS[0]) in (4, 6), name
            assert run(uscis.url, "refresh", "--watchlist", str(watchlist)) in (0, 4), name
            assert not uscis.requests  # no token, no case-status request
        assert_hidden(watchlist.read_text(), f"watchlist after {name}")
    with scripted_uscis(CASE_ECHOES, token=TOKEN_ANSWER) as uscis:
        assert run(uscis.url, "check", *RECEIPTS) == 6
        assert run(uscis.url, "refresh", "--watchlist", str(watchlist)) == 0
        assert run(uscis.url, "list", "--watchlist", str(watchlist)) == 0
        assert run(uscis.url, "export", "--watchlist", str(watchlist), "--output", str(export)) == 0
        assert run(uscis.url, "export", "--watchlist", str(watchlist), "--format", "json") == 0

    said = "\n".join(outputs)
    for expected in (
        "client_secret=[redacted]",  # the form as echoed
        '"client_secret": [redacted]',  # a JSON dump
        "credentials casewatch-echo:[redact",  # the decoded secret, where it is cut
        "Authorization: Bearer [redacted]",  # a header dump
    ):
        assert expected in said, expected
    errors = {
        case.receipt_number.value: case.last_error
        for case in Watchlist.load(watchlist).cases.values()
    }
    assert all(errors.values()), errors
    assert "[redacted]" in errors[RECEIPTS[0]] + errors[RECEIPTS[1]]
    assert_hidden(said, "output")
    for path in (watchlist, export, default_log_path()):
        assert_hidden(path.read_text(), str(path))
    assert "[redacted]" in export.read_text()
    everything = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert default_log_path() in everything
    for path in everything:
        assert_hidden(path.read_text(errors="replace"), str(path))


@pytest.mark.parametrize("token", [TOKEN_ANSWER, TOKEN_ECHOES["401 Apigee error"]])
async def test_the_dashboard_shows_no_echoed_credential(tmp_path: Path, token: Answer) -> None:
    answers = dict(zip(DUE, CASE_ECHOES.values(), strict=False))
    with scripted_uscis(answers, token=token) as uscis:
        app = dashboard(tmp_path, uscis.url)
        app.settings = replace(app.settings, credentials=Credentials(CLIENT_ID, Secret(SECRET)))
        async with app.run_test(size=(160, 40)) as pilot:
            board = app.dashboard
            await until(
                pilot,
                lambda: board.refresher is not None and board.refresher.progress is not None,
            )
            await app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            drawer = drawer_text(app)
            svg = app.export_screenshot()
    screen = html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")  # its text
    if token is TOKEN_ANSWER:
        assert "Last check failed" in drawer and "[redacted]" in drawer
    else:
        assert "refreshing stopped: USCIS refused the credentials" in screen
    assert_hidden(drawer, "drawer")
    assert_hidden(svg, "screen")
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert_hidden(path.read_text(errors="replace"), str(path))
