"""Federation with a real Synapse on loopback (scripts/test.sh starts it with a TLS
federation listener and certificate checks off): each server looks up the other's users
through its own client API, Synapse fetches and notarises Myelin's keys, requests Myelin
cannot verify are refused, and users of both servers share rooms: joins either way,
messages, invites, typing and receipts, to-device messages and device-list updates."""

from __future__ import annotations

import json
import time

import aiohttp
import nio
import pytest
from signedjson.key import decode_verify_key_bytes, encode_verify_key_base64, generate_signing_key
from signedjson.sign import sign_json, verify_signed_json
from unpaddedbase64 import decode_base64

from conftest import Account
from e2e_helpers import (
    CLIENT_V3, User, client_for, find_event, q, random_localpart, register_admin_api, request, send_text, sync_until,
    timeline,
)


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


async def upload_device_keys(http, base: str, account, one_time: bool = True) -> str:
    """Signed device keys and (unless told not to) one one-time key for the account's
    device; returns the device's ed25519 key."""
    user, device = account.user.user_id, account.user.device_id
    key = generate_signing_key(device)
    public = encode_verify_key_base64(key.verify_key)
    device_keys = sign_json({
        "user_id": user, "device_id": device,
        "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
        "keys": {f"ed25519:{device}": public, f"curve25519:{device}": public},
    }, user, key)
    body = {"device_keys": device_keys}
    if one_time:
        body["one_time_keys"] = {"signed_curve25519:AAAAAQ": sign_json({"key": public}, user, key)}
    r = await request(http, base, "POST", f"{CLIENT_V3}/keys/upload", token=account.user.access_token, json_body=body)
    assert r.status == 200, r
    return public


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


# --- Rooms shared with Synapse -------------------------------------------------------

async def wait_for_message(client: nio.AsyncClient, room_id: str, body: str, what: str) -> dict:
    return await sync_until(
        client, lambda r: find_event(timeline(r, room_id), type="m.room.message", content__body=body),
        timeout=30, what=what)


async def synced(client: nio.AsyncClient) -> None:
    """Brings the client's sync position up to now, so later waits see only new things."""
    resp = await client.sync(timeout=0)
    assert isinstance(resp, nio.SyncResponse), resp


async def joined(client: nio.AsyncClient, target: str, what: str) -> str:
    resp = await client.join(target)
    assert isinstance(resp, nio.JoinResponse), f"{what}: {resp}"
    return resp.room_id


async def talk_both_ways(myelin: nio.AsyncClient, synapse: nio.AsyncClient, room_id: str) -> None:
    """A message from each side arrives in the other side's /sync."""
    await synced(myelin)
    await synced(synapse)
    await send_text(myelin, room_id, "from Myelin")
    await wait_for_message(synapse, room_id, "from Myelin", "Myelin's message in Synapse's sync")
    await send_text(synapse, room_id, "from Synapse")
    await wait_for_message(myelin, room_id, "from Synapse", "Synapse's message in Myelin's sync")


async def test_a_synapse_user_joins_a_myelin_room(settings, myelin_account, synapse_account):
    alias_name = "fed_" + myelin_account.user.localpart
    created = await myelin_account.client.room_create(
        alias=alias_name, name="Myelin square", preset=nio.RoomPreset.public_chat, visibility=nio.RoomVisibility.public)
    assert isinstance(created, nio.RoomCreateResponse), created
    room_id = created.room_id
    await send_text(myelin_account.client, room_id, "history before the join")

    assert await joined(synapse_account.client, f"#{alias_name}:{settings.server_name}", "Synapse joins") == room_id
    # The join reaches Myelin's users, and Synapse has the room's state.
    await sync_until(myelin_account.client, lambda r: find_event(
        timeline(r, room_id), type="m.room.member", state_key=synapse_account.user.user_id, content__membership="join"),
        timeout=30, what="Synapse's join in Myelin's sync")
    await synapse_account.client.sync(timeout=0, full_state=True)
    assert synapse_account.client.rooms[room_id].name == "Myelin square"
    await talk_both_ways(myelin_account.client, synapse_account.client, room_id)

    # A user on the second Myelin process sees the conversation too.
    second = client_for(settings.base2, myelin_account.user)
    try:
        resp = await second.room_messages(room_id, start="", limit=20)
        assert isinstance(resp, nio.RoomMessagesResponse), resp
        assert "from Synapse" in [getattr(e, "body", None) for e in resp.chunk], resp.chunk
    finally:
        await second.close()


async def test_a_myelin_user_joins_a_synapse_room(settings, myelin_account, synapse_account):
    alias_name = "syn_" + synapse_account.user.localpart
    created = await synapse_account.client.room_create(
        alias=alias_name, name="Synapse square", preset=nio.RoomPreset.public_chat, visibility=nio.RoomVisibility.public)
    assert isinstance(created, nio.RoomCreateResponse), created
    room_id = created.room_id

    assert await joined(myelin_account.client, f"#{alias_name}:{settings.synapse_server_name}", "Myelin joins") == room_id
    resp = await myelin_account.client.sync(timeout=0, full_state=True)
    assert room_id in resp.rooms.join, resp
    assert myelin_account.client.rooms[room_id].name == "Synapse square"
    await sync_until(synapse_account.client, lambda r: find_event(
        timeline(r, room_id), type="m.room.member", state_key=myelin_account.user.user_id, content__membership="join"),
        timeout=30, what="Myelin's join in Synapse's sync")
    await talk_both_ways(myelin_account.client, synapse_account.client, room_id)

    # Leaving: Synapse sees Myelin's user go.
    left = await myelin_account.client.room_leave(room_id)
    assert isinstance(left, nio.RoomLeaveResponse), left
    await sync_until(synapse_account.client, lambda r: find_event(
        timeline(r, room_id), type="m.room.member", state_key=myelin_account.user.user_id, content__membership="leave"),
        timeout=30, what="Myelin's leave in Synapse's sync")


def invite_of(room_id: str, user_id: str):
    def check(resp: nio.SyncResponse):
        info = resp.rooms.invite.get(room_id)
        if not info:
            return None
        return next((e for e in info.invite_state if isinstance(e, nio.InviteMemberEvent) and e.state_key == user_id), None)
    return check


async def test_invites_both_ways(settings, myelin_account, synapse_account):
    # Myelin invites a Synapse user, who accepts.
    created = await myelin_account.client.room_create(name="Invite from Myelin", preset=nio.RoomPreset.private_chat)
    assert isinstance(created, nio.RoomCreateResponse), created
    room_id = created.room_id
    invited = await myelin_account.client.room_invite(room_id, synapse_account.user.user_id)
    assert isinstance(invited, nio.RoomInviteResponse), invited
    await sync_until(synapse_account.client, invite_of(room_id, synapse_account.user.user_id), timeout=30,
                     what="Myelin's invite in Synapse's sync")
    assert await joined(synapse_account.client, room_id, "Synapse accepts") == room_id
    await talk_both_ways(myelin_account.client, synapse_account.client, room_id)

    # Synapse invites a Myelin user, who sees the room's name before joining, and accepts.
    created = await synapse_account.client.room_create(name="Invite from Synapse", preset=nio.RoomPreset.private_chat)
    assert isinstance(created, nio.RoomCreateResponse), created
    other = created.room_id
    invited = await synapse_account.client.room_invite(other, myelin_account.user.user_id)
    assert isinstance(invited, nio.RoomInviteResponse), invited
    member = await sync_until(myelin_account.client, invite_of(other, myelin_account.user.user_id), timeout=30,
                              what="Synapse's invite in Myelin's sync")
    assert member.sender == synapse_account.user.user_id
    assert myelin_account.client.invited_rooms[other].name == "Invite from Synapse"
    assert await joined(myelin_account.client, other, "Myelin accepts") == other
    await talk_both_ways(myelin_account.client, synapse_account.client, other)

    # A Myelin user rejects an invite from Synapse: Synapse sees the leave.
    rejecter = await make_account_for(settings, "rej")
    try:
        invited = await synapse_account.client.room_invite(other, rejecter.user.user_id)
        assert isinstance(invited, nio.RoomInviteResponse), invited
        await sync_until(rejecter.client, invite_of(other, rejecter.user.user_id), timeout=30, what="the invite to reject")
        left = await rejecter.client.room_leave(other)
        assert isinstance(left, nio.RoomLeaveResponse), left
        await sync_until(synapse_account.client, lambda r: find_event(
            timeline(r, other), type="m.room.member", state_key=rejecter.user.user_id, content__membership="leave"),
            timeout=30, what="the rejection in Synapse's sync")
    finally:
        await rejecter.client.close()


async def make_account_for(settings, prefix: str):
    async with aiohttp.ClientSession() as http:
        resp = await register_admin_api(http, settings.base1, settings.shared_secret, random_localpart(prefix), "pw-" + random_localpart())
    assert resp.status == 200, resp
    user = User(resp.body["user_id"], resp.body["user_id"].split(":")[0][1:], "", resp.body["access_token"], resp.body["device_id"])
    return Account(user, client_for(settings.base1, user))


async def test_typing_and_receipts_cross_over(http, settings, myelin_account, synapse_account):
    created = await myelin_account.client.room_create(preset=nio.RoomPreset.public_chat)
    assert isinstance(created, nio.RoomCreateResponse), created
    room_id = created.room_id
    # A room ID of version 12 names no server: Synapse is told which one to ask.
    resp = await request(http, settings.synapse_url, "POST", f"{CLIENT_V3}/join/{q(room_id)}",
                         token=synapse_account.user.access_token, json_body={}, params={"server_name": settings.server_name})
    assert resp.status == 200 and resp.body["room_id"] == room_id, resp
    await sync_until(myelin_account.client, lambda r: find_event(
        timeline(r, room_id), type="m.room.member", state_key=synapse_account.user.user_id), timeout=30, what="the join")
    await synced(synapse_account.client)

    def typing_of(user_id: str):
        def check(resp: nio.SyncResponse):
            room = resp.rooms.join.get(room_id)
            return room and any(isinstance(e, nio.TypingNoticeEvent) and user_id in e.users for e in room.ephemeral)
        return check

    def receipt_of(user_id: str, event_id: str):
        def check(resp: nio.SyncResponse):
            room = resp.rooms.join.get(room_id)
            return room and any(isinstance(e, nio.ReceiptEvent) and any(
                rc.user_id == user_id and rc.event_id == event_id for rc in e.receipts) for e in room.ephemeral)
        return check

    typing = await myelin_account.client.room_typing(room_id, True, timeout=20000)
    assert isinstance(typing, nio.RoomTypingResponse), typing
    await sync_until(synapse_account.client, typing_of(myelin_account.user.user_id), timeout=30, what="Myelin typing on Synapse")
    typing = await synapse_account.client.room_typing(room_id, True, timeout=20000)
    assert isinstance(typing, nio.RoomTypingResponse), typing
    await sync_until(myelin_account.client, typing_of(synapse_account.user.user_id), timeout=30, what="Synapse typing on Myelin")

    from_myelin = await send_text(myelin_account.client, room_id, "read this, Synapse")
    await wait_for_message(synapse_account.client, room_id, "read this, Synapse", "the message to read")
    read = await synapse_account.client.update_receipt_marker(room_id, from_myelin)
    assert isinstance(read, nio.UpdateReceiptMarkerResponse), read
    await sync_until(myelin_account.client, receipt_of(synapse_account.user.user_id, from_myelin), timeout=30,
                     what="Synapse's receipt on Myelin")
    from_synapse = await send_text(synapse_account.client, room_id, "read this, Myelin")
    await wait_for_message(myelin_account.client, room_id, "read this, Myelin", "the message to read")
    read = await myelin_account.client.update_receipt_marker(room_id, from_synapse)
    assert isinstance(read, nio.UpdateReceiptMarkerResponse), read
    await sync_until(synapse_account.client, receipt_of(myelin_account.user.user_id, from_synapse), timeout=30,
                     what="Myelin's receipt on Synapse")


async def test_forged_unauthorised_and_replayed_pdus_are_refused(http, settings, myelin_account, synapse_account):
    """Events sent to Myelin as Synapse sends them (its key, its signing code) in a room
    the Synapse user really joined: good ones land, forged or unauthorised ones do not,
    one whose content changed on the way lands redacted, and a replayed transaction is
    not processed again."""
    from signedjson.key import generate_signing_key

    from federation_helpers import AsSynapse

    peer = AsSynapse(settings)
    created = await myelin_account.client.room_create(preset=nio.RoomPreset.public_chat)
    assert isinstance(created, nio.RoomCreateResponse), created
    room_id = created.room_id
    resp = await request(http, settings.synapse_url, "POST", f"{CLIENT_V3}/join/{q(room_id)}",
                         token=synapse_account.user.access_token, json_body={}, params={"server_name": settings.server_name})
    assert resp.status == 200, resp
    joined_event = await sync_until(myelin_account.client, lambda r: find_event(
        timeline(r, room_id), type="m.room.member", state_key=synapse_account.user.user_id), timeout=30, what="the join")

    state = await request(http, settings.base1, "GET", f"{CLIENT_V3}/rooms/{q(room_id)}/state", token=myelin_account.user.access_token)
    assert state.status == 200, state
    by_key = {(e["type"], e["state_key"]): e["event_id"] for e in state.body}
    latest = await peer.pdu(joined_event["event_id"])
    syn = synapse_account.user.user_id

    def message(body: str, sender: str = syn, key=None) -> tuple[str, dict]:
        auth = [by_key[("m.room.power_levels", "")]]
        if ("m.room.member", sender) in by_key:
            auth.append(by_key[("m.room.member", sender)])
        return peer.event("12", {
            "type": "m.room.message", "room_id": room_id, "sender": sender, "depth": latest["depth"] + 1,
            "prev_events": [joined_event["event_id"]], "auth_events": auth,
            "content": {"msgtype": "m.text", "body": body},
        }, key=key)

    good_id, good = message("signed by Synapse")
    impostor = generate_signing_key(peer.key.version)
    forged_id, forged = message("forged", key=impostor)
    stranger_id, stranger = message("not a member", sender=f"@nobody_{myelin_account.user.localpart}:{settings.synapse_server_name}")
    altered_id, altered = message("the original")
    altered = {**altered, "content": {"msgtype": "m.text", "body": "changed on the way"}}

    await synced(myelin_account.client)
    status, answer = await peer.transaction(f"e2e-{good_id}", [good, forged, stranger, altered])
    assert status == 200, answer
    assert answer["pdus"][good_id] == {}, answer
    assert "error" in answer["pdus"][forged_id], answer
    assert "error" in answer["pdus"][stranger_id], answer
    assert answer["pdus"][altered_id] == {}, answer
    await wait_for_message(myelin_account.client, room_id, "signed by Synapse", "the good event")

    messages = await request(http, settings.base1, "GET", f"{CLIENT_V3}/rooms/{q(room_id)}/messages",
                             token=myelin_account.user.access_token, params={"dir": "b", "limit": "50"})
    bodies = [e.get("content", {}).get("body") for e in messages.body["chunk"]]
    ids = [e["event_id"] for e in messages.body["chunk"]]
    assert "signed by Synapse" in bodies and altered_id in ids, messages
    assert forged_id not in ids and stranger_id not in ids, messages
    assert "changed on the way" not in bodies and "the original" not in bodies, messages
    for missing in (forged_id, stranger_id):
        r = await request(http, settings.base1, "GET", f"{CLIENT_V3}/rooms/{q(room_id)}/event/{q(missing)}",
                          token=myelin_account.user.access_token)
        assert r.status == 404, (missing, r)
    redacted = await request(http, settings.base1, "GET", f"{CLIENT_V3}/rooms/{q(room_id)}/event/{q(altered_id)}",
                             token=myelin_account.user.access_token)
    assert redacted.status == 200 and redacted.body["content"] == {}, redacted

    # A transaction sent again is answered the same and not applied again.
    def typing(on: bool) -> dict:
        return {"edu_type": "m.typing", "content": {"room_id": room_id, "user_id": syn, "typing": on}}

    async def typers() -> list[str]:
        fresh = await request(http, settings.base1, "GET", f"{CLIENT_V3}/sync", token=myelin_account.user.access_token)
        eph = fresh.body["rooms"]["join"].get(room_id, {}).get("ephemeral", {}).get("events", [])
        return [u for e in eph if e["type"] == "m.typing" for u in e["content"]["user_ids"]]

    once_id, once = message("only once")
    txn = f"e2e-replay-{once_id}"
    status, first = await peer.transaction(txn, [once], [typing(True)])
    assert status == 200 and first["pdus"][once_id] == {}, first
    assert syn in await typers()
    status, _ = await peer.transaction(txn + "-stop", [], [typing(False)])
    assert status == 200
    assert syn not in await typers()
    status, again = await peer.transaction(txn, [once], [typing(True)])
    assert status == 200 and again == first, again
    assert syn not in await typers(), "the replayed typing notice was applied again"
    messages = await request(http, settings.base1, "GET", f"{CLIENT_V3}/rooms/{q(room_id)}/messages",
                             token=myelin_account.user.access_token, params={"dir": "b", "limit": "50"})
    assert [e.get("content", {}).get("body") for e in messages.body["chunk"]].count("only once") == 1, messages


async def to_device_of(http, base: str, account, sender: str, type_: str, since: str | None, what: str) -> list[dict]:
    """Long-polls the account's raw /sync until to-device messages of `type_` from `sender`
    arrive; returns their contents."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        params = {"timeout": "5000", **({"since": since} if since else {})}
        r = await request(http, base, "GET", f"{CLIENT_V3}/sync", token=account.user.access_token, params=params)
        assert r.status == 200, r
        since = r.body["next_batch"]
        found = [e["content"] for e in r.body.get("to_device", {}).get("events", [])
                 if e["sender"] == sender and e["type"] == type_]
        if found:
            return found
    raise AssertionError(f"timed out waiting for {what}")


async def initial_since(http, base: str, account) -> str:
    r = await request(http, base, "GET", f"{CLIENT_V3}/sync", token=account.user.access_token)
    assert r.status == 200, r
    return r.body["next_batch"]


async def test_to_device_messages_cross_over(http, settings, myelin_account, synapse_account):
    alice, bob = myelin_account.user, synapse_account.user
    bob_since = await initial_since(http, settings.synapse_url, synapse_account)
    alice_since = await initial_since(http, settings.base1, myelin_account)

    # Myelin to one Synapse device; a retry of the same transaction is not delivered twice.
    for _ in range(2):
        r = await request(http, settings.base1, "PUT", f"{CLIENT_V3}/sendToDevice/org.example.fed/txn-1", token=alice.access_token,
                          json_body={"messages": {bob.user_id: {bob.device_id: {"hello": "synapse"}}}})
        assert r.status == 200, r
    got = await to_device_of(http, settings.synapse_url, synapse_account, alice.user_id, "org.example.fed", bob_since,
                             "Myelin's message in Synapse's sync")
    assert got == [{"hello": "synapse"}], got

    # Synapse to every device of the Myelin user.
    r = await request(http, settings.synapse_url, "PUT", f"{CLIENT_V3}/sendToDevice/org.example.fed/txn-2", token=bob.access_token,
                      json_body={"messages": {alice.user_id: {"*": {"hello": "myelin"}}}})
    assert r.status == 200, r
    got = await to_device_of(http, settings.base1, myelin_account, bob.user_id, "org.example.fed", alice_since,
                             "Synapse's message in Myelin's sync")
    assert got == [{"hello": "myelin"}], got


async def device_list_changed(http, base: str, account, user_id: str, since: str, what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        r = await request(http, base, "GET", f"{CLIENT_V3}/sync", token=account.user.access_token,
                          params={"timeout": "5000", "since": since})
        assert r.status == 200, r
        since = r.body["next_batch"]
        if user_id in r.body.get("device_lists", {}).get("changed", []):
            return
    raise AssertionError(f"timed out waiting for {what}")


async def test_device_list_updates_cross_over(http, settings, myelin_account, synapse_account):
    alice, bob = myelin_account.user, synapse_account.user
    created = await myelin_account.client.room_create(preset=nio.RoomPreset.public_chat)
    assert isinstance(created, nio.RoomCreateResponse), created
    resp = await request(http, settings.synapse_url, "POST", f"{CLIENT_V3}/join/{q(created.room_id)}",
                         token=bob.access_token, json_body={}, params={"server_name": settings.server_name})
    assert resp.status == 200, resp
    await sync_until(myelin_account.client, lambda r: find_event(
        timeline(r, created.room_id), type="m.room.member", state_key=bob.user_id), timeout=30, what="the join")

    async def synapse_sees(key: str) -> None:
        r = await request(http, settings.synapse_url, "POST", f"{CLIENT_V3}/keys/query", token=bob.access_token,
                          json_body={"device_keys": {alice.user_id: []}})
        assert r.status == 200, r
        assert r.body["device_keys"][alice.user_id][alice.device_id]["keys"][f"ed25519:{alice.device_id}"] == key, r

    # Synapse tracks Alice's devices from the join on; a new key reaches its cache and its users' syncs.
    await synapse_sees(await upload_device_keys(http, settings.base1, myelin_account))
    since = await initial_since(http, settings.synapse_url, synapse_account)
    renewed = await upload_device_keys(http, settings.base1, myelin_account, one_time=False)
    await device_list_changed(http, settings.synapse_url, synapse_account, alice.user_id, since, "Alice's change on Synapse")
    await synapse_sees(renewed)

    since = await initial_since(http, settings.base1, myelin_account)
    await upload_device_keys(http, settings.synapse_url, synapse_account)
    await device_list_changed(http, settings.base1, myelin_account, bob.user_id, since, "Bob's change on Myelin")
