"""Federation with a real Synapse on loopback (scripts/test.sh starts it with a TLS
federation listener and certificate checks off): each server looks up the other's users
through its own client API, Synapse fetches and notarises Myelin's keys, and requests
Myelin cannot verify are refused."""

from __future__ import annotations

import json

import aiohttp
import pytest
from signedjson.key import decode_verify_key_bytes, encode_verify_key_base64, generate_signing_key
from signedjson.sign import sign_json, verify_signed_json
from unpaddedbase64 import decode_base64

from e2e_helpers import CLIENT_V3, q, request


async def tls_request(method: str, url: str, headers: dict[str, str] | None = None, body: bytes | None = None):
    """A request to a federation listener; both servers have self-signed certificates."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as s:
        async with s.request(method, url, headers=headers or {}, data=body) as r:
            text = await r.text()
            try:
                parsed = json.loads(text) if text else None
            except ValueError:
                parsed = None
            return r.status, parsed


async def set_displayname(http, base: str, account, name: str) -> None:
    r = await request(http, base, "PUT", f"{CLIENT_V3}/profile/{q(account.user.user_id)}/displayname",
                      token=account.user.access_token, json_body={"displayname": name})
    assert r.status == 200, r


async def upload_device_keys(http, base: str, account) -> str:
    """Signed device keys and one one-time key for the account's device; returns the
    device's ed25519 key."""
    user, device = account.user.user_id, account.user.device_id
    key = generate_signing_key(device)
    public = encode_verify_key_base64(key.verify_key)
    device_keys = sign_json({
        "user_id": user, "device_id": device,
        "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
        "keys": {f"ed25519:{device}": public, f"curve25519:{device}": public},
    }, user, key)
    otk = sign_json({"key": public}, user, key)
    r = await request(http, base, "POST", f"{CLIENT_V3}/keys/upload", token=account.user.access_token,
                      json_body={"device_keys": device_keys, "one_time_keys": {"signed_curve25519:AAAAAQ": otk}})
    assert r.status == 200, r
    return public


@pytest.fixture
async def synapse_account(make_account, settings):
    return await make_account(settings.synapse_url, via="admin", prefix="syn")


@pytest.fixture
async def myelin_account(make_account, settings):
    return await make_account(settings.base1, prefix="myl")


async def test_synapse_reads_a_myelin_profile(http, settings, myelin_account, synapse_account):
    await set_displayname(http, settings.base1, myelin_account, "Alice on Myelin")
    r = await request(http, settings.synapse_url, "GET", f"{CLIENT_V3}/profile/{q(myelin_account.user.user_id)}",
                      token=synapse_account.user.access_token)
    assert r.status == 200 and r.body.get("displayname") == "Alice on Myelin", r
    missing = await request(http, settings.synapse_url, "GET",
                            f"{CLIENT_V3}/profile/{q('@nobody_here:' + settings.server_name)}",
                            token=synapse_account.user.access_token)
    assert missing.status == 404, missing


async def test_myelin_reads_a_synapse_profile_and_alias(http, settings, myelin_account, synapse_account):
    await set_displayname(http, settings.synapse_url, synapse_account, "Bob on Synapse")
    for base in (settings.base1, settings.base2):
        r = await request(http, base, "GET", f"{CLIENT_V3}/profile/{q(synapse_account.user.user_id)}",
                          token=myelin_account.user.access_token)
        assert r.status == 200 and r.body.get("displayname") == "Bob on Synapse", r
    field = await request(http, settings.base1, "GET", f"{CLIENT_V3}/profile/{q(synapse_account.user.user_id)}/displayname")
    assert field.status == 200 and field.body == {"displayname": "Bob on Synapse"}, field

    alias_name = synapse_account.user.localpart
    created = await request(http, settings.synapse_url, "POST", f"{CLIENT_V3}/createRoom",
                            token=synapse_account.user.access_token,
                            json_body={"preset": "public_chat", "room_alias_name": alias_name})
    assert created.status == 200, created
    alias = f"#{alias_name}:{settings.synapse_server_name}"
    found = await request(http, settings.base1, "GET", f"{CLIENT_V3}/directory/room/{q(alias)}")
    assert found.status == 200 and found.body["room_id"] == created.body["room_id"], found
    assert settings.synapse_server_name in found.body["servers"], found
    absent = await request(http, settings.base1, "GET", f"{CLIENT_V3}/directory/room/{q('#none_' + alias_name + ':' + settings.synapse_server_name)}")
    assert absent.status == 404 and absent.errcode == "M_NOT_FOUND", absent


async def test_synapse_fetched_and_notarises_myelin_keys(http, settings, myelin_account, synapse_account):
    # A request from Synapse makes each side fetch the other's keys.
    await request(http, settings.synapse_url, "GET", f"{CLIENT_V3}/profile/{q(myelin_account.user.user_id)}",
                  token=synapse_account.user.access_token)
    own = await request(http, settings.base1, "GET", "/_matrix/key/v2/server")
    status, body = await tls_request("GET", f"https://{settings.synapse_server_name}/_matrix/key/v2/query/{q(settings.server_name)}")
    assert status == 200, body
    (keys,) = body["server_keys"]
    assert keys["server_name"] == settings.server_name
    assert keys["verify_keys"] == own.body["verify_keys"]
    (key_id, entry), = keys["verify_keys"].items()
    verify_signed_json(keys, settings.server_name, decode_verify_key_bytes(key_id, decode_base64(entry["key"])))
    assert settings.synapse_server_name in keys["signatures"], keys

    # And Myelin's notary answers for Synapse the same way.
    status, body = await tls_request("GET", f"{settings.federation_url}/_matrix/key/v2/query/{q(settings.synapse_server_name)}")
    assert status == 200, body
    (theirs,) = body["server_keys"]
    (sid, sentry), = theirs["verify_keys"].items()
    verify_signed_json(theirs, settings.synapse_server_name, decode_verify_key_bytes(sid, decode_base64(sentry["key"])))
    assert settings.server_name in theirs["signatures"], theirs


async def test_device_keys_across_servers(http, settings, myelin_account, synapse_account):
    bob_key = await upload_device_keys(http, settings.synapse_url, synapse_account)
    bob, bob_device = synapse_account.user.user_id, synapse_account.user.device_id
    unreachable = "localhost:1"
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/keys/query", token=myelin_account.user.access_token,
                      json_body={"device_keys": {bob: [], f"@x:{unreachable}": []}})
    assert r.status == 200, r
    assert r.body["device_keys"][bob][bob_device]["keys"][f"ed25519:{bob_device}"] == bob_key, r
    assert unreachable in r.body["failures"] and settings.synapse_server_name not in r.body["failures"], r
    claimed = await request(http, settings.base1, "POST", f"{CLIENT_V3}/keys/claim", token=myelin_account.user.access_token,
                            json_body={"one_time_keys": {bob: {bob_device: "signed_curve25519"}}})
    assert claimed.status == 200, claimed
    assert "signed_curve25519:AAAAAQ" in claimed.body["one_time_keys"][bob][bob_device], claimed

    # The other way round: Synapse asks Myelin for a Myelin user's keys.
    alice_key = await upload_device_keys(http, settings.base1, myelin_account)
    alice, alice_device = myelin_account.user.user_id, myelin_account.user.device_id
    r = await request(http, settings.synapse_url, "POST", f"{CLIENT_V3}/keys/query", token=synapse_account.user.access_token,
                      json_body={"device_keys": {alice: []}})
    assert r.status == 200, r
    assert r.body["device_keys"][alice][alice_device]["keys"][f"ed25519:{alice_device}"] == alice_key, r


async def test_unverifiable_requests_are_refused(http, settings, myelin_account):
    uri = f"/_matrix/federation/v1/query/profile?user_id={q(myelin_account.user.user_id)}"
    url = settings.federation_url + uri
    status, body = await tls_request("GET", url)
    assert status == 401 and body["errcode"] == "M_UNAUTHORIZED", body

    # Synapse's name and its real key ID, but a signature by some other key.
    status, real = await tls_request("GET", f"https://{settings.synapse_server_name}/_matrix/key/v2/server")
    assert status == 200, real
    (key_id,) = real["verify_keys"]
    forger = generate_signing_key(key_id.split(":", 1)[1])

    def header(destination: str) -> str:
        signed = sign_json({"method": "GET", "uri": uri, "origin": settings.synapse_server_name,
                            "destination": destination}, settings.synapse_server_name, forger)
        sig = signed["signatures"][settings.synapse_server_name][key_id]
        return (f'X-Matrix origin="{settings.synapse_server_name}",destination="{destination}",'
                f'key="{key_id}",sig="{sig}"')

    for destination in (settings.server_name, "someone.else.example"):
        status, body = await tls_request("GET", url, headers={"Authorization": header(destination)})
        assert status == 401 and body["errcode"] == "M_UNAUTHORIZED", (destination, body)
    status, body = await tls_request("GET", url, headers={"Authorization": "X-Matrix origin="})
    assert status == 400 and body["errcode"] == "M_UNAUTHORIZED", body
    status, body = await tls_request("GET", settings.federation_url + "/_matrix/federation/v1/no_such_thing",
                                     headers={"Authorization": header(settings.server_name)})
    assert status == 404 and body["errcode"] == "M_UNRECOGNIZED", body
