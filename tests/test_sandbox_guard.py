"""The sandbox served on loopback answers no web page: a forged ``Host`` (a page whose
name was pointed at 127.0.0.1, DNS rebinding) or a foreign ``Origin`` gets 403 with a
clear body, on the control routes and the API routes alike (issue 11, point 11)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from casewatch.sandbox import SandboxConfig, running_server
from casewatch.sandbox.data import STAGING_RECEIPTS

RECEIPT = STAGING_RECEIPTS[0]
CREDENTIALS = {
    "grant_type": "client_credentials",
    "client_id": "casewatch-demo",
    "client_secret": "casewatch-demo-secret",
}


@pytest.fixture
def sandbox() -> Iterator[httpx.Client]:
    config = SandboxConfig(latency_ms=(0.0, 0.0), tps=1_000_000.0)
    with running_server(config) as url, httpx.Client(base_url=url) as client:
        yield client


def port_of(client: httpx.Client) -> int:
    port = urlsplit(str(client.base_url)).port
    assert port is not None
    return port


def advances(client: httpx.Client) -> int:
    count: int = client.get("/__sandbox/stats").raise_for_status().json()["advances"]
    return count


@pytest.mark.parametrize(
    "host",
    [
        "rebound.example:{port}",
        "rebound.example",
        "127.0.0.1.nip.io:{port}",
        "127.0.0.1:{other}",
        "localhost:{other}",
        "127.0.0.1",
        "",
        "[::1",
    ],
)
def test_a_forged_host_drives_no_control_route_and_is_told_why(
    sandbox: httpx.Client, host: str
) -> None:
    port = port_of(sandbox)
    forged = host.format(port=port, other=port + 1)
    moved = sandbox.post(f"/__sandbox/advance/{RECEIPT}", headers={"Host": forged})
    read = sandbox.get("/__sandbox/stats", headers={"Host": forged})
    for response in (moved, read):
        assert response.status_code == 403
        message = response.json()["message"]
        assert f"127.0.0.1:{port}" in message and "DNS rebinding" in message
        assert repr(forged) in message
    assert advances(sandbox) == 0  # the case did not move


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}"])
def test_loopback_names_with_the_bound_port_are_answered(sandbox: httpx.Client, host: str) -> None:
    name = host.format(port=port_of(sandbox))
    moved = sandbox.post(f"/__sandbox/advance/{RECEIPT}", headers={"Host": name})
    assert moved.status_code == 200, moved.text
    assert advances(sandbox) == 1


def test_the_ipv6_loopback_name_is_answered() -> None:
    config = SandboxConfig(latency_ms=(0.0, 0.0))
    try:
        with running_server(config, host="::1") as url, httpx.Client(base_url=url) as client:
            response = client.get("/__sandbox/stats")
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    assert str(client.base_url).startswith("http://[::1]:")
    assert response.status_code == 200, response.text


def test_the_api_routes_refuse_a_forged_host_too(sandbox: httpx.Client) -> None:
    forged = {"Host": f"rebound.example:{port_of(sandbox)}"}
    token = sandbox.post("/oauth/accesstoken", data=CREDENTIALS, headers=forged)
    assert token.status_code == 403
    good = sandbox.post("/oauth/accesstoken", data=CREDENTIALS).raise_for_status()
    bearer = {"Authorization": f"Bearer {good.json()['access_token']}"}
    case = sandbox.get(f"/case-status/{RECEIPT}", headers={**bearer, **forged})
    assert case.status_code == 403 and "DNS rebinding" in case.json()["message"]
    stats = sandbox.get("/__sandbox/stats").json()
    assert stats["requests"] == 0 and stats["tokens_issued"] == 1  # nothing spent


@pytest.mark.parametrize("origin", ["https://attacker.example", "null"])
def test_a_foreign_web_page_cannot_post_to_the_sandbox_by_its_address(
    sandbox: httpx.Client, origin: str
) -> None:
    response = sandbox.post(f"/__sandbox/advance/{RECEIPT}", headers={"Origin": origin})
    assert response.status_code == 403
    assert response.json()["message"] == (
        f"this sandbox answers no request from a web page of {origin!r}"
    )
    assert advances(sandbox) == 0


def test_a_page_on_this_machines_loopback_may_post(sandbox: httpx.Client) -> None:
    response = sandbox.post(
        f"/__sandbox/advance/{RECEIPT}", headers={"Origin": "http://localhost:3000"}
    )
    assert response.status_code == 200, response.text
