"""Bad input gets the Matrix error a client expects, as JSON, on both
processes (plain HTTP, no client library smoothing anything over)."""

from __future__ import annotations

import pytest

from e2e_helpers import CLIENT_V3, request


def assert_matrix_error(resp, status: int, errcode: str) -> None:
    assert resp.status == status, resp
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.headers
    assert resp.errcode == errcode, resp
    assert isinstance(resp.body.get("error", ""), str), resp


@pytest.fixture
async def token(make_account, base_url) -> str:
    return (await make_account(base_url)).user.access_token


async def test_malformed_json_is_m_not_json(http, base_url, token):
    broken = b'{"type": "m.login.password", "identifier": '
    resp = await request(
        http, base_url, "POST", f"{CLIENT_V3}/login",
        data=broken, headers={"Content-Type": "application/json"},
    )
    assert_matrix_error(resp, 400, "M_NOT_JSON")

    # Also behind authentication.
    resp = await request(
        http, base_url, "POST", f"{CLIENT_V3}/createRoom",
        token=token, data=b"{not json", headers={"Content-Type": "application/json"},
    )
    assert_matrix_error(resp, 400, "M_NOT_JSON")


async def test_unknown_endpoint_is_404_unrecognized(http, base_url):
    for path in (f"{CLIENT_V3}/no/such/endpoint", "/_matrix/nonsense", "/definitely-not-here"):
        resp = await request(http, base_url, "GET", path)
        assert_matrix_error(resp, 404, "M_UNRECOGNIZED")


async def test_unknown_method_is_405_unrecognized(http, base_url):
    resp = await request(http, base_url, "DELETE", f"{CLIENT_V3}/login")
    assert_matrix_error(resp, 405, "M_UNRECOGNIZED")
    resp = await request(http, base_url, "PATCH", "/_matrix/client/versions")
    assert_matrix_error(resp, 405, "M_UNRECOGNIZED")


def login_body_of_size(size: int) -> bytes:
    """A valid /login JSON body of exactly `size` bytes (padded password)."""
    template = '{"type":"m.login.password","identifier":{"type":"m.id.user","user":"nobody"},"password":"%s"}'
    body = (template % ("x" * (size - len(template % "")))).encode()
    assert len(body) == size
    return body


async def test_body_over_limit_is_413_too_large(http, base_url, settings):
    # /login needs no token and builds no event, so only the body limit can
    # produce a 413 here. A body exactly at the limit is read and judged...
    at_limit = await request(
        http, base_url, "POST", f"{CLIENT_V3}/login",
        data=login_body_of_size(settings.max_body_bytes),
        headers={"Content-Type": "application/json"},
    )
    assert at_limit.status != 413, at_limit
    # ...one byte more is refused.
    over = await request(
        http, base_url, "POST", f"{CLIENT_V3}/login",
        data=login_body_of_size(settings.max_body_bytes + 1),
        headers={"Content-Type": "application/json"},
    )
    assert_matrix_error(over, 413, "M_TOO_LARGE")


async def test_missing_token_is_401_missing_token(http, base_url):
    resp = await request(http, base_url, "GET", f"{CLIENT_V3}/account/whoami")
    assert_matrix_error(resp, 401, "M_MISSING_TOKEN")


async def test_bad_token_is_401_unknown_token(http, base_url):
    resp = await request(
        http, base_url, "GET", f"{CLIENT_V3}/account/whoami", token="syt_not_a_real_token"
    )
    assert_matrix_error(resp, 401, "M_UNKNOWN_TOKEN")
    # The query-string form of the token is judged the same way.
    resp = await request(
        http, base_url, "GET", f"{CLIENT_V3}/account/whoami",
        params={"access_token": "syt_not_a_real_token"},
    )
    assert_matrix_error(resp, 401, "M_UNKNOWN_TOKEN")


async def test_cors_preflight(http, base_url):
    resp = await request(
        http, base_url, "OPTIONS", f"{CLIENT_V3}/createRoom",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert resp.status in (200, 204), resp
    allow_origin = resp.headers.get("Access-Control-Allow-Origin")
    assert allow_origin in ("*", "https://app.example"), resp.headers
    methods = {m.strip().upper() for m in resp.headers.get("Access-Control-Allow-Methods", "").split(",")}
    assert {"GET", "POST", "PUT", "DELETE", "OPTIONS"} <= methods or "*" in methods, resp.headers
    allowed = {h.strip().lower() for h in resp.headers.get("Access-Control-Allow-Headers", "").split(",")}
    assert {"authorization", "content-type"} <= allowed or "*" in allowed, resp.headers

    # Real responses carry the origin header too, or browsers drop them.
    versions = await request(
        http, base_url, "GET", "/_matrix/client/versions", headers={"Origin": "https://app.example"}
    )
    assert versions.status == 200, versions
    assert versions.headers.get("Access-Control-Allow-Origin") in ("*", "https://app.example")
