"""Every answer's body read with a bound, decompressed size included (issue 11, point 5).

A case status is a few kB (``uscis-api.md``, "Case status"); a hostile or broken server
(a compromised proxy) could send 200 MB, or a 2 MB gzip bomb that httpx would inflate
whole: 6.36 GB of memory were seen. :func:`bound_body`, a response hook of the client,
gives every response (case status, token, an error, a 401 that httpx reads before the
retry) a body stream that decompresses at most :data:`DECODE_CHUNK_BYTES` at a time and
stops past :data:`MAX_BODY_BYTES` with :class:`~casewatch.uscis.errors.AnswerTooLarge`.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import aclosing

import httpx

from casewatch.uscis.errors import AnswerTooLarge, BadResponse, UnexpectedAnswer

MAX_BODY_BYTES = 1_048_576
"""Bytes of an answer's body read at most, once decompressed, and as sent: 1 MB, two
hundred times a case status with a long history."""

DECODE_CHUNK_BYTES = 65_536
"""Bytes decompressed at a time (httpx's own decoder inflates a whole network chunk at
once: a 64 kB chunk of a gzip bomb, 64 MB in one piece)."""

ACCEPTED_ENCODINGS = "gzip, deflate"
"""The ``Accept-Encoding`` casewatch sends: the content codings it decompresses
itself, with a bound (``identity`` too, always)."""

CODINGS = ("gzip", "x-gzip", "deflate")
"""The content codings casewatch decompresses (RFC 9110, section 8.4.1), besides
``identity``."""


def _zlib_wrapped(head: bytes) -> bool:
    # Whether a "deflate" body starts with a zlib header (RFC 1950): deflate method, and
    # the first two bytes a multiple of 31. Some servers send raw deflate instead.
    return head[0] & 0x0F == 8 and int.from_bytes(head[:2], "big") % 31 == 0


class _Inflater:
    # Decompresses a gzip or deflate body at most DECODE_CHUNK_BYTES at a time. A
    # "deflate" body without its zlib header (raw deflate) is read too, as httpx does.

    def __init__(self, coding: str) -> None:
        self._inflate = None if coding == "deflate" else zlib.decompressobj(zlib.MAX_WBITS | 16)
        self._head = b""  # the first bytes of a deflate body, until they say which

    def _start(self) -> bytes:
        head, self._head = self._head, b""
        wbits = zlib.MAX_WBITS if len(head) >= 2 and _zlib_wrapped(head) else -zlib.MAX_WBITS
        self._inflate = zlib.decompressobj(wbits)
        return head

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._inflate is None:
            self._head += data
            if len(self._head) < 2:
                return
            data = self._start()
        assert self._inflate is not None
        while not self._inflate.eof:
            piece = self._inflate.decompress(data, DECODE_CHUNK_BYTES)
            data = self._inflate.unconsumed_tail
            if piece:
                yield piece
            if not data and len(piece) < DECODE_CHUNK_BYTES:
                return  # all consumed, nothing pending

    def finish(self) -> Iterator[bytes]:
        if self._inflate is None:  # a body of less than 2 bytes
            yield from self.feed(self._start())
        assert self._inflate is not None
        yield self._inflate.flush()


class BoundedBody(httpx.AsyncByteStream):
    """``raw`` (the body of a response of HTTP ``status``, as sent) decompressed per
    ``encoding`` (its ``Content-Encoding``, "" for none), at most ``limit`` bytes of it,
    as sent or decompressed.

    Iterating raises :class:`~casewatch.uscis.errors.AnswerTooLarge` past ``limit``,
    :class:`~casewatch.uscis.errors.UnexpectedAnswer` for a content coding other than
    ``gzip``, ``deflate`` or ``identity``, and
    :class:`~casewatch.uscis.errors.BadResponse` (retried) for compressed data that
    does not decompress; with ``token``, their messages say it was the token URL's
    answer.
    """

    def __init__(
        self, raw: httpx.AsyncByteStream, *, status: int, encoding: str, token: bool, limit: int
    ) -> None:
        self._raw = raw
        self._status = status
        self._encoding = encoding
        self._answered = f"the token URL answered HTTP {status}" if token else f"HTTP {status}"
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        inflater = self._inflater()
        kept = 0
        try:
            async with aclosing(self._pieces(inflater)) as pieces:
                async for piece in pieces:
                    kept += len(piece)
                    if kept > self._limit:
                        raise self._error(AnswerTooLarge, self._too_large())
                    yield piece
        except zlib.error:
            raise self._error(
                BadResponse, "with a compressed body that does not decompress"
            ) from None

    async def _pieces(self, inflater: _Inflater | None) -> AsyncGenerator[bytes]:
        # The body, decompressed DECODE_CHUNK_BYTES at a time; no more than ``limit``
        # bytes of it are read as sent.
        sent = 0
        async for chunk in self._raw:
            sent += len(chunk)
            if sent > self._limit:
                raise self._error(AnswerTooLarge, self._too_large())
            if inflater is None:
                yield chunk
            else:
                for piece in inflater.feed(chunk):
                    yield piece
        if inflater is not None:
            for piece in inflater.finish():
                yield piece

    async def aclose(self) -> None:
        await self._raw.aclose()

    def _inflater(self) -> _Inflater | None:
        coding = self._encoding.strip().lower()
        if coding in ("", "identity"):
            return None
        if coding not in CODINGS:
            raise self._error(
                UnexpectedAnswer,
                f"with a body in a content coding casewatch does not read "
                f"({self._encoding[:40]}; it asks for {ACCEPTED_ENCODINGS})",
            )
        return _Inflater("deflate" if coding == "deflate" else "gzip")

    def _too_large(self) -> str:
        return (
            f"with a body larger than {self._limit:,} bytes (casewatch reads no more of an "
            "answer, decompressed or not; a case status is a few kB)"
        )

    def _error(self, kind: type[UnexpectedAnswer], what: str) -> UnexpectedAnswer:
        return kind(f"{self._answered} {what}", status=self._status)


def bound_body(response: httpx.Response, *, token: bool) -> None:
    """Give ``response`` (not read yet) a :class:`BoundedBody` of at most
    :data:`MAX_BODY_BYTES`, which decompresses it: its ``Content-Encoding`` is taken
    off, so httpx does not decompress it again. ``token``: it is the token URL's answer.
    """
    encoding = response.headers.pop("content-encoding", "")
    response.stream = BoundedBody(
        response.stream,  # type: ignore[arg-type]  # an AsyncClient's: async
        status=response.status_code,
        encoding=encoding,
        token=token,
        limit=MAX_BODY_BYTES,
    )
