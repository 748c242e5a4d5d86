"""Knocking across servers with a real Synapse, in rooms of version 10 with join rule
`knock`: a Synapse user knocks on a Myelin room (make_knock/send_knock into Myelin) and a
Myelin user on a Synapse room (Myelin's client knock through Synapse); each time the knock
shows on the room's server, the room's admin invites the knocker, and the knocker joins."""

from __future__ import annotations

import pytest

from e2e_helpers import CLIENT_V3, q, request
from federation_room_helpers import since_now, sync_until, timeline_events


KNOCK_ROOM = {
    "room_version": "10", "preset": "private_chat", "name": "Knock knock",
    "initial_state": [{"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": "knock"}}],
}


def membership_of(body: dict, room_id: str, user_id: str, membership: str) -> bool:
    return any(e.get("type") == "m.room.member" and e.get("state_key") == user_id
               and e.get("content", {}).get("membership") == membership for e in timeline_events(body, room_id))


async def admit(http, base: str, admin, room_id: str, user_id: str) -> None:
    r = await request(http, base, "POST", f"{CLIENT_V3}/rooms/{q(room_id)}/invite", token=admin.user.access_token,
                      json_body={"user_id": user_id})
    assert r.status == 200, r


async def test_a_synapse_user_knocks_on_a_myelin_room(http, settings, myelin_account, synapse_account):
    alice, bob = myelin_account, synapse_account
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/createRoom", token=alice.user.access_token,
                      json_body=KNOCK_ROOM)
    assert r.status == 200, r
    room_id = r.body["room_id"]

    since = await since_now(http, settings.base1, alice)
    r = await request(http, settings.synapse_url, "POST", f"{CLIENT_V3}/knock/{q(room_id)}", token=bob.user.access_token,
                      json_body={"reason": "let me in"}, params={"server_name": settings.server_name})
    assert r.status == 200 and r.body["room_id"] == room_id, r
    await sync_until(http, settings.base1, alice, since, lambda b: membership_of(b, room_id, bob.user.user_id, "knock"),
                     "Bob's knock in Alice's room")
    # Synapse got the room's description with the knock and shows it to Bob.
    bob_sync = await request(http, settings.synapse_url, "GET", f"{CLIENT_V3}/sync", token=bob.user.access_token)
    knock_state = bob_sync.body["rooms"]["knock"][room_id]["knock_state"]["events"]
    assert any(e["type"] == "m.room.name" and e["content"].get("name") == "Knock knock" for e in knock_state), knock_state

    since = await since_now(http, settings.base1, alice)
    await admit(http, settings.base1, alice, room_id, bob.user.user_id)
    r = await request(http, settings.synapse_url, "POST", f"{CLIENT_V3}/join/{q(room_id)}", token=bob.user.access_token,
                      json_body={}, params={"server_name": settings.server_name})
    assert r.status == 200, r
    await sync_until(http, settings.base1, alice, since, lambda b: membership_of(b, room_id, bob.user.user_id, "join"),
                     "Bob's join in Alice's room")


async def test_a_myelin_user_knocks_on_a_synapse_room(http, settings, myelin_account, synapse_account):
    alice, bob = myelin_account, synapse_account
    r = await request(http, settings.synapse_url, "POST", f"{CLIENT_V3}/createRoom", token=bob.user.access_token,
                      json_body=KNOCK_ROOM)
    assert r.status == 200, r
    room_id = r.body["room_id"]

    bob_since = await since_now(http, settings.synapse_url, bob)
    alice_since = await since_now(http, settings.base1, alice)
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/knock/{q(room_id)}", token=alice.user.access_token,
                      json_body={"reason": "let me in"}, params={"server_name": settings.synapse_server_name})
    assert r.status == 200 and r.body["room_id"] == room_id, r
    await sync_until(http, settings.synapse_url, bob, bob_since, lambda b: membership_of(b, room_id, alice.user.user_id, "knock"),
                     "Alice's knock in Bob's room")
    # Alice's own sync shows the knock, with the room's description Synapse sent.
    knocked = await sync_until(http, settings.base1, alice, alice_since,
                               lambda b: b.get("rooms", {}).get("knock", {}).get(room_id), "the knock in Alice's sync")
    events = knocked["knock_state"]["events"]
    assert any(e["type"] == "m.room.name" and e["content"].get("name") == "Knock knock" for e in events), events
    assert any(e["type"] == "m.room.member" and e["state_key"] == alice.user.user_id
               and e["content"]["membership"] == "knock" for e in events), events

    await admit(http, settings.synapse_url, bob, room_id, alice.user.user_id)
    await sync_until(http, settings.base1, alice, alice_since, lambda b: room_id in b.get("rooms", {}).get("invite", {}),
                     "Bob's invite in Alice's sync")
    bob_since = await since_now(http, settings.synapse_url, bob)
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/join/{q(room_id)}", token=alice.user.access_token,
                      json_body={}, params={"server_name": settings.synapse_server_name})
    assert r.status == 200, r
    await sync_until(http, settings.synapse_url, bob, bob_since, lambda b: membership_of(b, room_id, alice.user.user_id, "join"),
                     "Alice's join in Bob's room")


async def test_knocking_where_the_rule_forbids_it_is_refused(http, settings, myelin_account, synapse_account):
    """A Myelin room with join rule invite: Synapse's knock is refused by Myelin."""
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/createRoom", token=myelin_account.user.access_token,
                      json_body={"room_version": "10", "preset": "private_chat"})
    assert r.status == 200, r
    room_id = r.body["room_id"]
    r = await request(http, settings.synapse_url, "POST", f"{CLIENT_V3}/knock/{q(room_id)}",
                      token=synapse_account.user.access_token, json_body={}, params={"server_name": settings.server_name})
    assert r.status == 403, r


async def test_make_knock_refuses_what_cannot_be_a_knock(http, settings, myelin_account):
    """Myelin's make_knock, asked as Synapse: room versions without knocking, a server
    supporting none of the room's, another server's user and an unknown room."""
    from federation_helpers import AsSynapse

    syn = AsSynapse(settings)
    user = f"@knocker:{settings.synapse_server_name}"

    async def make_knock(room_id: str, user_id: str = user, versions=("6", "10", "11")):
        query = "&".join(f"ver={v}" for v in versions)
        return await syn.request("GET", f"/_matrix/federation/v1/make_knock/{q(room_id)}/{q(user_id)}?{query}")

    knock_room = await request(http, settings.base1, "POST", f"{CLIENT_V3}/createRoom",
                               token=myelin_account.user.access_token, json_body=KNOCK_ROOM)
    assert knock_room.status == 200, knock_room
    room_id = knock_room.body["room_id"]
    status, body = await make_knock(room_id)
    assert status == 200 and body["room_version"] == "10", body
    assert body["event"]["content"]["membership"] == "knock" and body["event"]["state_key"] == user, body

    status, body = await make_knock(room_id, versions=("6", "9"))
    assert status == 400 and body["errcode"] == "M_INCOMPATIBLE_ROOM_VERSION" and body["room_version"] == "10", body
    status, body = await make_knock(room_id, user_id=f"@someone:{settings.server_name}")
    assert status == 403 and body["errcode"] == "M_FORBIDDEN", body
    status, body = await make_knock(f"!nowhere:{settings.server_name}")
    assert status == 404 and body["errcode"] == "M_NOT_FOUND", body

    old = await request(http, settings.base1, "POST", f"{CLIENT_V3}/createRoom", token=myelin_account.user.access_token,
                        json_body={"room_version": "6", "preset": "public_chat"})
    assert old.status == 200, old
    status, body = await make_knock(old.body["room_id"])
    assert status == 400 and body["errcode"] == "M_INCOMPATIBLE_ROOM_VERSION", body
