"""A first start shaped like Element X's: password login, the `encryption` and `room-list`
sliding-sync connections side by side, key upload, cross-signing bootstrap (first upload
without UIA, then with a password `auth` that has no session), key backup creation, then a
room opened through `room_subscriptions` and back-paginated with its `prev_batch`."""

from __future__ import annotations

import asyncio

import nio

from conftest import Account
from e2e_helpers import CLIENT_V3, User, q, request, send_text
from e2ee_helpers import Ed25519Key, cross_signing_key, device_keys
from test_sliding_sync import DEFAULT_REQUIRED_STATE, bodies, room_list, ss_ok

ENCRYPTION = {"conn_id": "encryption", "extensions": {"to_device": {"enabled": True}, "e2ee": {"enabled": True}}}
ROOM_LIST_EXTENSIONS = {"account_data": {"enabled": True}, "receipts": {"enabled": True, "rooms": ["*"]},
                        "typing": {"enabled": True}}


async def test_element_x_first_start(http, settings, alice: Account, bob: Account):
    # Bob has a busy room with alice in it before she starts the app.
    created = await bob.client.room_create(name="Team", invite=[alice.user.user_id])
    assert isinstance(created, nio.RoomCreateResponse), created
    rid = created.room_id
    assert isinstance(await alice.client.join(rid), nio.JoinResponse)
    for i in range(30):
        await send_text(bob.client, rid, f"m{i}")

    # 1. Password login on a new device, as the app does.
    login = await request(http, settings.base1, "POST", f"{CLIENT_V3}/login", json_body={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": alice.user.localpart},
        "password": alice.user.password, "initial_device_display_name": "Element X",
    })
    assert login.status == 200, login
    me = User(alice.user.user_id, alice.user.localpart, alice.user.password,
              login.body["access_token"], login.body["device_id"])
    tok = me.access_token

    # 2. Both connections start together.
    enc, rooms = await asyncio.gather(
        ss_ok(http, settings.base1, me, ENCRYPTION),
        ss_ok(http, settings.base2, me, room_list(19, extensions=ROOM_LIST_EXTENSIONS)),
    )
    assert rooms["lists"]["all_rooms"]["count"] == 1
    room = rooms["rooms"][rid]
    assert room["initial"] is True and bodies(room["timeline"]) == ["m29"]
    assert room["joined_count"] == 2
    assert {e["state_key"] for e in room["required_state"] if e["type"] == "m.room.member"} >= {me.user_id}
    assert any(e["type"] == "m.push_rules" for e in rooms["extensions"]["account_data"]["global"])

    # 3. The device uploads its keys; the encryption connection sees the one-time key count.
    device_key = Ed25519Key()
    upload = await request(http, settings.base1, "POST", f"{CLIENT_V3}/keys/upload", token=tok, json_body={
        "device_keys": device_keys(me.user_id, me.device_id, device_key),
        "one_time_keys": {f"signed_curve25519:AAAA{i}": device_key.sign({"key": f"k{i}"}, me.user_id, me.device_id)
                          for i in range(5)},
    })
    assert upload.status == 200 and upload.body["one_time_key_counts"]["signed_curve25519"] == 5, upload
    enc = await ss_ok(http, settings.base1, me, ENCRYPTION, pos=enc["pos"])
    assert enc["extensions"]["e2ee"]["device_one_time_keys_count"]["signed_curve25519"] == 5, enc

    # 4. Cross-signing bootstrap: first upload needs no UIA (MSC3967) ...
    master, ssk, usk = Ed25519Key(), Ed25519Key(), Ed25519Key()
    uid = me.user_id
    keys = {
        "master_key": cross_signing_key(uid, "master", master),
        "self_signing_key": master.sign(cross_signing_key(uid, "self_signing", ssk), uid, master.public),
        "user_signing_key": master.sign(cross_signing_key(uid, "user_signing", usk), uid, master.public),
    }
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/keys/device_signing/upload", token=tok, json_body=keys)
    assert r.status == 200, r
    # ... and a reset sends the password straight away, with no session: it must be accepted.
    new_master = Ed25519Key()
    reset = {
        "master_key": cross_signing_key(uid, "master", new_master),
        "self_signing_key": new_master.sign(cross_signing_key(uid, "self_signing", ssk), uid, new_master.public),
        "user_signing_key": new_master.sign(cross_signing_key(uid, "user_signing", usk), uid, new_master.public),
        "auth": {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": uid}, "password": me.password},
    }
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/keys/device_signing/upload", token=tok, json_body=reset)
    assert r.status == 200, r
    # The device is then signed by the self-signing key.
    signed_device = ssk.sign(device_keys(uid, me.device_id, device_key), uid, ssk.public)
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/keys/signatures/upload", token=tok,
                      json_body={uid: {me.device_id: signed_device}})
    assert r.status == 200 and r.body.get("failures", {}) == {}, r

    # 5. Key backup is created and readable.
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/room_keys/version", token=tok,
                      json_body={"algorithm": "m.megolm_backup.v1.curve25519-aes-sha2", "auth_data": {"public_key": "cHVi"}})
    assert r.status == 200, r
    latest = await request(http, settings.base2, "GET", f"{CLIENT_V3}/room_keys/version", token=tok)
    assert latest.status == 200 and latest.body["version"] == r.body["version"], latest

    # 6. The room is opened: a subscription with timeline_limit 20, then back-pagination.
    body = room_list(19, extensions=ROOM_LIST_EXTENSIONS, room_subscriptions={rid: {
        "required_state": DEFAULT_REQUIRED_STATE + [["m.room.pinned_events", ""]], "timeline_limit": 20}})
    opened = await ss_ok(http, settings.base2, me, body, pos=rooms["pos"])
    got = opened["rooms"][rid]
    assert bodies(got["timeline"]) == [f"m{i}" for i in range(10, 30)]
    assert got["limited"] is True
    page = await request(http, settings.base1, "GET", f"{CLIENT_V3}/rooms/{q(rid)}/messages", token=tok,
                         params={"from": got["prev_batch"], "dir": "b", "limit": "20"})
    assert page.status == 200, page
    assert bodies(page.body["chunk"])[:10] == [f"m{i}" for i in range(9, -1, -1)], page

    # 7. Live: a new message wakes the room-list long-poll.
    waiting = asyncio.create_task(ss_ok(http, settings.base2, me, body, pos=opened["pos"], timeout=10_000))
    await asyncio.sleep(0.3)
    await send_text(bob.client, rid, "live")
    live = await asyncio.wait_for(waiting, 10)
    assert bodies(live["rooms"][rid]["timeline"]) == ["live"], live


async def test_device_list_change_reaches_sliding_sync(http, settings, alice: Account, bob: Account, room: str):
    first = await ss_ok(http, settings.base1, alice.user, ENCRYPTION)
    # Bob (in a shared room) uploads keys for a new device.
    login = await request(http, settings.base2, "POST", f"{CLIENT_V3}/login", json_body={
        "type": "m.login.password", "identifier": {"type": "m.id.user", "user": bob.user.localpart},
        "password": bob.user.password})
    assert login.status == 200, login
    key = Ed25519Key()
    r = await request(http, settings.base2, "POST", f"{CLIENT_V3}/keys/upload", token=login.body["access_token"],
                      json_body={"device_keys": device_keys(bob.user.user_id, login.body["device_id"], key)})
    assert r.status == 200, r
    nxt = await ss_ok(http, settings.base1, alice.user, ENCRYPTION, pos=first["pos"], timeout=5_000)
    assert bob.user.user_id in nxt["extensions"]["e2ee"]["device_lists"]["changed"], nxt
