"""End-to-end encryption: nio clients with real Olm/Megolm talking through the
server, device-list tracking in /sync, one-time and fallback key claims,
cross-signing (first upload without UIA, replacement with a password),
signature uploads, and server-side key backups."""

from __future__ import annotations

import nio

from conftest import Account
from e2e_helpers import q, request, sync_until
from e2ee_helpers import (
    Ed25519Key,
    cross_signing_key,
    device_keys,
    encrypted_client,
    settle_keys,
)

CLIENT_V3 = "/_matrix/client/v3"
ENCRYPTION = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


def decrypted_text(room_id: str, sender: str):
    """Predicate: the body of a message from `sender` that nio decrypted."""

    def find(resp: nio.SyncResponse):
        info = resp.rooms.join.get(room_id)
        for ev in info.timeline.events if info else []:
            assert not isinstance(ev, nio.MegolmEvent), f"undecryptable event: {ev}"
            if isinstance(ev, nio.RoomMessageText) and ev.sender == sender:
                assert ev.decrypted, ev
                return ev.body
        return None

    return find


async def test_encrypted_messages_decrypt_both_ways(http, settings, alice: Account, bob: Account, tmp_path):
    a = encrypted_client(settings.base1, alice.user.user_id, alice.user.device_id, alice.user.access_token, str(tmp_path / "a"))
    b = encrypted_client(settings.base2, bob.user.user_id, bob.user.device_id, bob.user.access_token, str(tmp_path / "b"))
    try:
        for c in (a, b):
            await settle_keys(c)
            assert not c.should_upload_keys
            await c.sync(timeout=0)

        created = await a.room_create(name="secret", initial_state=[ENCRYPTION], invite=[bob.user.user_id])
        assert isinstance(created, nio.RoomCreateResponse), created
        room_id = created.room_id
        await sync_until(b, lambda r: room_id in r.rooms.invite, what="the invite")
        assert isinstance(await b.join(room_id), nio.JoinResponse)
        await sync_until(b, lambda r: room_id in r.rooms.join, what="bob's join")
        await sync_until(a, lambda r: any(
            isinstance(e, nio.RoomMemberEvent) and e.state_key == bob.user.user_id and e.membership == "join"
            for e in (r.rooms.join[room_id].timeline.events if room_id in r.rooms.join else [])
        ), what="bob's join in alice's sync")
        assert a.rooms[room_id].encrypted and b.rooms[room_id].encrypted

        # keys/query shows bob's device, as uploaded by his Olm account, to alice.
        r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/keys/query", token=alice.user.access_token,
                          json_body={"device_keys": {bob.user.user_id: []}})
        assert r.status == 200, r
        bob_device = r.body["device_keys"][bob.user.user_id][bob.user.device_id]
        assert bob_device["keys"][f"ed25519:{bob.user.device_id}"] == b.olm.account.identity_keys["ed25519"]

        await settle_keys(a)
        sent = await a.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": "hello bob"},
                                 ignore_unverified_devices=True)
        assert isinstance(sent, nio.RoomSendResponse), sent
        got = await sync_until(b, decrypted_text(room_id, alice.user.user_id), what="alice's message, decrypted")
        assert got == "hello bob"

        await settle_keys(b)
        sent = await b.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": "hello alice"},
                                 ignore_unverified_devices=True)
        assert isinstance(sent, nio.RoomSendResponse), sent
        got = await sync_until(a, decrypted_text(room_id, bob.user.user_id), what="bob's message, decrypted")
        assert got == "hello alice"

        # The server only ever saw ciphertext.
        r = await request(http, settings.base1, "GET", f"{CLIENT_V3}/rooms/{q(room_id)}/messages",
                          token=alice.user.access_token, params={"dir": "b", "limit": "10"})
        assert r.status == 200, r
        types = [e["type"] for e in r.body["chunk"] if e["sender"] in (alice.user.user_id, bob.user.user_id)]
        assert "m.room.encrypted" in types and "m.room.message" not in types, types
    finally:
        await a.close()
        await b.close()


async def login(http, base: str, account: Account) -> dict:
    r = await request(http, base, "POST", f"{CLIENT_V3}/login", json_body={
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": account.user.localpart},
        "password": account.user.password,
    })
    assert r.status == 200, r
    return r.body


async def test_new_device_keys_reach_device_lists_changed(http, settings, alice: Account, bob: Account, room):
    first = await alice.client.sync(timeout=0)
    assert isinstance(first, nio.SyncResponse), first
    since = first.next_batch

    second = await login(http, settings.base2, bob)
    key = Ed25519Key()
    keys = device_keys(bob.user.user_id, second["device_id"], key)
    r = await request(http, settings.base2, "POST", f"{CLIENT_V3}/keys/upload", token=second["access_token"],
                      json_body={"device_keys": keys})
    assert r.status == 200, r

    await sync_until(alice.client, lambda resp: bob.user.user_id in resp.device_list.changed,
                     what="bob in alice's device_lists.changed")
    r = await request(http, settings.base1, "GET", f"{CLIENT_V3}/keys/changes", token=alice.user.access_token,
                      params={"from": since, "to": alice.client.next_batch})
    assert r.status == 200, r
    assert bob.user.user_id in r.body["changed"], r

    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/keys/query", token=alice.user.access_token,
                      json_body={"device_keys": {bob.user.user_id: [second["device_id"]]}})
    assert r.status == 200, r
    got = r.body["device_keys"][bob.user.user_id]
    assert list(got) == [second["device_id"]], got
    assert got[second["device_id"]]["keys"] == keys["keys"]

    # Bob leaves the only room they share: alice stops tracking him.
    assert isinstance(await bob.client.room_leave(room), nio.RoomLeaveResponse)
    await sync_until(alice.client, lambda resp: bob.user.user_id in resp.device_list.left,
                     what="bob in alice's device_lists.left")


async def test_device_keys_must_be_self_signed_by_the_uploader(http, settings, alice: Account):
    key, other = Ed25519Key(), Ed25519Key()
    keys = device_keys(alice.user.user_id, alice.user.device_id, key)
    keys["signatures"][alice.user.user_id][f"ed25519:{alice.user.device_id}"] = other.signature(keys)
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/keys/upload", token=alice.user.access_token,
                      json_body={"device_keys": keys})
    assert r.status == 400 and r.errcode == "M_INVALID_SIGNATURE", r

    wrong_device = device_keys(alice.user.user_id, "NOTMINE", key)
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/keys/upload", token=alice.user.access_token,
                      json_body={"device_keys": wrong_device})
    assert r.status == 400 and r.errcode == "M_INVALID_PARAM", r


async def test_claim_takes_one_time_key_then_fallback(http, settings, alice: Account, bob: Account):
    key = Ed25519Key()
    dev = bob.user.device_id
    otk = key.sign({"key": "b3RrMQ"}, bob.user.user_id, dev)
    fallback = key.sign({"key": "ZmFsbGJhY2s", "fallback": True}, bob.user.user_id, dev)
    r = await request(http, settings.base2, "POST", f"{CLIENT_V3}/keys/upload", token=bob.user.access_token, json_body={
        "device_keys": device_keys(bob.user.user_id, dev, key),
        "one_time_keys": {"signed_curve25519:AAAAAQ": otk},
        "fallback_keys": {"signed_curve25519:AAAAAg": fallback},
    })
    assert r.status == 200, r
    assert r.body["one_time_key_counts"] == {"signed_curve25519": 1}, r
    r = await request(http, settings.base2, "GET", f"{CLIENT_V3}/sync", token=bob.user.access_token, params={"timeout": "0"})
    assert r.status == 200, r
    assert r.body["device_unused_fallback_key_types"] == ["signed_curve25519"], r.body

    claim = {"one_time_keys": {bob.user.user_id: {dev: "signed_curve25519"}}}
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/keys/claim", token=alice.user.access_token, json_body=claim)
    assert r.status == 200, r
    assert r.body["one_time_keys"] == {bob.user.user_id: {dev: {"signed_curve25519:AAAAAQ": otk}}}, r
    for _ in range(2):  # the fallback key is handed out again once used
        r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/keys/claim", token=alice.user.access_token, json_body=claim)
        assert r.status == 200, r
        assert r.body["one_time_keys"] == {bob.user.user_id: {dev: {"signed_curve25519:AAAAAg": fallback}}}, r

    r = await request(http, settings.base1, "GET", f"{CLIENT_V3}/sync", token=bob.user.access_token, params={"timeout": "0"})
    assert r.status == 200, r
    assert r.body["device_one_time_keys_count"].get("signed_curve25519", 0) == 0, r.body
    assert r.body["device_unused_fallback_key_types"] == [], r.body


async def upload_cross_signing(http, base: str, account: Account, auth: dict | None = None):
    uid = account.user.user_id
    master, ssk, usk = Ed25519Key(), Ed25519Key(), Ed25519Key()
    body = {
        "master_key": cross_signing_key(uid, "master", master),
        "self_signing_key": master.sign(cross_signing_key(uid, "self_signing", ssk), uid, master.public),
        "user_signing_key": master.sign(cross_signing_key(uid, "user_signing", usk), uid, master.public),
    }
    if auth:
        body["auth"] = auth
    r = await request(http, base, "POST", f"{CLIENT_V3}/keys/device_signing/upload", token=account.user.access_token,
                      json_body=body)
    return r, (master, ssk, usk)


async def test_cross_signing_first_upload_needs_no_uia_then_password(http, settings, alice: Account, bob: Account):
    uid = alice.user.user_id
    r, (master, _, _) = await upload_cross_signing(http, settings.base1, alice)
    assert r.status == 200, r

    # Replacing the identity needs the password.
    r, _ = await upload_cross_signing(http, settings.base1, alice)
    assert r.status == 401, r
    assert ["m.login.password"] in [f["stages"] for f in r.body["flows"]], r
    auth = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": uid}, "password": "wrong"}
    r, _ = await upload_cross_signing(http, settings.base1, alice, auth=auth)
    assert r.status in (401, 403), r
    auth["password"] = alice.user.password
    r, (new_master, _, new_usk) = await upload_cross_signing(http, settings.base1, alice, auth=auth)
    assert r.status == 200, r

    r = await request(http, settings.base2, "POST", f"{CLIENT_V3}/keys/query", token=bob.user.access_token,
                      json_body={"device_keys": {uid: []}})
    assert r.status == 200, r
    assert r.body["master_keys"][uid]["keys"] == {f"ed25519:{new_master.public}": new_master.public}, r
    assert uid in r.body["self_signing_keys"], r
    assert uid not in r.body.get("user_signing_keys", {}), "user-signing keys are private to their owner"
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/keys/query", token=alice.user.access_token,
                      json_body={"device_keys": {uid: []}})
    assert r.body["user_signing_keys"][uid]["keys"] == {f"ed25519:{new_usk.public}": new_usk.public}, r


async def test_signatures_upload_stores_valid_and_rejects_forged(http, settings, alice: Account, bob: Account):
    uid, dev = alice.user.user_id, alice.user.device_id
    device_key = Ed25519Key()
    keys = device_keys(uid, dev, device_key)
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/keys/upload", token=alice.user.access_token,
                      json_body={"device_keys": keys})
    assert r.status == 200, r
    r, (master, ssk, _) = await upload_cross_signing(http, settings.base1, alice)
    assert r.status == 200, r

    forged = Ed25519Key().sign(keys, uid, ssk.public)  # names the self-signing key, signed by another
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/keys/signatures/upload", token=alice.user.access_token,
                      json_body={uid: {dev: forged}})
    assert r.status == 200, r
    assert r.body["failures"][uid][dev]["errcode"] == "M_INVALID_SIGNATURE", r

    signed = ssk.sign(keys, uid, ssk.public)
    master_json = cross_signing_key(uid, "master", master)
    signed_master = device_key.sign(master_json, uid, dev)
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/keys/signatures/upload", token=alice.user.access_token,
                      json_body={uid: {dev: signed, master.public: signed_master}})
    assert r.status == 200, r
    assert r.body["failures"] == {}, r

    r = await request(http, settings.base2, "POST", f"{CLIENT_V3}/keys/query", token=bob.user.access_token,
                      json_body={"device_keys": {uid: [dev]}})
    assert r.status == 200, r
    sigs = r.body["device_keys"][uid][dev]["signatures"][uid]
    assert sigs[f"ed25519:{ssk.public}"] == signed["signatures"][uid][f"ed25519:{ssk.public}"], sigs
    assert r.body["master_keys"][uid]["signatures"][uid][f"ed25519:{dev}"] == signed_master["signatures"][uid][f"ed25519:{dev}"]

    # A signature over content that differs from the stored key is refused too.
    tampered = dict(keys, algorithms=["m.megolm.v1.aes-sha2"])
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/keys/signatures/upload", token=alice.user.access_token,
                      json_body={uid: {dev: ssk.sign(tampered, uid, ssk.public)}})
    assert r.body["failures"][uid][dev]["errcode"] == "M_INVALID_PARAM", r


def backup_key(index: int, forwarded: int, verified: bool, tag: str) -> dict:
    return {"first_message_index": index, "forwarded_count": forwarded, "is_verified": verified,
            "session_data": {"ciphertext": tag, "ephemeral": "e", "mac": "m"}}


async def test_key_backup_versions_keys_and_replacement(http, settings, alice: Account):
    tok, base = alice.user.access_token, settings.base1
    r = await request(http, base, "GET", f"{CLIENT_V3}/room_keys/version", token=tok)
    assert r.status == 404 and r.errcode == "M_NOT_FOUND", r
    algo = "m.megolm_backup.v1.curve25519-aes-sha2"
    r = await request(http, base, "POST", f"{CLIENT_V3}/room_keys/version", token=tok,
                      json_body={"algorithm": algo, "auth_data": {"public_key": "cHVi"}})
    assert r.status == 200, r
    version = r.body["version"]

    room, session = "!room:example.org", "sess1"
    keys_path = f"{CLIENT_V3}/room_keys/keys"
    r = await request(http, base, "PUT", keys_path, token=tok, params={"version": version},
                      json_body={"rooms": {room: {"sessions": {session: backup_key(5, 1, False, "first")}}}})
    assert r.status == 200 and r.body["count"] == 1, r
    etag1 = r.body["etag"]

    # A worse key (higher index) is ignored; a verified one wins even with a higher index.
    session_path = f"{keys_path}/{q(room)}/{q(session)}"
    r = await request(http, base, "PUT", session_path, token=tok, params={"version": version},
                      json_body=backup_key(9, 0, False, "worse"))
    assert r.status == 200 and r.body["etag"] == etag1 and r.body["count"] == 1, r
    r = await request(http, base, "PUT", f"{keys_path}/{q(room)}", token=tok, params={"version": version},
                      json_body={"sessions": {session: backup_key(7, 3, True, "verified"), "sess2": backup_key(0, 0, False, "two")}})
    assert r.status == 200 and r.body["count"] == 2 and r.body["etag"] != etag1, r

    r = await request(http, base, "GET", keys_path, token=tok, params={"version": version})
    assert r.status == 200, r
    assert r.body["rooms"][room]["sessions"][session]["session_data"]["ciphertext"] == "verified", r
    r = await request(http, base, "GET", session_path, token=tok, params={"version": version})
    assert r.status == 200 and r.body["first_message_index"] == 7, r
    r = await request(http, base, "GET", f"{CLIENT_V3}/room_keys/version", token=tok)
    assert r.status == 200 and r.body["count"] == 2 and r.body["version"] == version and r.body["algorithm"] == algo, r

    # A newer backup makes the old version read-only for uploads.
    r = await request(http, base, "POST", f"{CLIENT_V3}/room_keys/version", token=tok,
                      json_body={"algorithm": algo, "auth_data": {"public_key": "bmV3"}})
    newer = r.body["version"]
    assert newer != version
    r = await request(http, base, "PUT", session_path, token=tok, params={"version": version},
                      json_body=backup_key(0, 0, True, "late"))
    assert r.status == 403 and r.errcode == "M_WRONG_ROOM_KEYS_VERSION", r
    assert r.body["current_version"] == newer, r

    r = await request(http, base, "DELETE", f"{keys_path}/{q(room)}", token=tok, params={"version": version})
    assert r.status == 200 and r.body["count"] == 0, r
    r = await request(http, base, "DELETE", f"{CLIENT_V3}/room_keys/version/{newer}", token=tok)
    assert r.status == 200, r
    r = await request(http, base, "GET", f"{CLIENT_V3}/room_keys/version", token=tok)
    assert r.status == 200 and r.body["version"] == version, r
    r = await request(http, base, "GET", f"{CLIENT_V3}/room_keys/version/{newer}", token=tok)
    assert r.status == 404, r
