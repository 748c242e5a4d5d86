"""Spaces and OpenID over federation with a real Synapse: Synapse's client /hierarchy of
a Myelin space lists its children (Synapse asks Myelin's federation /hierarchy for the
rooms it is not in), Myelin's client /hierarchy of a Synapse space does the same the other
way (and pages through a local space), and an OpenID token minted by Myelin's client API is accepted by
Myelin's federation /openid/userinfo while a forged one is refused."""

from __future__ import annotations

import pytest

from e2e_helpers import CLIENT_V1, CLIENT_V3, q, request
from federation_helpers import AsSynapse
from federation_room_helpers import since_now, sync_until, timeline_events, tls_get


async def create(http, base: str, account, **body) -> str:
    r = await request(http, base, "POST", f"{CLIENT_V3}/createRoom", token=account.user.access_token,
                      json_body={"room_version": "10", **body})
    assert r.status == 200, r
    return r.body["room_id"]


async def test_synapse_walks_a_myelin_space(http, settings, myelin_account, synapse_account):
    alice = myelin_account
    space = await create(http, settings.base1, alice, preset="public_chat", name="Myelin space",
                         creation_content={"type": "m.space"})
    lobby = await create(http, settings.base1, alice, preset="public_chat", name="Lobby", topic="Say hi")
    hidden = await create(http, settings.base1, alice, preset="private_chat", name="Staff only")
    for child, suggested in ((lobby, True), (hidden, False)):
        r = await request(http, settings.base1, "PUT", f"{CLIENT_V3}/rooms/{q(space)}/state/m.space.child/{q(child)}",
                          token=alice.user.access_token, json_body={"via": [settings.server_name], "suggested": suggested})
        assert r.status == 200, r

    # Myelin's federation answer, asked as Synapse: the space, the public child described,
    # the private one only named as inaccessible.
    status, body = await AsSynapse(settings).request("GET", f"/_matrix/federation/v1/hierarchy/{q(space)}")
    assert status == 200, body
    assert body["room"]["room_id"] == space and body["room"]["room_type"] == "m.space", body
    assert {e["state_key"] for e in body["room"]["children_state"]} == {lobby, hidden}, body
    assert all(isinstance(e["origin_server_ts"], int) for e in body["room"]["children_state"]), body
    assert [c["room_id"] for c in body["children"]] == [lobby], body
    assert body["children"][0]["name"] == "Lobby" and body["children"][0]["topic"] == "Say hi", body
    assert body["inaccessible_children"] == [hidden], body
    status, body = await AsSynapse(settings).request("GET", f"/_matrix/federation/v1/hierarchy/{q(space)}?suggested_only=true")
    assert status == 200 and [e["state_key"] for e in body["room"]["children_state"]] == [lobby], body
    status, body = await AsSynapse(settings).request("GET", f"/_matrix/federation/v1/hierarchy/{q(hidden)}")
    assert status == 404 and body["errcode"] == "M_NOT_FOUND", body

    # Synapse's user joins the space; Synapse fetches the child it is not in from Myelin.
    bob = synapse_account
    since = await since_now(http, settings.base1, alice)
    r = await request(http, settings.synapse_url, "POST", f"{CLIENT_V3}/join/{q(space)}", token=bob.user.access_token,
                      json_body={}, params={"server_name": settings.server_name})
    assert r.status == 200, r
    await sync_until(http, settings.base1, alice, since, lambda b: any(
        e.get("state_key") == bob.user.user_id for e in timeline_events(b, space)), "Bob's join of the space")
    r = await request(http, settings.synapse_url, "GET", f"{CLIENT_V1}/rooms/{q(space)}/hierarchy", token=bob.user.access_token)
    assert r.status == 200, r
    rooms = {room["room_id"]: room for room in r.body["rooms"]}
    assert set(rooms) == {space, lobby}, r.body
    assert rooms[lobby]["name"] == "Lobby" and rooms[lobby]["num_joined_members"] == 1, r.body


async def add_child(http, base: str, account, space: str, child: str, via: str, **content) -> None:
    r = await request(http, base, "PUT", f"{CLIENT_V3}/rooms/{q(space)}/state/m.space.child/{q(child)}",
                      token=account.user.access_token, json_body={"via": [via], **content})
    assert r.status == 200, r


async def hierarchy(http, settings, account, room_id: str, **params):
    return await request(http, settings.base1, "GET", f"{CLIENT_V1}/rooms/{q(room_id)}/hierarchy",
                         token=account.user.access_token, params={k: str(v) for k, v in params.items()})


async def test_myelin_walks_a_synapse_space(http, settings, myelin_account, synapse_account):
    bob = synapse_account
    space = await create(http, settings.synapse_url, bob, preset="public_chat", name="Synapse space",
                         creation_content={"type": "m.space"})
    sub = await create(http, settings.synapse_url, bob, preset="public_chat", name="Sub space",
                       creation_content={"type": "m.space"})
    general = await create(http, settings.synapse_url, bob, preset="public_chat", name="General")
    secret = await create(http, settings.synapse_url, bob, preset="private_chat", name="Secret")
    deep = await create(http, settings.synapse_url, bob, preset="public_chat", name="Deep")
    await add_child(http, settings.synapse_url, bob, space, general, settings.synapse_server_name, order="a")
    await add_child(http, settings.synapse_url, bob, space, sub, settings.synapse_server_name, order="b")
    await add_child(http, settings.synapse_url, bob, space, secret, settings.synapse_server_name)
    await add_child(http, settings.synapse_url, bob, sub, deep, settings.synapse_server_name)

    # Myelin is in none of these rooms: every one is asked of Synapse over federation.
    r = await hierarchy(http, settings, myelin_account, space)
    assert r.status == 200, r
    names = [room.get("name") for room in r.body["rooms"]]
    assert names == ["Synapse space", "General", "Sub space", "Deep"], r.body
    root = r.body["rooms"][0]
    assert root["room_type"] == "m.space" and root["num_joined_members"] == 1, root
    assert {e["state_key"] for e in root["children_state"]} == {general, sub, secret}, root
    assert "next_batch" not in r.body, r.body

    r = await hierarchy(http, settings, myelin_account, space, max_depth=1)
    assert r.status == 200 and [room["name"] for room in r.body["rooms"]] == ["Synapse space", "General", "Sub space"], r.body
    r = await hierarchy(http, settings, myelin_account, secret)
    assert r.status == 403 and r.errcode == "M_FORBIDDEN", r


async def test_myelin_pages_through_its_own_space(http, settings, myelin_account):
    alice = myelin_account
    space = await create(http, settings.base1, alice, preset="public_chat", name="Home",
                         creation_content={"type": "m.space"})
    children = [await create(http, settings.base1, alice, preset="public_chat", name=f"Room {i}") for i in range(3)]
    for i, child in enumerate(children):
        await add_child(http, settings.base1, alice, space, child, settings.server_name, order=str(i), suggested=i == 0)

    seen, token = [], None
    while True:
        r = await hierarchy(http, settings, alice, space, limit=2, **({"from": token} if token else {}))
        assert r.status == 200, r
        seen += [room["name"] for room in r.body["rooms"]]
        token = r.body.get("next_batch")
        if not token:
            break
    assert seen == ["Home", "Room 0", "Room 1", "Room 2"], seen
    r = await hierarchy(http, settings, alice, space, suggested_only="true")
    assert r.status == 200 and [room["name"] for room in r.body["rooms"]] == ["Home", "Room 0"], r.body
    first = await hierarchy(http, settings, alice, space, limit=1)
    r = await hierarchy(http, settings, alice, space, limit=1, max_depth=0, **{"from": first.body["next_batch"]})
    assert r.status == 400 and r.errcode == "M_INVALID_PARAM", r
    r = await hierarchy(http, settings, alice, space, limit=0)
    assert r.status == 400 and r.errcode == "M_INVALID_PARAM", r


async def userinfo(settings, token: str):
    return await tls_get(f"{settings.federation_url}/_matrix/federation/v1/openid/userinfo?access_token={q(token)}")


async def test_openid_tokens_are_checked_over_federation(http, settings, myelin_account, synapse_account):
    alice = myelin_account.user
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/user/{q(alice.user_id)}/openid/request_token",
                      token=alice.access_token, json_body={})
    assert r.status == 200, r
    assert r.body["token_type"] == "Bearer" and r.body["matrix_server_name"] == settings.server_name, r
    assert 0 < r.body["expires_in"] <= 3600, r
    status, body = await userinfo(settings, r.body["access_token"])
    assert status == 200 and body == {"sub": alice.user_id}, body

    # A token nobody minted, and one minted by Synapse for its own user, are refused.
    status, body = await userinfo(settings, r.body["access_token"] + "x")
    assert status == 401 and body["errcode"] == "M_UNKNOWN_TOKEN", body
    bob = synapse_account.user
    r = await request(http, settings.synapse_url, "POST", f"{CLIENT_V3}/user/{q(bob.user_id)}/openid/request_token",
                      token=bob.access_token, json_body={})
    assert r.status == 200, r
    status, body = await userinfo(settings, r.body["access_token"])
    assert status == 401 and body["errcode"] == "M_UNKNOWN_TOKEN", body
    # Nor may a user ask for a token in another user's name.
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/user/{q(bob.user_id)}/openid/request_token",
                      token=alice.access_token, json_body={})
    assert r.status == 403 and r.errcode == "M_FORBIDDEN", r
