"""The dashboard in a real browser (issue 15, point 1): ``casewatch serve`` on the demo
sandbox, opened in headless Chromium (Debian's ``chromium``) driven by Playwright for
Python. The page starts the dashboard on a click; the table shows the staging receipts;
``j`` and ``enter`` open the drawer of the second case; every request the page made went
to the loopback server; a screenshot is saved (screenshots/serve-browser.png with
``CASEWATCH_SCREENSHOTS=1``, else in the test's folder).

Without Playwright or Chromium the test is skipped with the reason. ``.ci/run`` installs
both (``apt-get install chromium``, the ``playwright`` package of the test extras)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from serve_helpers import STARTUP_S, served

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
"""Debian's Chromium: Playwright's own browser download cannot be had here."""

WAIT_MS = STARTUP_S * 1000
"""The deadline of every wait on the page, in milliseconds: against a hang, not a speed."""

SCREENSHOT = Path(__file__).parents[1] / "screenshots" / "serve-browser.png"

CAPTURE_TERMINAL = """
// textual.js keeps its xterm.js Terminal in a local object (`this.terminal = new
// Terminal(...)`): catch it as it is assigned, as window.casewatchTerminal. The property
// is then the object's own, as before.
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "terminal", {
      value, writable: true, configurable: true, enumerable: true,
    });
    if (value && value.buffer && !window.casewatchTerminal) window.casewatchTerminal = value;
  },
});
"""

SCREEN_TEXT = """() => {
  // The terminal's screen as text, from its buffer (it draws on a canvas).
  const terminal = window.casewatchTerminal;
  if (!terminal) return "";
  const buffer = terminal.buffer.active;
  const rows = [];
  for (let y = 0; y < terminal.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    rows.push(line ? line.translateToString(true) : "");
  }
  return rows.join("\\n");
}"""


def _shows(text: str) -> str:
    return f"() => ({SCREEN_TEXT})().includes({text!r})"


def test_the_dashboard_in_headless_chromium(tmp_path: Path) -> None:
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright for Python is not installed (pip install -e '.[test]')",
    )
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    with served(tmp_path) as serve, sync_api.sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox will not start.
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.set_default_timeout(WAIT_MS)
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            page.add_init_script(CAPTURE_TERMINAL)
            page.goto(serve.url + "?delay=1")  # the page waits for a click on Start
            page.click("#start")
            page.wait_for_function(_shows("EAC9999103404"), timeout=WAIT_MS)
            page.wait_for_function(_shows("Case Was Updated To Show"), timeout=WAIT_MS)
            before = page.evaluate(SCREEN_TEXT)
            assert "Timeline" not in before
            page.focus(".xterm-helper-textarea")  # xterm.js reads keys from it
            page.keyboard.press("j")
            page.keyboard.press("Enter")
            page.wait_for_function(_shows("Timeline, newest first"), timeout=WAIT_MS)
            screen = page.evaluate(SCREEN_TEXT)
            shot = SCREENSHOT if os.environ.get("CASEWATCH_SCREENSHOTS") else tmp_path / "shot.png"
            page.screenshot(path=str(shot))
        finally:
            browser.close()
    assert "EAC9999103404 · I-131" in screen  # the drawer of the second case, after j
    origins = {urlsplit(url)[:2] for url in requested}
    assert origins == {("http", f"127.0.0.1:{serve.port}")}, requested
    assert shot.stat().st_size > 0
