import pytest

from casewatch.uscis.errors import (
    AuthenticationError,
    MalformedReceipt,
    QuotaExhausted,
    ReceiptNotRecognized,
    RequestRefused,
    ServerError,
    ServiceUnavailable,
    SpikeArrest,
    UnexpectedAnswer,
    error_from_response,
    parse_error_body,
)

SANDBOX_503 = (
    '\n\n  {"error": {"code": "503", "message": "The Case Status API Sandbox is unavailable '
    'at this time. Please retry M-F 7:00AM EST - 8:00 PM EST"}}'
)


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ('{"code": 401, "message": "Invalid Access Token"}', "401", "Invalid Access Token"),
        (SANDBOX_503, "503", "The Case Status API Sandbox is unavailable"),
        ('{"errors": [{"code": "404", "message": "Not here"}]}', "404", "Not here"),
        (
            '{"fault": {"faultstring": "Access Token expired", "detail": '
            '{"errorcode": "keymanagement.service.access_token_expired"}}}',
            "keymanagement.service.access_token_expired",
            "Access Token expired",
        ),
        (
            '{"ErrorCode": "invalid_request", "Error": "Required param : grant_type"}',
            "invalid_request",
            "Required param : grant_type",
        ),
        (
            "<html><head><title>502 Bad Gateway</title></head><body>x</body></html>",
            "",
            "502 Bad Gateway",
        ),
        ("", "", ""),
        ("   ", "", ""),
        ("upstream connect error", "", "upstream connect error"),
        ('{"message": "only a message"}', "", "only a message"),
        ("[1, 2]", "", "[1, 2]"),
    ],
)
def test_every_body_shape(body: str, code: str, message: str) -> None:
    got_code, got_message = parse_error_body(body.encode())
    assert got_code == code
    assert got_message.startswith(message)


def test_long_bodies_are_clipped() -> None:
    _, message = parse_error_body("x" * 5000)
    assert len(message) <= 300


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (401, '{"code": 401, "message": "Invalid Access Token"}', AuthenticationError),
        (
            404,
            '{"code": 404, "message": "Case Status Online does not recognize"}',
            ReceiptNotRecognized,
        ),
        (422, '{"code": 422, "message": "not formatted correctly"}', MalformedReceipt),
        (429, '{"code": 429, "message": "Spike Arrest Violation"}', SpikeArrest),
        (429, '{"code": 429, "message": "Quota Exceeded"}', QuotaExhausted),
        (503, SANDBOX_503, ServiceUnavailable),
        (500, "", ServerError),
        (403, "<html>Forbidden</html>", RequestRefused),
        # A 404 is USCIS's "not recognized" only in one of USCIS's error shapes
        # (uscis-api.md, "Errors" and "More facts gathered later").
        (404, '{"message": "Case Status Online does not recognize"}', ReceiptNotRecognized),
        (404, '{"errors": [{"code": "404", "message": "Not here"}]}', ReceiptNotRecognized),
        (404, '\n {"error": {"code": "404", "message": "Not here"}}', ReceiptNotRecognized),
        # Apigee's own fault is the gateway speaking (an unknown address), not USCIS.
        (404, '{"fault": {"faultstring": "Not here"}}', UnexpectedAnswer),
        (404, "<html><title>404 Not Found</title></html>", UnexpectedAnswer),
        (404, "", UnexpectedAnswer),
        (404, "404 page not found", UnexpectedAnswer),
        (404, '{"status": "NOT_FOUND"}', UnexpectedAnswer),
    ],
)
def test_statuses_map_to_typed_errors(status: int, body: str, kind: type) -> None:
    error = error_from_response(status, body.encode())
    assert type(error) is kind
    assert error.status == status


def test_the_user_sees_uscis_own_message() -> None:
    error = error_from_response(404, b'{"code": 404, "message": "Case Status Online says no"}')
    assert "Case Status Online says no" in str(error)
    assert "does not recognize" in str(error)
    assert "malformed" not in str(error)
    assert "HTTP 500" in str(error_from_response(500, b""))


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("<!DOCTYPE html><html><head><title>Not Found</title>", "an HTML page: Not Found"),
        ("<html><body>gone</body></html>", "an HTML page"),
        ("", "an empty body"),
        ("  \n", "an empty body"),
        ('{"status": "NOT_FOUND"}', "JSON that is not a USCIS error"),
        ("404 page not found", "a body that is not JSON"),
    ],
)
def test_a_404_that_is_not_uscis_says_what_it_is(body: str, said: str) -> None:
    error = error_from_response(404, body.encode())
    assert error.message.startswith(f"HTTP 404 with {said} (a proxy or a moved address")
    assert "does not recognize" not in str(error)
    assert not error.retryable
