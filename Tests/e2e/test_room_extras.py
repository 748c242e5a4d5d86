"""Room summaries, threads, timestamp_to_event and tags."""

from __future__ import annotations

import nio

from conftest import Account
from e2e_helpers import q, request, send_text, sync_until

V1 = "/_matrix/client/v1"
V3 = "/_matrix/client/v3"


async def test_room_summary_public_and_private(http, settings, alice: Account, bob: Account):
    public = await alice.client.room_create(visibility=nio.RoomVisibility.public, name="Summary room", topic="about")
    private = await alice.client.room_create(name="Secret")
    assert isinstance(public, nio.RoomCreateResponse) and isinstance(private, nio.RoomCreateResponse)
    for path in (f"{V1}/room_summary/{q(public.room_id)}",
                 f"/_matrix/client/unstable/im.nheko.summary/summary/{q(public.room_id)}"):
        r = await request(http, settings.base2, "GET", path, token=bob.user.access_token)
        assert r.status == 200, r
        assert r.body["room_id"] == public.room_id
        assert r.body["name"] == "Summary room" and r.body["topic"] == "about"
        assert r.body["join_rule"] == "public" and r.body["num_joined_members"] == 1
        assert r.body["room_version"] and "membership" not in r.body
    mine = await request(http, settings.base1, "GET", f"{V1}/room_summary/{q(public.room_id)}", token=alice.user.access_token)
    assert mine.body["membership"] == "join", mine
    hidden = await request(http, settings.base2, "GET", f"{V1}/room_summary/{q(private.room_id)}", token=bob.user.access_token)
    assert hidden.status == 404 and hidden.errcode == "M_NOT_FOUND", hidden


async def test_threads_list_roots_with_summaries(http, settings, alice: Account, bob: Account, room: str):
    root = await send_text(alice.client, room, "thread root")
    quiet_root = await send_text(alice.client, room, "another root")
    await send_text(bob.client, room, "reply 1", **{"m.relates_to": {"rel_type": "m.thread", "event_id": root}})
    last = await send_text(bob.client, room, "reply 2", **{"m.relates_to": {"rel_type": "m.thread", "event_id": root}})
    await send_text(alice.client, room, "quiet reply", **{"m.relates_to": {"rel_type": "m.thread", "event_id": quiet_root}})

    r = await request(http, settings.base2, "GET", f"{V1}/rooms/{q(room)}/threads", token=bob.user.access_token)
    assert r.status == 200, r
    roots = [e["event_id"] for e in r.body["chunk"]]
    assert roots == [quiet_root, root], roots  # most recent activity first
    summary = r.body["chunk"][1]["unsigned"]["m.relations"]["m.thread"]
    assert summary["count"] == 2 and summary["current_user_participated"] is True
    assert summary["latest_event"]["event_id"] == last

    mine = await request(http, settings.base2, "GET", f"{V1}/rooms/{q(room)}/threads",
                         token=bob.user.access_token, params={"include": "participated"})
    assert [e["event_id"] for e in mine.body["chunk"]] == [root], mine

    page = await request(http, settings.base1, "GET", f"{V1}/rooms/{q(room)}/threads",
                         token=alice.user.access_token, params={"limit": "1"})
    assert [e["event_id"] for e in page.body["chunk"]] == [quiet_root] and page.body.get("next_batch"), page
    rest = await request(http, settings.base1, "GET", f"{V1}/rooms/{q(room)}/threads",
                         token=alice.user.access_token, params={"limit": "1", "from": page.body["next_batch"]})
    assert [e["event_id"] for e in rest.body["chunk"]] == [root], rest


async def test_timestamp_to_event(http, settings, alice: Account, room: str):
    ids = [await send_text(alice.client, room, f"t{i}") for i in range(3)]
    events = []
    for event_id in ids:
        r = await request(http, settings.base1, "GET", f"{V3}/rooms/{q(room)}/event/{q(event_id)}", token=alice.user.access_token)
        events.append(r.body)
    middle_ts = events[1]["origin_server_ts"]
    fwd = await request(http, settings.base1, "GET", f"{V1}/rooms/{q(room)}/timestamp_to_event",
                        token=alice.user.access_token, params={"ts": str(middle_ts), "dir": "f"})
    assert fwd.status == 200 and fwd.body["origin_server_ts"] >= middle_ts, fwd
    assert fwd.body["event_id"] in ids[1:] or fwd.body["origin_server_ts"] == middle_ts
    back = await request(http, settings.base1, "GET", f"{V1}/rooms/{q(room)}/timestamp_to_event",
                         token=alice.user.access_token, params={"ts": str(events[2]["origin_server_ts"] + 60_000), "dir": "b"})
    assert back.body["event_id"] == ids[2], back
    none = await request(http, settings.base1, "GET", f"{V1}/rooms/{q(room)}/timestamp_to_event",
                         token=alice.user.access_token, params={"ts": "1", "dir": "b"})
    assert none.status == 404 and none.errcode == "M_NOT_FOUND", none
    bad = await request(http, settings.base1, "GET", f"{V1}/rooms/{q(room)}/timestamp_to_event",
                        token=alice.user.access_token, params={"ts": "1", "dir": "x"})
    assert bad.status == 400, bad


async def test_tags_round_trip_and_sync(http, settings, alice: Account, room: str):
    await alice.client.sync(timeout=0)
    base = f"{V3}/user/{q(alice.user.user_id)}/rooms/{q(room)}/tags"
    r = await request(http, settings.base1, "PUT", f"{base}/m.favourite", token=alice.user.access_token, json_body={"order": 0.25})
    assert r.status == 200, r
    got = await request(http, settings.base2, "GET", base, token=alice.user.access_token)
    assert got.body == {"tags": {"m.favourite": {"order": 0.25}}}, got

    def tag_event(resp: nio.SyncResponse):
        info = resp.rooms.join.get(room)
        if not info:
            return None
        return next((e for e in info.account_data if isinstance(e, nio.TagEvent)), None)

    ev = await sync_until(alice.client, tag_event, what="m.tag in room account data")
    assert "m.favourite" in ev.tags
    r = await request(http, settings.base1, "DELETE", f"{base}/m.favourite", token=alice.user.access_token)
    assert r.status == 200, r
    got = await request(http, settings.base1, "GET", base, token=alice.user.access_token)
    assert got.body == {"tags": {}}, got
    other = await request(http, settings.base1, "GET", f"{V3}/user/{q('@someone:else')}/rooms/{q(room)}/tags",
                          token=alice.user.access_token)
    assert other.status == 403, other


async def test_state_events_carry_prev_content(http, settings, alice: Account, room: str):
    for topic in ("first topic", "second topic"):
        r = await request(http, settings.base1, "PUT", f"{V3}/rooms/{q(room)}/state/m.room.topic",
                          token=alice.user.access_token, json_body={"topic": topic})
        assert r.status == 200, r
    msgs = await request(http, settings.base2, "GET", f"{V3}/rooms/{q(room)}/messages", token=alice.user.access_token,
                         params={"dir": "b", "limit": "5"})
    topics = [e for e in msgs.body["chunk"] if e["type"] == "m.room.topic"]
    assert [e["content"]["topic"] for e in topics] == ["second topic", "first topic"], topics
    assert topics[0]["unsigned"]["prev_content"] == {"topic": "first topic"}
    assert "prev_content" not in topics[1]["unsigned"]
