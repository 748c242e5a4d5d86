"""The server's signing keys, checked with matrix-org's own signedjson library."""

from __future__ import annotations

import time

from signedjson.key import decode_verify_key_bytes
from signedjson.sign import verify_signed_json
from unpaddedbase64 import decode_base64

from e2e_helpers import request


async def test_key_response_is_self_signed_and_current(http, settings, base_url):
    r = await request(http, base_url, "GET", "/_matrix/key/v2/server")
    assert r.status == 200, r
    body = r.body
    assert body["server_name"] == settings.server_name
    assert body["valid_until_ts"] > time.time() * 1000
    (key_id, entry), = body["verify_keys"].items()
    algorithm, version = key_id.split(":", 1)
    assert algorithm == "ed25519"
    verify_key = decode_verify_key_bytes(key_id, decode_base64(entry["key"]))
    verify_signed_json(body, settings.server_name, verify_key)  # raises on a bad signature
    # Both processes serve the same key.
    other = await request(http, settings.base2 if base_url == settings.base1 else settings.base1, "GET", "/_matrix/key/v2/server")
    assert other.body["verify_keys"] == body["verify_keys"]


async def test_federation_version(http, base_url):
    r = await request(http, base_url, "GET", "/_matrix/federation/v1/version")
    assert r.status == 200 and r.body["server"]["name"] == "Myelin", r
