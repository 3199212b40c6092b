"""``casewatch serve`` in a child process on a free loopback port, for the tests of the
dashboard in a browser (tests/test_serve.py, tests/test_serve_browser.py)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from conftest import closed_port, subprocess_env

STARTUP_S = 60.0
"""Seconds ``casewatch serve`` gets to listen: a deadline against a hang, not a speed."""


@dataclass(frozen=True)
class Served:
    """A running ``casewatch serve``: its process, the page's URL (ending in ``/``), its
    port and the files its standard output and error go to."""

    process: subprocess.Popen[bytes]
    url: str
    port: int
    stdout: Path
    stderr: Path


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def served(tmp_path: Path, *options: str) -> Iterator[Served]:
    """``casewatch serve --port PORT *options`` with the user directories in
    ``tmp_path`` (the demo sandbox: the first dashboard seeds the 50 staging receipts),
    once it listens; stopped (SIGTERM) on the way out if it still runs. Fails when it
    exits or does not listen within :data:`STARTUP_S`."""
    port = closed_port()
    stdout, stderr = tmp_path / "serve.out", tmp_path / "serve.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "casewatch", "serve", "--port", str(port), *options],
            env=subprocess_env(tmp_path),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + STARTUP_S
        while not _listening(port):
            assert process.poll() is None, stderr.read_text()
            assert time.monotonic() < deadline, f"not listening: {stderr.read_text()}"
            time.sleep(0.1)
        yield Served(process, f"http://127.0.0.1:{port}/", port, stdout, stderr)
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=STARTUP_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
