"""A scripted USCIS on loopback, for tests that need answers the built-in sandbox never
gives: the same case with its history reordered, a null history turned empty, a network
that refuses connections and then comes back.

The token URL grants a token to any client (an Apigee-style answer: every value a
string). Each ``GET /case-status/{receipt}`` takes the next answer of that receipt's
script; the last answer repeats. Until :meth:`ScriptedUSCIS.answer` is called the port
is bound but not listening, so every connection is refused, as with USCIS unreachable.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CASE_BODY: dict[str, Any] = {
    "case_status": {
        "receiptNumber": "EAC9999103403",
        "formType": "I-130",
        "submittedDate": "09-05-2023 14:28:46",
        "modifiedDate": "09-05-2023 14:28:46",
        "current_case_status_text_en": "Case Was Approved",
        "current_case_status_desc_en": "On September 5, 2023, we approved your Form I-130.",
        "current_case_status_text_es": "Caso Fue Aprobado",
        "current_case_status_desc_es": "El 5 de septiembre de 2023 aprobamos su Formulario I-130.",
        "hist_case_status": [
            {
                "date": "2023-09-05",
                "completed_text_en": "We approved your Form I-130.",
                "completed_text_es": "Aprobamos su Formulario I-130.",
            },
        ],
    },
    "message": "Query was successful",
}
"""The documented 200 body (``uscis-api.md``, "Case status"), to vary per test."""


def case_body(receipt: str, **fields: Any) -> dict[str, Any]:
    """:data:`CASE_BODY` for ``receipt`` with these ``case_status`` fields replaced
    (``message`` replaces the top-level message)."""
    body = copy.deepcopy(CASE_BODY)
    if "message" in fields:
        body["message"] = fields.pop("message")
    body["case_status"].update(fields, receiptNumber=receipt)
    return body


class ScriptedUSCIS:
    """See the module. ``script`` maps receipt numbers to their answers: a 200 body
    (a dict), or an HTTP status (an int) answered with USCIS's error shape. ``asked``
    counts the case-status requests per receipt."""

    def __init__(self, script: dict[str, list[dict[str, Any] | int]]) -> None:
        self.script = script
        self.asked: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(
            ("127.0.0.1", 0), self._handler(), bind_and_activate=False
        )
        self._server.daemon_threads = True
        self._server.server_bind()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread: threading.Thread | None = None

    def answer(self) -> None:
        """Start listening: the connections refused until now are answered."""
        self._server.server_activate()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop answering and free the port."""
        if self._thread is not None:
            self._server.shutdown()
        self._server.server_close()

    def _next(self, receipt: str) -> dict[str, Any] | int:
        with self._lock:
            answers = self.script.get(receipt, [404])
            index = self.asked.get(receipt, 0)
            self.asked[receipt] = index + 1
            return answers[min(index, len(answers) - 1)]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._send(
                    200,
                    {
                        "access_token": "scripted-token",
                        "expires_in": "1799",
                        "token_type": "BearerToken",
                        "issued_at": "1764426600000",
                    },
                )

            def do_GET(self) -> None:
                receipt = self.path.rsplit("/", 1)[-1]
                answer = scripted._next(receipt)
                if isinstance(answer, int):
                    error = {"code": str(answer), "message": f"scripted error {answer}"}
                    self._send(answer, {"errors": [error]})
                else:
                    self._send(200, answer)

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@contextmanager
def scripted_uscis(
    script: dict[str, list[dict[str, Any] | int]], *, answering: bool = True
) -> Iterator[ScriptedUSCIS]:
    """A :class:`ScriptedUSCIS`, answering at once unless ``answering`` is False, closed
    at the end."""
    server = ScriptedUSCIS(script)
    if answering:
        server.answer()
    try:
        yield server
    finally:
        server.close()
