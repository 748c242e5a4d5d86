"""Simplified sliding sync, side by side with Synapse: the same users, rooms and
events are made on Myelin and on the Synapse started beside it, the same
requests Element X sends are put to both, and the answers must mean the same
thing — room order by recency, counts, `initial`, incremental deltas,
`$LAZY`/`$ME` required state, heroes, invites, receipts privacy, unread counts,
timeline expansion and `prev_batch` pagination. IDs differ between servers, so
answers are compared after mapping every room, user and event ID to a label."""

from __future__ import annotations

from dataclasses import dataclass, field

from conftest import Account
from e2e_helpers import CLIENT_V3, User, q, request
from test_sliding_sync import DEFAULT_REQUIRED_STATE, ss_ok

ROOM_LIST_EXTENSIONS = {
    "account_data": {"enabled": True},
    "receipts": {"enabled": True, "rooms": ["*"]},
    "typing": {"enabled": True},
}


def room_list(end: int, **extra) -> dict:
    return {
        "conn_id": "room-list",
        "lists": {"all_rooms": {
            "ranges": [[0, end]], "timeline_limit": 1,
            "required_state": DEFAULT_REQUIRED_STATE, "filters": {},
        }},
        "extensions": ROOM_LIST_EXTENSIONS,
        **extra,
    }


@dataclass(eq=False)  # hashed by identity: responses are kept per world
class World:
    """One server's copy of the scenario, with IDs mapped to labels."""
    base: str
    alice: User
    bob: User
    carol: User
    rooms: dict[str, str] = field(default_factory=dict)   # label -> room ID
    events: dict[str, str] = field(default_factory=dict)  # event ID -> label

    def label(self, value: str) -> str:
        for name, user in (("alice", self.alice), ("bob", self.bob), ("carol", self.carol)):
            if value == user.user_id:
                return name
        for name, rid in self.rooms.items():
            if value == rid:
                return name
        return self.events.get(value, value)


async def call(http, w: World, user: User, method: str, path: str, body=None, ok=(200,)) -> dict:
    r = await request(http, w.base, method, CLIENT_V3 + path, token=user.access_token, json_body=body)
    assert r.status in ok, f"{method} {path} on {w.base}: {r}"
    return r.body


async def create(http, w: World, user: User, label: str, **body) -> str:
    rid = (await call(http, w, user, "POST", "/createRoom", {"preset": "private_chat", **body}))["room_id"]
    w.rooms[label] = rid
    return rid


async def send(http, w: World, user: User, room: str, label: str, text: str, **content) -> str:
    eid = (await call(http, w, user, "PUT", f"/rooms/{q(w.rooms[room])}/send/m.room.message/{label}",
                      {"msgtype": "m.text", "body": text, **content}))["event_id"]
    w.events[eid] = label
    return eid


async def join(http, w: World, user: User, room: str) -> None:
    await call(http, w, user, "POST", f"/join/{q(w.rooms[room])}", {})


async def invite(http, w: World, user: User, room: str, who: User) -> None:
    await call(http, w, user, "POST", f"/rooms/{q(w.rooms[room])}/invite", {"user_id": who.user_id})


async def build_world(http, make_account, base: str) -> World:
    """The scenario, in one order on every server:
    r0..r3 named rooms of Alice's; a DM from Bob (unnamed, in Alice's m.direct);
    an unnamed group with Bob and Carol; an invite from Carol she has not
    answered; then activity that bumps some rooms and a topic change that must not."""
    accounts: list[Account] = [await make_account(base, via="admin", prefix=p) for p in ("alice", "bob", "carol")]
    alice, bob, carol = (a.user for a in accounts)
    w = World(base, alice, bob, carol)
    for who, name in ((bob, "Bob B"), (carol, "Carol C")):
        await call(http, w, who, "PUT", f"/profile/{q(who.user_id)}/displayname", {"displayname": name})
    for i in range(4):
        await create(http, w, alice, f"r{i}", name=f"room {i}")
    await create(http, w, bob, "dm", is_direct=True, invite=[alice.user_id])
    await join(http, w, alice, "dm")
    await call(http, w, alice, "PUT", f"/user/{q(alice.user_id)}/account_data/m.direct", {bob.user_id: [w.rooms["dm"]]})
    await create(http, w, alice, "group", invite=[bob.user_id, carol.user_id])
    await join(http, w, bob, "group")
    await join(http, w, carol, "group")
    await send(http, w, bob, "group", "g1", "from bob")
    await send(http, w, carol, "group", "g2", "from carol")
    await send(http, w, bob, "dm", "d1", "hi alice")
    await create(http, w, carol, "inv", name="carol's room")
    await invite(http, w, carol, "inv", alice)
    await send(http, w, alice, "r1", "m1", "bump r1")
    # State that is not a message does not move a room up the list.
    await call(http, w, alice, "PUT", f"/rooms/{q(w.rooms['r3'])}/state/m.room.topic/", {"topic": "quiet"})
    return w


def by_recency(w: World, rooms: dict) -> list[str]:
    return [w.label(rid) for rid, _ in sorted(rooms.items(), key=lambda kv: -kv[1]["bump_stamp"])]


def event_view(w: World, e: dict) -> tuple:
    key = e.get("state_key")
    return (e["type"], w.label(key) if key is not None else w.label(e.get("event_id", "")))


def room_view(w: World, room: dict) -> dict:
    """What a client takes from a room, with IDs as labels and absent fields as defaults.
    Unread counts are left out: Synapse sends zeros there (its code says the client should
    count), Myelin counts from push rules — `unread()` checks those by hand."""
    return {
        "initial": bool(room.get("initial")),
        "name": room.get("name"),
        "heroes": sorted((w.label(h["user_id"]), h.get("displayname")) for h in room.get("heroes") or []),
        "joined_count": room.get("joined_count"),
        "invited_count": room.get("invited_count"),
        "is_dm": bool(room.get("is_dm")),
        "required_state": sorted(event_view(w, e) for e in room.get("required_state") or []),
        "timeline": [event_view(w, e) for e in room.get("timeline") or []],
        "limited": bool(room.get("limited")),
        "invite_state": sorted(event_view(w, e) for e in room.get("invite_state") or []),
    }


def unread(w: World, resp: dict) -> dict:
    return {w.label(rid): (room["unread_notifications"]["notification_count"], room["unread_notifications"]["highlight_count"])
            for rid, room in resp["rooms"].items() if "unread_notifications" in room}


def receipts_view(w: World, ext: dict) -> dict:
    out = {}
    for rid, edu in ((ext.get("receipts") or {}).get("rooms") or {}).items():
        out[w.label(rid)] = sorted(
            (w.label(eid), rtype, w.label(uid))
            for eid, types in edu["content"].items() for rtype, users in types.items() for uid in users)
    return out


def views(w: World, resp: dict) -> dict:
    return {w.label(rid): room_view(w, room) for rid, room in resp["rooms"].items()}


def counts(resp: dict) -> dict:
    return {name: lst["count"] for name, lst in resp["lists"].items()}


def assert_same(mine, theirs, what: str) -> None:
    assert mine == theirs, f"{what} differs from Synapse\n  myelin:  {mine}\n  synapse: {theirs}"


async def test_room_list_matches_synapse(http, settings, make_account):
    m = await build_world(http, make_account, settings.base1)
    s = await build_world(http, make_account, settings.synapse_url)

    # First page of Element X's room list: a window of four out of seven rooms.
    first = {w: await ss_ok(http, w.base, w.alice, room_list(3)) for w in (m, s)}
    assert first[m]["lists"]["all_rooms"]["count"] == 7, first[m]["lists"]
    # Synapse still sends the legacy `ops` too; Element X reads only `count`.
    assert_same(counts(first[m]), counts(first[s]), "list counts")
    assert_same(by_recency(m, first[m]["rooms"]), by_recency(s, first[s]["rooms"]), "recency order of the window")
    # Windows follow the latest event of any kind: the topic change brings r3 into the
    # window, but it does not bump it, so by bump_stamp it comes last; r1's message bumps.
    assert by_recency(m, first[m]["rooms"]) == ["r1", "inv", "dm", "r3"]
    assert_same(views(m, first[m]), views(s, first[s]), "rooms of the first response")
    # Bob's message in the DM notifies (one-to-one rule); Alice's own messages do not.
    assert unread(m, first[m]) == {"r1": (0, 0), "dm": (1, 0), "r3": (0, 0)}, unread(m, first[m])

    # Growing the range: only rooms not sent yet come, each in full.
    second = {w: await ss_ok(http, w.base, w.alice, room_list(9), pos=first[w]["pos"]) for w in (m, s)}
    assert_same(sorted(views(m, second[m])), sorted(views(s, second[s])), "rooms added by the grown range")
    assert_same(views(m, second[m]), views(s, second[s]), "rooms added by the grown range")

    # Activity: a mention of Alice in the group, a private and a public receipt by Bob.
    for w in (m, s):
        g2 = next(e for e, label in w.events.items() if label == "g2")
        await call(http, w, w.bob, "POST", f"/rooms/{q(w.rooms['group'])}/receipt/m.read.private/{q(g2)}", {})
        await send(http, w, w.bob, "group", "g3", "ping", **{"m.mentions": {"user_ids": [w.alice.user_id]}})
        await call(http, w, w.bob, "POST", f"/rooms/{q(w.rooms['group'])}/receipt/m.read/{q(g2)}", {})
    third = {w: await ss_ok(http, w.base, w.alice, room_list(9), pos=second[w]["pos"]) for w in (m, s)}
    assert_same(views(m, third[m]), views(s, third[s]), "incremental delta after a mention")
    # The mention highlights; Bob and Carol's earlier messages in the group notify too.
    assert unread(m, third[m]) == {"group": (3, 1)}, unread(m, third[m])
    assert_same(receipts_view(m, third[m]["extensions"]), receipts_view(s, third[s]["extensions"]),
                "receipts (Bob's private receipt must not reach Alice)")
    assert receipts_view(m, third[m]["extensions"]) == {"group": [("g2", "m.read", "bob")]}

    # Opening r0 as Element X does: a subscription with a longer timeline.
    for w in (m, s):
        for i in range(5):
            await send(http, w, w.alice, "r0", f"h{i}", f"history {i}")
    sub = {w: room_list(9, room_subscriptions={w.rooms["r0"]: {
        "required_state": DEFAULT_REQUIRED_STATE + [["m.room.pinned_events", ""]], "timeline_limit": 3}}) for w in (m, s)}
    fourth = {w: await ss_ok(http, w.base, w.alice, sub[w], pos=third[w]["pos"]) for w in (m, s)}
    assert_same(views(m, fourth[m]), views(s, fourth[s]), "room opened by a subscription")
    assert [t[1] for t in views(m, fourth[m])["r0"]["timeline"]] == ["h2", "h3", "h4"]

    # prev_batch continues the timeline backwards through /messages.
    for w in (m, s):
        prev = fourth[w]["rooms"][w.rooms["r0"]]["prev_batch"]
        page = await call(http, w, w.alice, "GET", f"/rooms/{q(w.rooms['r0'])}/messages?dir=b&limit=4&from={q(prev)}")
        w.events["page"] = ",".join(event_view(w, e)[1] for e in page["chunk"] if e["type"] == "m.room.message")
    assert m.events["page"] == s.events["page"] == "h1,h0", (m.events["page"], s.events["page"])


async def fresh_worlds(http, settings, make_account):
    """Alice, Bob and Carol on each server, and Alice's first (empty) room list."""
    worlds = []
    for base in (settings.base1, settings.synapse_url):
        accounts = [await make_account(base, via="admin", prefix=p) for p in ("alice", "bob", "carol")]
        worlds.append(World(base, *(a.user for a in accounts)))
    m, s = worlds
    return m, s, {w: await ss_ok(http, w.base, w.alice, room_list(9)) for w in (m, s)}


async def test_invite_and_join_match_synapse(http, settings, make_account):
    m, s, first = await fresh_worlds(http, settings, make_account)

    # An invite arrives: stripped state only, marked initial.
    for w in (m, s):
        await create(http, w, w.bob, "inv", name="invitation", topic="about it")
        await invite(http, w, w.bob, "inv", w.alice)
    second = {w: await ss_ok(http, w.base, w.alice, room_list(9), pos=first[w]["pos"]) for w in (m, s)}
    assert_same(views(m, second[m]), views(s, second[s]), "an invite")
    assert views(m, second[m])["inv"]["invite_state"], second[m]

    # Accepting it sends the room again in full, with its state and timeline.
    for w in (m, s):
        await join(http, w, w.alice, "inv")
    third = {w: await ss_ok(http, w.base, w.alice, room_list(9), pos=second[w]["pos"]) for w in (m, s)}
    assert_same(views(m, third[m]), views(s, third[s]), "the invite once joined")
    assert views(m, third[m])["inv"]["initial"] is True


async def test_knock_matches_synapse(http, settings, make_account):
    m, s, first = await fresh_worlds(http, settings, make_account)
    for w in (m, s):
        await create(http, w, w.bob, "knock", name="knock here", room_version="10",
                     initial_state=[{"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": "knock"}}])
        await call(http, w, w.alice, "POST", f"/knock/{q(w.rooms['knock'])}", {"reason": "let me in"})
    # A knocked room is listed with the stripped state the knocker may see.
    second = {w: await ss_ok(http, w.base, w.alice, room_list(9), pos=first[w]["pos"]) for w in (m, s)}
    assert_same(views(m, second[m]), views(s, second[s]), "a knocked room")
    assert ("m.room.member", "alice") in views(m, second[m])["knock"]["invite_state"]
    assert counts(second[m]) == counts(second[s]) == {"all_rooms": 1}
