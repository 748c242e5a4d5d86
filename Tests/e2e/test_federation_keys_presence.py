"""Cross-signing keys and presence between Myelin and a real Synapse: each server answers
the other's key queries with its users' master and self-signing keys, a reset of those
keys on either side reaches the other (`m.signing_key_update`: the other side's syncs list
the user in device_lists.changed and its key queries return the new key), and presence set
on either side shows in the other side's /sync."""

from __future__ import annotations

import pytest
from signedjson.key import encode_verify_key_base64, generate_signing_key
from signedjson.sign import sign_json

from e2e_helpers import CLIENT_V3, q, request
from federation_room_helpers import shared_room, since_now, sync_until, with_password_auth


def named_key():
    """An ed25519 key whose key ID is its own public key, as cross-signing keys are named."""
    key = generate_signing_key("tmp")
    key.version = encode_verify_key_base64(key.verify_key)
    return key, key.version


def cross_signing_body(user_id: str) -> tuple[dict, str, str]:
    """Fresh master and self-signing keys (the latter signed by the former); returns the
    upload body and both public keys."""
    master, master_pub = named_key()
    _, ssk_pub = named_key()
    master_key = {"user_id": user_id, "usage": ["master"], "keys": {f"ed25519:{master_pub}": master_pub}}
    ssk = sign_json({"user_id": user_id, "usage": ["self_signing"], "keys": {f"ed25519:{ssk_pub}": ssk_pub}},
                    user_id, master)
    return {"master_key": master_key, "self_signing_key": ssk}, master_pub, ssk_pub


async def upload_cross_signing(http, base: str, account) -> tuple[str, str]:
    body, master, ssk = cross_signing_body(account.user.user_id)
    r = await with_password_auth(http, base, "POST", f"{CLIENT_V3}/keys/device_signing/upload", account, body)
    assert r.status == 200, r
    return master, ssk


async def cross_signing_seen(http, base: str, account, user_id: str) -> tuple[str | None, str | None]:
    """The master and self-signing public keys `account`'s server returns for `user_id`."""
    r = await request(http, base, "POST", f"{CLIENT_V3}/keys/query", token=account.user.access_token,
                      json_body={"device_keys": {user_id: []}})
    assert r.status == 200, r

    def public(field: str) -> str | None:
        key = r.body.get(field, {}).get(user_id)
        if not key:
            return None
        assert key["user_id"] == user_id, key
        (value,) = key["keys"].values()
        return value

    return public("master_keys"), public("self_signing_keys")


async def device_list_changed(http, base: str, account, user_id: str, since: str, what: str) -> None:
    await sync_until(http, base, account, since,
                     lambda b: user_id in b.get("device_lists", {}).get("changed", []), what)


async def test_cross_signing_keys_cross_over_and_resets_reach_the_other_side(
        http, settings, myelin_account, synapse_account):
    alice, bob = myelin_account.user, synapse_account.user
    await shared_room(http, settings, myelin_account, synapse_account)

    # Bob's keys, uploaded on Synapse, as Myelin's client API returns them.
    bob_master, bob_ssk = await upload_cross_signing(http, settings.synapse_url, synapse_account)
    assert await cross_signing_seen(http, settings.base1, myelin_account, bob.user_id) == (bob_master, bob_ssk)
    # And the reverse: Alice's, uploaded on Myelin, as Synapse returns them.
    alice_master, alice_ssk = await upload_cross_signing(http, settings.base1, myelin_account)
    assert await cross_signing_seen(http, settings.synapse_url, synapse_account, alice.user_id) == (alice_master, alice_ssk)

    # Alice resets hers: Synapse hears of it, tells Bob, and hands out the new keys.
    since = await since_now(http, settings.synapse_url, synapse_account)
    new_master, new_ssk = await upload_cross_signing(http, settings.base1, myelin_account)
    assert new_master != alice_master
    await device_list_changed(http, settings.synapse_url, synapse_account, alice.user_id, since,
                              "Alice's key reset in Bob's device_lists.changed")
    assert await cross_signing_seen(http, settings.synapse_url, synapse_account, alice.user_id) == (new_master, new_ssk)

    # Bob resets his: Myelin hears of it, tells Alice, and hands out the new keys.
    since = await since_now(http, settings.base1, myelin_account)
    bob_new_master, bob_new_ssk = await upload_cross_signing(http, settings.synapse_url, synapse_account)
    assert bob_new_master != bob_master
    await device_list_changed(http, settings.base1, myelin_account, bob.user_id, since,
                              "Bob's key reset in Alice's device_lists.changed")
    assert await cross_signing_seen(http, settings.base1, myelin_account, bob.user_id) == (bob_new_master, bob_new_ssk)


async def test_myelin_answers_federation_key_queries_with_cross_signing_keys(
        http, settings, myelin_account, synapse_account):
    """What Synapse's key and device-list fetches get from Myelin: the same keys both ways."""
    from federation_helpers import AsSynapse

    alice = myelin_account.user
    master, ssk = await upload_cross_signing(http, settings.base1, myelin_account)
    syn = AsSynapse(settings)
    status, body = await syn.request("POST", "/_matrix/federation/v1/user/keys/query",
                                     {"device_keys": {alice.user_id: []}})
    assert status == 200, body
    assert list(body["master_keys"][alice.user_id]["keys"].values()) == [master], body
    assert list(body["self_signing_keys"][alice.user_id]["keys"].values()) == [ssk], body
    assert "user_signing_keys" not in body or alice.user_id not in body["user_signing_keys"], body
    status, devices = await syn.request("GET", f"/_matrix/federation/v1/user/devices/{q(alice.user_id)}")
    assert status == 200, devices
    assert list(devices["master_key"]["keys"].values()) == [master], devices
    assert list(devices["self_signing_key"]["keys"].values()) == [ssk], devices


def presence_of(body: dict, user_id: str) -> dict | None:
    for e in body.get("presence", {}).get("events", []):
        if e.get("sender") == user_id and e.get("type") == "m.presence":
            return e["content"]
    return None


async def test_presence_crosses_over_both_ways(http, settings, myelin_account, synapse_account):
    alice, bob = myelin_account.user, synapse_account.user
    await shared_room(http, settings, myelin_account, synapse_account)

    since = await since_now(http, settings.synapse_url, synapse_account)
    r = await request(http, settings.base1, "PUT", f"{CLIENT_V3}/presence/{q(alice.user_id)}/status",
                      token=alice.access_token, json_body={"presence": "unavailable", "status_msg": "away from Myelin"})
    assert r.status == 200, r
    seen = await sync_until(http, settings.synapse_url, synapse_account, since, lambda b: (
        (p := presence_of(b, alice.user_id)) and p.get("status_msg") == "away from Myelin" and p), "Alice's presence on Synapse")
    assert seen["presence"] == "unavailable", seen

    since = await since_now(http, settings.base1, myelin_account)
    r = await request(http, settings.synapse_url, "PUT", f"{CLIENT_V3}/presence/{q(bob.user_id)}/status",
                      token=bob.access_token, json_body={"presence": "online", "status_msg": "hello from Synapse"})
    assert r.status == 200, r
    seen = await sync_until(http, settings.base1, myelin_account, since, lambda b: (
        (p := presence_of(b, bob.user_id)) and p.get("status_msg") == "hello from Synapse" and p), "Bob's presence on Myelin")
    assert seen["presence"] == "online", seen
    r = await request(http, settings.base1, "GET", f"{CLIENT_V3}/presence/{q(bob.user_id)}/status", token=alice.access_token)
    assert r.status == 200 and r.body["presence"] == "online" and r.body["status_msg"] == "hello from Synapse", r
