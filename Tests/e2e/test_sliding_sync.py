"""Simplified sliding sync (MSC4186) in the request shape Element X sends: the
room-list connection, room subscriptions, extensions, connection positions and
the long-poll across processes."""

from __future__ import annotations

import asyncio
import secrets
import time

import nio

from conftest import Account
from e2e_helpers import CLIENT_V3, Response, User, q, request, send_text

SS = "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync"

# The room-list service's default required_state (matrix-sdk-ui).
DEFAULT_REQUIRED_STATE = [
    ["m.room.name", ""], ["m.room.encryption", ""], ["m.room.member", "$LAZY"],
    ["m.room.member", "$ME"], ["m.room.topic", ""], ["m.room.avatar", ""],
    ["m.room.canonical_alias", ""], ["m.room.power_levels", ""],
    ["org.matrix.msc3401.call.member", "*"], ["m.room.join_rules", ""],
    ["m.room.tombstone", ""], ["m.room.create", ""], ["m.room.history_visibility", ""],
    ["io.element.functional_members", ""], ["m.space.parent", "*"], ["m.space.child", "*"],
    ["org.matrix.msc3672.beacon_info", "*"],
]


async def ss(http, base: str, user: User, body: dict, pos: str | None = None, timeout: int = 0) -> Response:
    params = {"timeout": str(timeout), "set_presence": "online"}
    if pos:
        params["pos"] = pos
    return await request(http, base, "POST", SS, token=user.access_token, json_body=body, params=params)


async def ss_ok(http, base: str, user: User, body: dict, pos: str | None = None, timeout: int = 0) -> dict:
    r = await ss(http, base, user, body, pos, timeout)
    assert r.status == 200, r
    assert isinstance(r.body.get("pos"), str) and r.body["pos"], r
    return r.body


def room_list(end: int, timeline_limit: int = 1, **extra) -> dict:
    return {
        "conn_id": "room-list",
        "lists": {"all_rooms": {
            "ranges": [[0, end]], "timeline_limit": timeline_limit,
            "required_state": DEFAULT_REQUIRED_STATE, "filters": {},
        }},
        **extra,
    }


def state_of(room: dict, type_: str) -> list[dict]:
    return [e for e in room.get("required_state", []) if e["type"] == type_]


def bodies(events: list[dict]) -> list[str]:
    return [e["content"]["body"] for e in events if e["type"] == "m.room.message"]


async def create_room(client: nio.AsyncClient, **kwargs) -> str:
    r = await client.room_create(**kwargs)
    assert isinstance(r, nio.RoomCreateResponse), r
    return r.room_id


async def join(client: nio.AsyncClient, room_id: str) -> None:
    r = await client.join(room_id)
    assert isinstance(r, nio.JoinResponse), r


async def test_room_list_order_count_and_deltas(http, settings, alice: Account):
    base, me = settings.base1, alice.user
    rooms = [await create_room(alice.client, name=f"room {i}") for i in range(3)]
    a, b, c = rooms

    # A window of two out of three rooms: count covers all, the window the newest two.
    first = await ss_ok(http, base, me, room_list(1))
    assert first["lists"]["all_rooms"]["count"] == 3, first["lists"]
    assert "ops" not in first["lists"]["all_rooms"]
    assert set(first["rooms"]) == {c, b}, list(first["rooms"])
    for rid, name in ((c, "room 2"), (b, "room 1")):
        room = first["rooms"][rid]
        assert room["initial"] is True
        assert room["name"] == name
        assert state_of(room, "m.room.create")[0]["sender"] == me.user_id
        assert [e["state_key"] for e in state_of(room, "m.room.member")] == [me.user_id]
        assert len(room["timeline"]) == 1
    assert first["rooms"][c]["bump_stamp"] > first["rooms"][b]["bump_stamp"]

    # A message in the oldest room moves it to the top: it enters the window, sent in full.
    event_id = await send_text(alice.client, a, "bump")
    second = await ss_ok(http, base, me, room_list(1), pos=first["pos"])
    assert second["lists"]["all_rooms"]["count"] == 3
    assert list(second["rooms"]) == [a], list(second["rooms"])
    ra = second["rooms"][a]
    assert ra["initial"] is True
    assert ra["timeline"][-1]["event_id"] == event_id
    assert ra["bump_stamp"] > first["rooms"][c]["bump_stamp"]

    # Growing the range brings nothing new: every room in it was sent and is unchanged.
    third = await ss_ok(http, base, me, room_list(2), pos=second["pos"])
    assert third["rooms"] == {}, third["rooms"]
    assert third["lists"]["all_rooms"]["count"] == 3

    # Only the room that changed comes back, with only what changed.
    new_id = await send_text(alice.client, b, "delta")
    fourth = await ss_ok(http, base, me, room_list(2), pos=third["pos"])
    assert list(fourth["rooms"]) == [b], list(fourth["rooms"])
    rb = fourth["rooms"][b]
    assert "initial" not in rb
    assert "name" not in rb, rb
    assert [e["event_id"] for e in rb["timeline"]] == [new_id]
    assert rb["num_live"] == 1
    assert rb["limited"] is False
    assert rb["bump_stamp"] > ra["bump_stamp"]

    # Retrying the same request (a lost response) is allowed and gives the same delta.
    retry = await ss_ok(http, base, me, room_list(2), pos=third["pos"])
    assert [e["event_id"] for e in retry["rooms"][b]["timeline"]] == [new_id]


async def test_lazy_members_are_timeline_senders(http, settings, alice: Account, bob: Account, make_account, room):
    carol = await make_account(settings.base1, prefix="carol")
    r = await alice.client.room_invite(room, carol.user.user_id)
    assert isinstance(r, nio.RoomInviteResponse), r
    await join(carol.client, room)
    await send_text(carol.client, room, "from carol")
    await send_text(bob.client, room, "from bob")

    body = room_list(9, timeline_limit=1)
    resp = await ss_ok(http, settings.base1, alice.user, body)
    got = resp["rooms"][room]
    assert [e["sender"] for e in got["timeline"]] == [bob.user.user_id]
    members = {e["state_key"] for e in state_of(got, "m.room.member")}
    # Bob sent the timeline, $ME adds Alice; Carol only sent earlier events.
    assert members == {alice.user.user_id, bob.user.user_id}, members
    assert got["joined_count"] == 3

    # Incrementally, a sender the client already has is not repeated; a new one is sent.
    await send_text(bob.client, room, "bob again")
    resp = await ss_ok(http, settings.base1, alice.user, body, pos=resp["pos"])
    assert state_of(resp["rooms"][room], "m.room.member") == [], resp["rooms"][room]
    await send_text(carol.client, room, "carol again")
    resp = await ss_ok(http, settings.base1, alice.user, body, pos=resp["pos"])
    assert [e["state_key"] for e in state_of(resp["rooms"][room], "m.room.member")] == [carol.user.user_id]

    # With a longer timeline Carol becomes a sender, and her membership comes along.
    body = room_list(9, timeline_limit=2)
    body["conn_id"] = "other"
    resp = await ss_ok(http, settings.base1, alice.user, body)
    members = {e["state_key"] for e in state_of(resp["rooms"][room], "m.room.member")}
    assert members == {alice.user.user_id, bob.user.user_id, carol.user.user_id}, members


async def test_unnamed_dm_has_heroes(http, settings, alice: Account, bob: Account):
    r = await bob.client.set_displayname("Bob Tester")
    assert isinstance(r, nio.ProfileSetDisplayNameResponse), r
    dm = await create_room(alice.client, is_direct=True, invite=[bob.user.user_id])
    await join(bob.client, dm)
    put = await request(http, settings.base1, "PUT",
                        f"{CLIENT_V3}/user/{q(alice.user.user_id)}/account_data/m.direct",
                        token=alice.user.access_token, json_body={bob.user.user_id: [dm]})
    assert put.status == 200, put

    resp = await ss_ok(http, settings.base1, alice.user, room_list(9))
    got = resp["rooms"][dm]
    # No m.room.name: the client names the room from the heroes.
    assert "name" not in got, got
    assert got["heroes"] == [{"user_id": bob.user.user_id, "displayname": "Bob Tester"}], got["heroes"]
    assert got["is_dm"] is True
    assert got["joined_count"] == 2 and got["invited_count"] == 0

    # An is_dm filter selects it; is_dm false leaves it out.
    for is_dm, expected in ((True, 1), (False, 0)):
        body = room_list(9)
        body["conn_id"] = f"dm-{is_dm}"
        body["lists"]["all_rooms"]["filters"] = {"is_dm": is_dm}
        filtered = await ss_ok(http, settings.base1, alice.user, body)
        assert filtered["lists"]["all_rooms"]["count"] == expected, filtered["lists"]


async def test_invite_then_join(http, settings, alice: Account, bob: Account):
    rid = await create_room(bob.client, name="invitation")
    first = await ss_ok(http, settings.base1, alice.user, room_list(9))
    assert rid not in first["rooms"]
    r = await bob.client.room_invite(rid, alice.user.user_id)
    assert isinstance(r, nio.RoomInviteResponse), r

    second = await ss_ok(http, settings.base1, alice.user, room_list(9), pos=first["pos"], timeout=10000)
    got = second["rooms"][rid]
    assert got["initial"] is True
    assert "timeline" not in got and "required_state" not in got, got
    names = [e for e in got["invite_state"] if e["type"] == "m.room.name"]
    assert names and names[0]["content"]["name"] == "invitation"
    mine = [e for e in got["invite_state"] if e["type"] == "m.room.member" and e["state_key"] == alice.user.user_id]
    assert mine and mine[0]["content"]["membership"] == "invite" and mine[0]["sender"] == bob.user.user_id

    invites_only = room_list(9)
    invites_only["conn_id"] = "invites"
    invites_only["lists"]["all_rooms"]["filters"] = {"is_invite": True}
    only = await ss_ok(http, settings.base1, alice.user, invites_only)
    assert list(only["rooms"]) == [rid] and only["lists"]["all_rooms"]["count"] == 1

    # Joining turns it into a joined room, sent in full again.
    await join(alice.client, rid)
    third = await ss_ok(http, settings.base1, alice.user, room_list(9), pos=second["pos"])
    got = third["rooms"][rid]
    assert got["initial"] is True and "invite_state" not in got
    assert got["name"] == "invitation"
    assert got["timeline"][-1]["state_key"] == alice.user.user_id
    assert got["timeline"][-1]["content"]["membership"] == "join"


async def test_subscription_expands_timeline_and_paginates(http, settings, alice: Account):
    rid = await create_room(alice.client, name="history")
    for i in range(30):
        await send_text(alice.client, rid, f"m{i}")
    first = await ss_ok(http, settings.base1, alice.user, room_list(9))
    assert bodies(first["rooms"][rid]["timeline"]) == ["m29"]
    assert first["rooms"][rid]["limited"] is True

    body = room_list(9, room_subscriptions={rid: {
        "required_state": DEFAULT_REQUIRED_STATE + [["m.room.pinned_events", ""]], "timeline_limit": 20,
    }})
    second = await ss_ok(http, settings.base1, alice.user, body, pos=first["pos"])
    got = second["rooms"][rid]
    assert bodies(got["timeline"]) == [f"m{i}" for i in range(10, 30)]
    assert got["limited"] is True
    assert got.get("expanded_timeline") is True
    assert "initial" not in got

    page = await request(http, settings.base1, "GET", f"{CLIENT_V3}/rooms/{q(rid)}/messages",
                         token=alice.user.access_token,
                         params={"from": got["prev_batch"], "dir": "b", "limit": "10"})
    assert page.status == 200, page
    assert bodies(page.body["chunk"]) == [f"m{i}" for i in range(9, -1, -1)]


async def test_receipts_hide_others_private_receipts(http, settings, alice: Account, bob: Account, room):
    first_id = await send_text(alice.client, room, "read me")
    second_id = await send_text(alice.client, room, "and me")
    for user, base, rtype, eid in ((bob, settings.base2, "m.read.private", first_id),
                                   (bob, settings.base2, "m.read", second_id),
                                   (alice, settings.base1, "m.read.private", second_id)):
        r = await request(http, base, "POST", f"{CLIENT_V3}/rooms/{q(room)}/receipt/{rtype}/{q(eid)}",
                          token=user.user.access_token, json_body={})
        assert r.status == 200, r

    body = room_list(9, extensions={"receipts": {"enabled": True, "rooms": ["*"]}})
    resp = await ss_ok(http, settings.base1, alice.user, body)
    content = resp["extensions"]["receipts"]["rooms"][room]["content"]
    private = {(eid, uid) for eid, types in content.items() for uid in types.get("m.read.private", {})}
    assert private == {(second_id, alice.user.user_id)}, content
    assert bob.user.user_id in content[second_id]["m.read"], content


async def test_to_device_delivered_until_acknowledged(http, settings, alice: Account, bob: Account):
    enc = {"conn_id": "encryption", "extensions": {"to_device": {"enabled": True}, "e2ee": {"enabled": True}}}
    start = await ss_ok(http, settings.base2, bob.user, enc)
    assert isinstance(start["extensions"]["e2ee"]["device_one_time_keys_count"], dict)
    since = start["extensions"]["to_device"]["next_batch"]

    body = {"messages": {bob.user.user_id: {bob.user.device_id: {"secret": "s1"}}}}
    r = await request(http, settings.base1, "PUT", f"{CLIENT_V3}/sendToDevice/org.example.ss/{secrets.token_hex(4)}",
                      token=alice.user.access_token, json_body=body)
    assert r.status == 200, r

    enc["extensions"]["to_device"]["since"] = since
    got = await ss_ok(http, settings.base2, bob.user, enc, pos=start["pos"], timeout=10000)
    events = got["extensions"]["to_device"]["events"]
    assert [(e["type"], e["sender"], e["content"]) for e in events] == [("org.example.ss", alice.user.user_id, {"secret": "s1"})]
    next_batch = got["extensions"]["to_device"]["next_batch"]
    assert next_batch != since

    # Not yet acknowledged: a new connection starting from nothing still gets it.
    fresh = await ss_ok(http, settings.base2, bob.user, {"conn_id": "encryption-2", "extensions": {"to_device": {"enabled": True}}})
    assert [e["content"] for e in fresh["extensions"]["to_device"]["events"]] == [{"secret": "s1"}]

    # Acknowledged by the next since: deleted, so not even a new connection sees it again.
    enc["extensions"]["to_device"]["since"] = next_batch
    acked = await ss_ok(http, settings.base2, bob.user, enc, pos=got["pos"])
    assert acked["extensions"]["to_device"]["events"] == []
    again = await ss_ok(http, settings.base2, bob.user, {"conn_id": "encryption-3", "extensions": {"to_device": {"enabled": True}}})
    assert again["extensions"]["to_device"]["events"] == []


async def test_unknown_pos(http, settings, alice: Account, make_account):
    for pos in ("garbage", "s1_999999_0"):
        r = await ss(http, settings.base1, alice.user, room_list(9), pos=pos)
        assert r.status == 400 and r.errcode == "M_UNKNOWN_POS", r
    old = await ss_ok(http, settings.base1, alice.user, room_list(9))
    # Starting the connection again makes the old positions unknown, on either process.
    await ss_ok(http, settings.base2, alice.user, room_list(9))
    r = await ss(http, settings.base2, alice.user, room_list(9), pos=old["pos"])
    assert r.status == 400 and r.errcode == "M_UNKNOWN_POS", r
    # Another user cannot continue Alice's connection.
    other = await ss_ok(http, settings.base1, alice.user, room_list(9))
    mallory = await make_account(settings.base1, prefix="mallory")
    r = await ss(http, settings.base1, mallory.user, room_list(9), pos=other["pos"])
    assert r.status == 400 and r.errcode == "M_UNKNOWN_POS", r
    # Alice's own connection carries on.
    await ss_ok(http, settings.base1, alice.user, room_list(9), pos=other["pos"])


async def test_long_poll_wakes_across_processes(http, settings, alice: Account, bob: Account, room):
    start = await ss_ok(http, settings.base2, bob.user, room_list(9))
    assert room in start["rooms"]

    started = time.monotonic()
    done_at: list[float] = []
    waiting = asyncio.create_task(ss(http, settings.base2, bob.user, room_list(9), pos=start["pos"], timeout=30000))
    waiting.add_done_callback(lambda _: done_at.append(time.monotonic()))
    await asyncio.sleep(1.5)
    assert not waiting.done(), f"long-poll returned early: {waiting.result()}"

    event_id = await send_text(alice.client, room, "wake")
    sent_at = time.monotonic()
    resp = await asyncio.wait_for(waiting, timeout=35)
    assert resp.status == 200, resp
    assert done_at[0] - started >= 1.5
    assert done_at[0] - sent_at < 1.0, f"woke {done_at[0] - sent_at:.3f}s after the send"
    got = resp.body["rooms"][room]
    assert [e["event_id"] for e in got["timeline"]] == [event_id]
    assert got["num_live"] == 1

    # Nothing new: the long-poll times out with an empty response whose pos carries on.
    t0 = time.monotonic()
    idle = await ss_ok(http, settings.base2, bob.user, room_list(9), pos=resp.body["pos"], timeout=300)
    assert time.monotonic() - t0 >= 0.3
    assert idle["rooms"] == {}, idle["rooms"]
    await ss_ok(http, settings.base2, bob.user, room_list(9), pos=idle["pos"])


async def test_versions_advertise_sliding_sync(http, base_url):
    r = await request(http, base_url, "GET", "/_matrix/client/versions")
    assert r.status == 200, r
    assert r.body["unstable_features"].get("org.matrix.simplified_msc3575") is True, r.body


async def test_abandoned_long_poll_does_not_swallow_events(http, settings, alice: Account, bob: Account, room):
    # Element X cancels a waiting request and re-sends it with the same pos when it changes
    # subscriptions; the server may still be running the first one.
    start = await ss_ok(http, settings.base2, bob.user, room_list(9))
    abandoned = asyncio.create_task(ss(http, settings.base2, bob.user, room_list(9), pos=start["pos"], timeout=20000))
    await asyncio.sleep(0.5)
    resent = await ss_ok(http, settings.base1, bob.user, room_list(9, room_subscriptions={room: {
        "required_state": DEFAULT_REQUIRED_STATE, "timeline_limit": 5}}), pos=start["pos"])
    event_id = await send_text(alice.client, room, "only once")
    await asyncio.wait_for(abandoned, timeout=25)  # it wakes and answers nobody

    # The client carries on from the response it did read: the event is not lost to the
    # response it never saw.
    body = room_list(9, room_subscriptions={room: {"required_state": DEFAULT_REQUIRED_STATE, "timeline_limit": 5}})
    nxt = await ss_ok(http, settings.base2, bob.user, body, pos=resent["pos"], timeout=10000)
    assert [e["event_id"] for e in nxt["rooms"][room]["timeline"]] == [event_id], nxt["rooms"].get(room)
    # And the old branch is gone.
    r = await ss(http, settings.base2, bob.user, room_list(9), pos=abandoned.result().body.get("pos", start["pos"]))
    assert r.status == 400 and r.errcode == "M_UNKNOWN_POS", r


async def test_space_and_room_type_filters(http, settings, alice: Account):
    space = await create_room(alice.client, name="space", space=True)
    child = await create_room(alice.client, name="child")
    await create_room(alice.client, name="elsewhere")
    server = alice.user.user_id.split(":", 1)[1]
    r = await alice.client.room_put_state(space, "m.space.child", {"via": [server]}, state_key=child)
    assert isinstance(r, nio.RoomPutStateResponse), r

    async def listed(conn_id: str, filters: dict) -> set[str]:
        body = room_list(9)
        body["conn_id"] = conn_id
        body["lists"]["all_rooms"]["filters"] = filters
        resp = await ss_ok(http, settings.base1, alice.user, body)
        assert resp["lists"]["all_rooms"]["count"] == len(resp["rooms"])
        return set(resp["rooms"])

    assert await listed("in-space", {"spaces": [space]}) == {child}
    assert await listed("spaces", {"room_types": ["m.space"]}) == {space}
    rooms = await listed("not-spaces", {"not_room_types": ["m.space"]})
    assert child in rooms and space not in rooms and len(rooms) == 2
    assert await listed("plain", {"room_types": [None]}) == rooms
