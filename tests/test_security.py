"""Security checks (issue 6, item 8): a whole session with a sentinel secret, then a search
for it (and for every access token the sandbox issued) in all the output and in every
file written; the log file is private; the ``on_change`` command runs without a shell.

The session: ``casewatch check`` against a sandbox on loopback that accepts the sentinel
secret (success), the same with a wrong secret (exit 4), ``casewatch config``, ``casewatch
add``, two ``casewatch refresh`` runs around a change of a case (the ``on_change`` command
runs, and fails), a dashboard session (Pilot) refused by the sandbox and then crashed on
purpose with the secret in a local variable, and a command crashed on purpose the same
way.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import stat
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

import casewatch.hooks
from casewatch.cli import main
from casewatch.config import default_config_path, load_settings
from casewatch.logs import default_log_path
from casewatch.sandbox import SandboxConfig, running_server
from casewatch.uscis.errors import AuthenticationError
from casewatch.watchlist import open_watchlist

SENTINEL = "SENTINEL-s3cr3t-5f0c9d7e1b"
"""The client secret of the session."""

WRONG_SENTINEL = "SENTINEL-wr0ng-8a2e4c6b"
"""A wrong client secret, just as secret."""

CLIENT_ID = "casewatch-security"
RECEIPT = "EAC9999103403"

HOOK = """
import json, os, sys
from pathlib import Path
record = {"argv": sys.argv[1:], "environment": dict(os.environ), "event": sys.stdin.read()}
Path(os.environ["HOOK_RECORD"]).write_text(json.dumps(record))
print("the hook failed on purpose", file=sys.stderr)
sys.exit(3)
"""
"""An on_change command that records its arguments, its environment and its input, then
fails (so its error output is shown and logged)."""

LITERAL_ARGUMENTS = ["$(touch pwned)", "a;b|c && touch pwned2", "`touch pwned3`"]
"""Arguments a shell would run commands from."""


class RecordingSecrets:
    """Stands in for the sandbox's ``secrets`` module: remembers every token issued."""

    def __init__(self) -> None:
        self.issued: list[str] = []

    def token_urlsafe(self, nbytes: int) -> str:
        token = secrets.token_urlsafe(nbytes)
        self.issued.append(token)
        return token


@pytest.fixture
def session_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working directory and the temporary directory inside ``tmp_path`` too (the
    user directories already are, by conftest), so every file the session writes is
    under ``tmp_path``."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))
    monkeypatch.setattr(tempfile, "tempdir", None)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path


def write_config(base_url: str, hook: Path) -> Path:
    path = default_config_path()
    path.parent.mkdir(parents=True)
    command = [sys.executable, str(hook), *LITERAL_ARGUMENTS]
    path.write_text(
        f'env = "production"\nbase_url = "{base_url}"\ntps = 1000\n'
        f"on_change = {json.dumps(command)}\n"
        f'[credentials]\nclient_id = "{CLIENT_ID}"\nclient_secret = "{SENTINEL}"\n'
    )
    path.chmod(0o600)
    return path


def run(capfd: pytest.CaptureFixture[str], output: list[str], *argv: str) -> int:
    """``casewatch argv``; its standard output and error are added to ``output``."""
    code = main(list(argv))
    captured = capfd.readouterr()
    output.extend([captured.out, captured.err])
    return code


async def dashboard_refused_then_crashed() -> None:
    from casewatch.tui.app import CaseWatchApp

    settings = load_settings()
    app = CaseWatchApp(settings, open_watchlist(settings))

    def crash() -> None:
        secret = settings.credentials.client_secret.reveal()  # a plain str in a frame
        raise RuntimeError(f"forced crash, the secret has {len(secret)} characters")

    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()  # the automatic pass: no case is due
        await pilot.press("R")  # refresh every case now: refused
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.dashboard.refresher is not None and app.dashboard.refresher.progress is not None
        assert isinstance(app.dashboard.refresher.progress.stopped_by, AuthenticationError)
        app.dashboard.action_toggle_language = crash  # type: ignore[method-assign]
        await pilot.press("l")
        await pilot.pause()


def test_a_whole_session_never_shows_or_writes_the_secret(
    session_dirs: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    tokens = RecordingSecrets()
    monkeypatch.setattr("casewatch.sandbox.app.secrets", tokens)
    hook = session_dirs / "hook.py"
    hook.write_text(HOOK)
    hook_record = session_dirs / "hook-record.json"
    monkeypatch.setenv("HOOK_RECORD", str(hook_record))
    output: list[str] = []
    sandbox = SandboxConfig(
        client_id=CLIENT_ID, client_secret=SENTINEL, latency_ms=(0.0, 0.0), tps=1_000_000.0
    )
    with running_server(sandbox) as base_url:
        config = write_config(base_url, hook)

        assert run(capfd, output, "check", RECEIPT) == 0
        monkeypatch.setenv("CASEWATCH_CLIENT_SECRET", WRONG_SENTINEL)
        assert run(capfd, output, "check", RECEIPT) == 4
        assert "refused the credentials" in output[-2]
        monkeypatch.setenv("CASEWATCH_CLIENT_SECRET", SENTINEL)
        assert run(capfd, output, "config") == 0
        assert f"******** ({len(SENTINEL)} characters)" in output[-2]
        assert run(capfd, output, "add", RECEIPT, "LIN9999106498") == 0
        assert run(capfd, output, "refresh") == 0
        httpx.post(f"{base_url}/__sandbox/advance/{RECEIPT}").raise_for_status()
        assert run(capfd, output, "refresh", "--all") == 0  # not due yet: asked again
        assert "the hook failed on purpose" in output[-1]

        monkeypatch.setenv("CASEWATCH_CLIENT_SECRET", WRONG_SENTINEL)
        with pytest.raises(RuntimeError, match="forced crash"):
            asyncio.run(dashboard_refused_then_crashed())
        captured = capfd.readouterr()
        output.extend([captured.out, captured.err])

        def broken_report(settings: object) -> str:
            secret = SENTINEL  # a plain str in a frame  # noqa: F841
            raise RuntimeError("forced crash of casewatch config")

        monkeypatch.setattr("casewatch.cli.describe_settings", broken_report)
        assert run(capfd, output, "config") == 1
        assert "unexpected error (RuntimeError)" in output[-1]

    # The on_change command got its arguments literally (no shell) and not the secret.
    record = json.loads(hook_record.read_text())
    assert record["argv"] == LITERAL_ARGUMENTS
    assert not list(session_dirs.rglob("pwned*"))
    assert "CASEWATCH_CLIENT_SECRET" not in record["environment"]
    assert json.loads(record["event"])["receipt_number"] == RECEIPT

    # The log file: private, and it kept what went wrong.
    log_file = default_log_path()
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    logged = log_file.read_text()
    for expected in (
        f"check {RECEIPT} failed: USCIS refused the credentials",
        "change alert for EAC9999103403 failed: the on_change command",
        "Refresh stopped: USCIS refused the credentials",
        "the dashboard crashed",
        "RuntimeError: forced crash, the secret has",  # the traceback, without locals
        "casewatch config failed unexpectedly",
    ):
        assert expected in logged

    # Nowhere: not in any output, not in any file written (the config file aside: the
    # user wrote the secret there), not the secrets and not the access tokens.
    assert len(tokens.issued) >= 3
    hidden = [SENTINEL, WRONG_SENTINEL, *tokens.issued]
    everything = "\n".join(output)
    assert "forced crash" in everything  # the crashes' reports are in the output searched
    for value in hidden:
        assert value not in everything
    written = [path for path in session_dirs.rglob("*") if path.is_file() and path != config]
    assert log_file in written and hook_record in written
    for path in written:
        content = path.read_bytes()
        for value in hidden:
            assert value.encode() not in content, path


def test_the_on_change_command_never_goes_through_a_shell() -> None:
    source = Path(casewatch.hooks.__file__).read_text()
    assert "subprocess_exec(" in source
    for shell in ("create_subprocess_shell", "shell=True", "os.system", "os.popen"):
        assert shell not in source
