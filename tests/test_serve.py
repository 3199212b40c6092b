"""``casewatch serve``, the dashboard in a browser (issue 15, point 1), without a
browser: loopback only, the options passed through, a page that loads nothing from
outside the machine, other sites' pages refused, Ctrl-C, and the dashboard under
Textual's web driver (while a plain pipe is still refused). The browser itself:
tests/test_serve_browser.py."""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import httpx
import pytest

from casewatch.cli import EXIT_INTERRUPTED, build_parser, main
from casewatch.serve import WEB_DRIVER, dashboard_command
from conftest import closed_port, subprocess_env
from serve_helpers import STARTUP_S, served


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "203.0.113.7", "casewatch.example"])
def test_an_address_that_is_not_loopback_is_refused_with_the_port_forward(
    host: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--host", host, "--port", "9000"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"casewatch: serve: {host} is not a loopback address")
    assert "ssh -L 9000:localhost:9000 host" in err
    assert "http://localhost:9000" in err
    assert "--i-know-this-is-public" in err
    assert err.count("\n") == 1


def test_the_public_flag_warns_before_it_listens(capsys: pytest.CaptureFixture[str]) -> None:
    # 192.0.2.1 (TEST-NET-1, for documentation) is no address of this machine: nothing is
    # served on a real interface, and the bind fails after the warning.
    port = closed_port()
    code = main(["serve", "--host", "192.0.2.1", "--port", str(port), "--i-know-this-is-public"])
    err = capsys.readouterr().err.splitlines()
    assert code == 2
    assert err[0].startswith("casewatch: warning: serving the dashboard on 192.0.2.1, not ")
    assert "no login" in err[0]
    assert err[1] == (
        f"casewatch: serve: cannot listen on 192.0.2.1 port {port}: Cannot assign requested address"
    )


def test_a_bad_setting_is_said_once_before_serving(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--env", "production", "--port", str(closed_port())]) == 2
    assert "CASEWATCH_CLIENT_ID" in capsys.readouterr().err


def _dashboard_options() -> list[str]:
    # Every option the dashboard takes, with a value its type accepts.
    commands = next(
        action for action in build_parser()._actions if action.dest == "command"
    ).choices
    assert isinstance(commands, dict)
    options: list[str] = []
    for action in commands["dashboard"]._actions:
        if action.option_strings and action.dest != "help":
            if action.choices:
                value = next(iter(action.choices))
            else:  # a number or a path; a text with what a shell would run
                value = "3" if action.type is not None else "3 words; $(rm -rf ~)"
            options += [action.option_strings[-1], value]
    return options


def test_every_dashboard_option_passes_through_quoted() -> None:
    options = _dashboard_options()
    assert {"--env", "--watchlist", "--theme", "--config", "--tps"} <= set(options)
    args = build_parser().parse_args(["serve", "--port", "9000", *options])
    words = shlex.split(dashboard_command(args, python="/opt/py thon/bin/python3"))
    assert words[:3] == ["/opt/py thon/bin/python3", "-m", "casewatch"]
    assert words[-1] == "dashboard"
    assert "--port" not in words and "--host" not in words
    dashboard = build_parser().parse_args(words[3:])
    assert vars(dashboard) == vars(build_parser().parse_args([*options, "dashboard"]))


def test_options_before_the_verb_pass_through_too() -> None:
    args = build_parser().parse_args(["--theme", "casewatch-light", "serve", "--env", "demo"])
    assert shlex.split(dashboard_command(args, python="python"))[3:] == [
        "--theme",
        "casewatch-light",
        "--env",
        "demo",
        "dashboard",
    ]


_ADDRESS = re.compile(r"""(?:[a-z][a-z0-9+.-]*:)?//[^\s"'<>)]+""", re.IGNORECASE)
_LOADED = re.compile(r"""(?:src|href)="([^"]+)"|url\("?([^")]+)"?\)""")


def test_the_page_loads_nothing_from_outside_the_machine(tmp_path: Path) -> None:
    with served(tmp_path) as serve, httpx.Client(base_url=serve.url, timeout=STARTUP_S) as web:
        page = web.get("/")
        assert page.status_code == 200
        assert page.text.startswith("<!DOCTYPE html>")
        assert _ADDRESS.findall(page.text) == []  # no http(s)://, ws://, //host: all relative
        loaded = [a or b for a, b in _LOADED.findall(page.text) if not (a or b).startswith("data:")]
        assert {"static/js/textual.js", "static/css/xterm.css"} <= set(loaded)
        assert any(path.startswith("static/fonts/RobotoMono") for path in loaded)
        for path in loaded:
            answer = web.get(path)
            assert answer.status_code == 200, path
            if path.endswith(".css"):
                css = re.sub(r"/\*.*?\*/", "", answer.text, flags=re.DOTALL)  # not comments
                assert _ADDRESS.findall(css) == [], path


def test_a_page_of_another_site_or_name_is_refused(tmp_path: Path) -> None:
    with served(tmp_path) as serve, httpx.Client(timeout=STARTUP_S) as web:
        rebound = web.get(serve.url, headers={"Host": f"casewatch.example:{serve.port}"})
        assert rebound.status_code == 403
        assert "localhost, 127.0.0.1 or [::1] only" in rebound.text
        hijack = web.get(  # a WebSocket opened by another site's page
            serve.url + "ws",
            headers={
                "Origin": "https://casewatch.example",
                "Connection": "Upgrade",
                "Upgrade": "websocket",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            },
        )
        assert hijack.status_code == 403
        assert "no request from a page of 'https://casewatch.example'" in hijack.text
        forwarded = web.get(  # ssh -L 9000:localhost:PORT: the page is localhost:9000
            serve.url, headers={"Host": "localhost:9000", "Origin": "http://localhost:9000"}
        )
        assert forwarded.status_code == 200


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        children = {child for child, of in parents.items() if of == parent}
        found |= children
        todo += children
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def _first_screen(url: str) -> tuple[aiohttp.ClientWebSocketResponse, aiohttp.ClientSession]:
    session = aiohttp.ClientSession()
    async with asyncio.timeout(STARTUP_S):
        socket = await session.ws_connect(url + "ws?width=100&height=30", origin=url.rstrip("/"))
        while (await socket.receive()).type != aiohttp.WSMsgType.BINARY:
            pass  # "instance_id", "pong": until the dashboard draws
    return socket, session


def test_ctrl_c_stops_the_server_and_its_dashboards(tmp_path: Path) -> None:
    with served(tmp_path) as serve:

        async def session_then_ctrl_c() -> tuple[set[int], aiohttp.WSMsgType]:
            socket, session = await _first_screen(serve.url)
            dashboards = _descendants(serve.process.pid)
            serve.process.send_signal(signal.SIGINT)
            async with asyncio.timeout(STARTUP_S):
                while (message := await socket.receive()).type == aiohttp.WSMsgType.BINARY:
                    pass
            await session.close()
            return dashboards, message.type

        dashboards, last = asyncio.run(session_then_ctrl_c())
        assert serve.process.wait(timeout=STARTUP_S) == EXIT_INTERRUPTED
    assert last in {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED}
    assert dashboards  # the browser's dashboard ran (under sh -c)
    deadline = time.monotonic() + STARTUP_S
    while any(_alive(pid) for pid in dashboards):
        assert time.monotonic() < deadline, "a dashboard outlived casewatch serve"
        time.sleep(0.1)
    err = serve.stderr.read_text()
    assert err.splitlines()[-1] == "casewatch: interrupted"
    assert "Traceback" not in err + serve.stdout.read_text()
    assert (tmp_path / "xdg_data_home/casewatch/watchlist-demo.toml").exists()


def _packet(kind: bytes, payload: bytes) -> bytes:
    # textual-serve's framing of what it writes to the dashboard (AppService.encode_packet)
    return kind + len(payload).to_bytes(4, "big") + payload


def test_the_dashboard_runs_under_the_web_driver(tmp_path: Path) -> None:
    # As textual-serve runs it: pipes, TEXTUAL_DRIVER set; then told to quit, as it does.
    dashboard = subprocess.run(
        [sys.executable, "-m", "casewatch", "dashboard"],
        env={**subprocess_env(tmp_path), "TEXTUAL_DRIVER": WEB_DRIVER},
        input=_packet(b"M", json.dumps({"type": "quit"}).encode()),
        capture_output=True,
        timeout=STARTUP_S,
        check=False,
    )
    assert dashboard.stdout.startswith(b"__GANGLION__\n"), dashboard.stderr  # web driver
    assert dashboard.returncode == 0, dashboard.stderr
    assert b"needs a terminal" not in dashboard.stderr


@pytest.mark.parametrize(
    "driver", [None, "textual.drivers.headless_driver:HeadlessDriver", WEB_DRIVER + "X"]
)
def test_a_plain_pipe_is_still_refused(tmp_path: Path, driver: str | None) -> None:
    env = subprocess_env(tmp_path)
    env.pop("TEXTUAL_DRIVER", None)
    if driver is not None:
        env["TEXTUAL_DRIVER"] = driver
    result = subprocess.run(
        [sys.executable, "-m", "casewatch"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=STARTUP_S,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "the dashboard needs a terminal" in result.stderr
    assert "casewatch serve" in result.stderr
    assert result.stdout == ""
