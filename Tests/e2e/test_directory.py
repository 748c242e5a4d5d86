"""Room aliases, the published room directory, the user directory, room
upgrades, content reports and ignoring users, end to end.

Alice talks to process 1 and Bob to process 2 (see conftest); each check
reads back what the other process wrote."""

from __future__ import annotations

import secrets

import nio

from e2e_helpers import CLIENT_V3, find_event, q, request, send_text, sync_until, timeline


def assert_error(resp, status: int, errcode: str) -> None:
    assert resp.status == status, resp
    assert resp.errcode == errcode, resp


def tag() -> str:
    return secrets.token_hex(5)


async def api(http, base, method, path, token=None, body=None, params=None):
    return await request(http, base, method, CLIENT_V3 + path, token=token, json_body=body, params=params)


async def create_room(http, base, token, **body) -> str:
    resp = await api(http, base, "POST", "/createRoom", token, body)
    assert resp.status == 200, resp
    return resp.body["room_id"]


async def join(http, base, token, room_id) -> None:
    resp = await api(http, base, "POST", f"/join/{q(room_id)}", token, {})
    assert resp.status == 200, resp


async def state(http, base, token, room_id, type_, key=""):
    return await api(http, base, "GET", f"/rooms/{q(room_id)}/state/{type_}/{q(key)}", token)


async def search_public(http, base, token, term, **extra):
    resp = await api(http, base, "POST", "/publicRooms", token,
                     {"filter": {"generic_search_term": term}, **extra})
    assert resp.status == 200, resp
    return resp.body


# --- aliases ------------------------------------------------------------------


async def test_alias_create_resolve_delete_and_errors(http, settings, alice, bob, make_account, room):
    s = settings
    carol = await make_account(s.base1, prefix="carol")
    alias = f"#dir_{tag()}:{s.server_name}"
    path = f"/directory/room/{q(alias)}"
    a_tok, b_tok, c_tok = alice.user.access_token, bob.user.access_token, carol.user.access_token

    created = await api(http, s.base1, "PUT", path, a_tok, {"room_id": room})
    assert created.status == 200 and created.body == {}, created

    # Resolvable from the other process, with our server among those that know it.
    resolved = await api(http, s.base2, "GET", path, b_tok)
    assert resolved.status == 200, resolved
    assert resolved.body["room_id"] == room
    assert s.server_name in resolved.body["servers"]

    # Taken, foreign, malformed, missing room, or by a non-member: refused.
    assert_error(await api(http, s.base2, "PUT", path, b_tok, {"room_id": room}), 409, "M_UNKNOWN")
    foreign = f"/directory/room/{q('#elsewhere_' + tag() + ':other.example')}"
    assert_error(await api(http, s.base1, "PUT", foreign, a_tok, {"room_id": room}), 400, "M_INVALID_PARAM")
    assert_error(await api(http, s.base1, "PUT", f"/directory/room/{q('no-sigil')}", a_tok, {"room_id": room}),
                 400, "M_INVALID_PARAM")
    unused = f"/directory/room/{q(f'#unused_{tag()}:{s.server_name}')}"
    assert_error(await api(http, s.base1, "PUT", unused, c_tok, {"room_id": room}), 403, "M_FORBIDDEN")
    assert_error(await api(http, s.base1, "PUT", unused, a_tok, {"room_id": f"!nosuch{tag()}:{s.server_name}"}),
                 404, "M_NOT_FOUND")
    assert_error(await api(http, s.base1, "GET", unused, a_tok), 404, "M_NOT_FOUND")

    # The room's local aliases: members only.
    listed = await api(http, s.base2, "GET", f"/rooms/{q(room)}/aliases", b_tok)
    assert listed.status == 200 and listed.body["aliases"] == [alias], listed
    assert_error(await api(http, s.base1, "GET", f"/rooms/{q(room)}/aliases", c_tok), 403, "M_FORBIDDEN")

    # A canonical alias must point at its own room.
    canonical = f"/rooms/{q(room)}/state/m.room.canonical_alias"
    ok = await api(http, s.base1, "PUT", canonical, a_tok, {"alias": alias})
    assert ok.status == 200, ok
    bad = await api(http, s.base1, "PUT", canonical, a_tok,
                    {"alias": alias, "alt_aliases": [f"#nowhere_{tag()}:{s.server_name}"]})
    assert_error(bad, 400, "M_BAD_ALIAS")
    assert_error(await api(http, s.base1, "PUT", canonical, a_tok, {"alias": "not an alias"}), 400, "M_INVALID_PARAM")

    # Bob neither made the alias nor may change the canonical alias (power 0 < 50).
    assert_error(await api(http, s.base2, "DELETE", path, b_tok), 403, "M_FORBIDDEN")
    deleted = await api(http, s.base1, "DELETE", path, a_tok)
    assert deleted.status == 200 and deleted.body == {}, deleted
    assert_error(await api(http, s.base2, "GET", path, b_tok), 404, "M_NOT_FOUND")
    assert_error(await api(http, s.base1, "DELETE", path, a_tok), 404, "M_NOT_FOUND")
    listed = await api(http, s.base1, "GET", f"/rooms/{q(room)}/aliases", a_tok)
    assert listed.body["aliases"] == [], listed
    # The deleted alias left the canonical alias event too.
    current = await state(http, s.base2, b_tok, room, "m.room.canonical_alias")
    assert current.status == 200 and "alias" not in current.body, current


async def test_room_member_with_power_may_delete_alias(http, settings, alice, bob, room):
    s = settings
    alias = f"#owned_{tag()}:{s.server_name}"
    path = f"/directory/room/{q(alias)}"
    made = await api(http, s.base2, "PUT", path, bob.user.access_token, {"room_id": room})
    assert made.status == 200, made
    # Alice did not create it but may change the canonical alias (she has power 100 as creator).
    deleted = await api(http, s.base1, "DELETE", path, alice.user.access_token)
    assert deleted.status == 200, deleted
    assert_error(await api(http, s.base1, "GET", path, alice.user.access_token), 404, "M_NOT_FOUND")


# --- published room directory ---------------------------------------------------


async def test_publish_room_and_find_it_by_search(http, settings, alice, bob):
    s = settings
    a_tok, b_tok = alice.user.access_token, bob.user.access_token
    t = tag()
    room_id = await create_room(http, s.base1, a_tok, preset="public_chat", name=f"Directory {t}",
                                topic=f"all about zebras{t}", room_alias_name=f"zoo{t}")
    await join(http, s.base2, b_tok, room_id)
    visibility = f"/directory/list/room/{q(room_id)}"

    got = await api(http, s.base2, "GET", visibility)
    assert got.status == 200 and got.body == {"visibility": "private"}, got
    assert (await search_public(http, s.base1, a_tok, t))["chunk"] == []

    # Bob (power 0) may not publish it; Alice may.
    assert_error(await api(http, s.base2, "PUT", visibility, b_tok, {"visibility": "public"}), 403, "M_FORBIDDEN")
    assert_error(await api(http, s.base1, "PUT", visibility, a_tok, {"visibility": "loud"}), 400, "M_INVALID_PARAM")
    assert (await api(http, s.base1, "PUT", visibility, a_tok, {"visibility": "public"})).status == 200
    got = await api(http, s.base2, "GET", visibility)
    assert got.body == {"visibility": "public"}, got

    # Found by name, topic, alias and room ID, from either process, with its details.
    for term, base in ((f"directory {t}", s.base1), (f"zebras{t}", s.base2), (f"zoo{t}", s.base1), (room_id, s.base2)):
        body = await search_public(http, base, b_tok, term)
        assert [r["room_id"] for r in body["chunk"]] == [room_id], (term, body)
        assert body["total_room_count_estimate"] == 1, body
    entry = (await search_public(http, s.base1, a_tok, t))["chunk"][0]
    assert entry["name"] == f"Directory {t}"
    assert entry["topic"] == f"all about zebras{t}"
    assert entry["canonical_alias"] == f"#zoo{t}:{s.server_name}"
    assert entry["num_joined_members"] == 2
    assert entry["join_rule"] == "public"
    assert entry["world_readable"] is False
    assert entry["guest_can_join"] is False
    assert "room_type" not in entry

    # Room types: untyped rooms match null, not m.space.
    assert (await search_public(http, s.base1, a_tok, t, filter={"generic_search_term": t, "room_types": [None]}))["chunk"]
    spaces = await search_public(http, s.base1, a_tok, t, filter={"generic_search_term": t, "room_types": ["m.space"]})
    assert spaces["chunk"] == [], spaces

    # Our own server name is the local list; another server is asked over federation, and
    # one that cannot be reached is a bad gateway.
    mine = await api(http, s.base1, "POST", "/publicRooms", a_tok, {"filter": {"generic_search_term": t}},
                     params={"server": s.server_name})
    assert [r["room_id"] for r in mine.body["chunk"]] == [room_id], mine
    assert_error(await api(http, s.base1, "POST", "/publicRooms", a_tok, {}, params={"server": "localhost:1"}),
                 502, "M_UNKNOWN")
    assert_error(await api(http, s.base1, "POST", "/publicRooms", a_tok, {}, params={"server": "not a name"}),
                 400, "M_INVALID_PARAM")

    # Unauthenticated GET lists it too.
    listed = await api(http, s.base2, "GET", "/publicRooms")
    assert listed.status == 200, listed
    assert room_id in [r["room_id"] for r in listed.body["chunk"]], listed

    # Unpublished, it is gone from searches.
    assert (await api(http, s.base1, "PUT", visibility, a_tok, {"visibility": "private"})).status == 200
    assert (await search_public(http, s.base2, b_tok, t))["chunk"] == []


async def test_public_rooms_pagination(http, settings, alice, bob):
    s = settings
    a_tok = alice.user.access_token
    t = tag()
    # Member counts 2, 1, 1: the largest first, then by room ID.
    rooms = [await create_room(http, s.base1, a_tok, preset="public_chat", visibility="public", name=f"page{t} {i}")
             for i in range(3)]
    await join(http, s.base2, bob.user.access_token, rooms[1])
    expected = [rooms[1]] + sorted([rooms[0], rooms[2]])

    first = await search_public(http, s.base1, a_tok, f"page{t}", limit=2)
    assert [r["room_id"] for r in first["chunk"]] == expected[:2], first
    assert first["total_room_count_estimate"] == 3
    assert "prev_batch" not in first and first.get("next_batch"), first
    assert first["chunk"][0]["num_joined_members"] == 2

    second = await search_public(http, s.base2, a_tok, f"page{t}", limit=2, since=first["next_batch"])
    assert [r["room_id"] for r in second["chunk"]] == expected[2:], second
    assert "next_batch" not in second and second.get("prev_batch"), second

    back = await search_public(http, s.base1, a_tok, f"page{t}", limit=2, since=second["prev_batch"])
    assert [r["room_id"] for r in back["chunk"]] == expected[:2], back
    assert back.get("next_batch") and "prev_batch" not in back, back

    # GET pages the same way.
    got = await api(http, s.base2, "GET", "/publicRooms", params={"limit": "1"})
    assert got.status == 200 and len(got.body["chunk"]) == 1 and got.body.get("next_batch"), got
    assert_error(await api(http, s.base1, "GET", "/publicRooms", params={"since": "garbage"}), 400, "M_INVALID_PARAM")


# --- user directory ------------------------------------------------------------


async def test_user_directory_finds_only_visible_users(http, settings, alice, bob, make_account, room):
    s = settings
    t = tag()
    carol = await make_account(s.base2, prefix="carol")
    name = f"Bobby {t}"
    assert isinstance(await bob.client.set_displayname(name), nio.ProfileSetDisplayNameResponse)
    a_tok = alice.user.access_token

    found = await api(http, s.base1, "POST", "/user_directory/search", a_tok, {"search_term": f"bobby {t}"})
    assert found.status == 200, found
    assert found.body["results"] == [{"user_id": bob.user.user_id, "display_name": name}], found
    assert found.body["limited"] is False
    by_id = await api(http, s.base2, "POST", "/user_directory/search", a_tok, {"search_term": bob.user.localpart})
    assert [r["user_id"] for r in by_id.body["results"]] == [bob.user.user_id], by_id

    # Carol shares no room with Alice and is in no public room: not found.
    hidden = await api(http, s.base1, "POST", "/user_directory/search", a_tok, {"search_term": carol.user.localpart})
    assert hidden.status == 200 and hidden.body["results"] == [], hidden

    # Once Carol joins a public room, anyone can find her.
    public = await create_room(http, s.base2, carol.user.access_token, preset="public_chat")
    assert public
    shown = await api(http, s.base1, "POST", "/user_directory/search", a_tok, {"search_term": carol.user.localpart})
    assert [r["user_id"] for r in shown.body["results"]] == [carol.user.user_id], shown

    # A limit below the matches says so.
    both = await api(http, s.base1, "POST", "/user_directory/search", a_tok, {"search_term": "_", "limit": 1})
    assert len(both.body["results"]) == 1 and both.body["limited"] is True, both
    assert_error(await api(http, s.base1, "POST", "/user_directory/search", a_tok, {}), 400, "M_MISSING_PARAM")


# --- room upgrades ----------------------------------------------------------------


async def test_room_upgrade_moves_everything_to_the_new_room(http, settings, alice, bob, room):
    s = settings
    a_tok, b_tok = alice.user.access_token, bob.user.access_token
    alias = f"#upgraded_{tag()}:{s.server_name}"
    assert (await api(http, s.base1, "PUT", f"/directory/room/{q(alias)}", a_tok, {"room_id": room})).status == 200
    assert (await api(http, s.base1, "PUT", f"/rooms/{q(room)}/state/m.room.canonical_alias", a_tok,
                      {"alias": alias})).status == 200
    assert (await api(http, s.base1, "PUT", f"/rooms/{q(room)}/state/m.room.topic", a_tok,
                      {"topic": "before the upgrade"})).status == 200
    assert (await api(http, s.base1, "PUT", f"/directory/list/room/{q(room)}", a_tok, {"visibility": "public"})).status == 200

    upgrade = f"/rooms/{q(room)}/upgrade"
    assert_error(await api(http, s.base2, "POST", upgrade, b_tok, {"new_version": "12"}), 403, "M_FORBIDDEN")
    assert_error(await api(http, s.base1, "POST", upgrade, a_tok, {"new_version": "999"}), 400, "M_UNSUPPORTED_ROOM_VERSION")
    done = await api(http, s.base1, "POST", upgrade, a_tok, {"new_version": "12"})
    assert done.status == 200, done
    new_room = done.body["replacement_room"]
    assert new_room != room

    # Bob sees the tombstone in the old room.
    tomb = await sync_until(
        bob.client, lambda r: find_event(timeline(r, room), type="m.room.tombstone"), what="the tombstone at bob")
    assert tomb["content"]["replacement_room"] == new_room
    assert tomb["sender"] == alice.user.user_id

    # The new room names its predecessor and carries the old settings.
    create = await state(http, s.base1, a_tok, new_room, "m.room.create")
    assert create.status == 200 and create.body["predecessor"]["room_id"] == room, create
    assert create.body["room_version"] == "12"
    assert (await state(http, s.base1, a_tok, new_room, "m.room.name")).body == {"name": "e2e room"}
    assert (await state(http, s.base1, a_tok, new_room, "m.room.topic")).body == {"topic": "before the upgrade"}
    old_rules = (await state(http, s.base1, a_tok, room, "m.room.join_rules")).body
    assert (await state(http, s.base1, a_tok, new_room, "m.room.join_rules")).body == old_rules
    assert (await state(http, s.base1, a_tok, new_room, "m.room.canonical_alias")).body == {"alias": alias}

    # The alias and the directory entry moved; Bob can follow and join.
    resolved = await api(http, s.base2, "GET", f"/directory/room/{q(alias)}", b_tok)
    assert resolved.body["room_id"] == new_room, resolved
    assert (await api(http, s.base2, "GET", f"/directory/list/room/{q(new_room)}")).body == {"visibility": "public"}
    assert (await api(http, s.base2, "GET", f"/directory/list/room/{q(room)}")).body == {"visibility": "private"}
    assert "alias" not in (await state(http, s.base1, a_tok, room, "m.room.canonical_alias")).body

    # The old room is closed to ordinary members.
    old_pl = (await state(http, s.base1, a_tok, room, "m.room.power_levels")).body
    assert old_pl["events_default"] == 50 and old_pl["invite"] == 50, old_pl
    refused = await api(http, s.base2, "PUT", f"/rooms/{q(room)}/send/m.room.message/{tag()}", b_tok,
                        {"msgtype": "m.text", "body": "too late"})
    assert_error(refused, 403, "M_FORBIDDEN")


async def test_room_upgrade_across_versions_keeps_power(http, settings, alice, bob):
    s = settings
    a_tok = alice.user.access_token
    old = await create_room(http, s.base1, a_tok, room_version="10", preset="public_chat",
                            power_level_content_override={"users": {bob.user.user_id: 50}})
    await join(http, s.base2, bob.user.access_token, old)
    up = await api(http, s.base1, "POST", f"/rooms/{q(old)}/upgrade", a_tok, {"new_version": "12"})
    assert up.status == 200, up
    v12 = up.body["replacement_room"]
    pl = (await state(http, s.base1, a_tok, v12, "m.room.power_levels")).body
    # In version 12 the creator is not listed (unlimited power); Bob keeps his level.
    assert alice.user.user_id not in pl["users"], pl
    assert pl["users"][bob.user.user_id] == 50, pl

    # Back to version 11: the former creator keeps the highest ordinary level.
    down = await api(http, s.base1, "POST", f"/rooms/{q(v12)}/upgrade", a_tok, {"new_version": "11"})
    assert down.status == 200, down
    v11 = down.body["replacement_room"]
    pl = (await state(http, s.base1, a_tok, v11, "m.room.power_levels")).body
    assert pl["users"][alice.user.user_id] == 100, pl
    assert pl["users"][bob.user.user_id] == 50, pl
    create = (await state(http, s.base1, a_tok, v11, "m.room.create")).body
    assert create["room_version"] == "11" and create["predecessor"]["room_id"] == v12, create


# --- reports ------------------------------------------------------------------------


async def test_report_event_and_room(http, settings, alice, bob, make_account, room):
    s = settings
    b_tok = bob.user.access_token
    carol = await make_account(s.base1, prefix="carol")
    event_id = await send_text(alice.client, room, "reportable")
    report = f"/rooms/{q(room)}/report/{q(event_id)}"

    ok = await api(http, s.base2, "POST", report, b_tok, {"reason": "rude", "score": -100})
    assert ok.status == 200 and ok.body == {}, ok
    assert (await api(http, s.base1, "POST", report, b_tok, {})).status == 200

    assert_error(await api(http, s.base2, "POST", report, b_tok, {"reason": "x", "score": 10}), 400, "M_INVALID_PARAM")
    assert_error(await api(http, s.base2, "POST", report, b_tok, {"reason": "x", "score": -101}), 400, "M_INVALID_PARAM")
    assert_error(await api(http, s.base2, "POST", report, b_tok, {"score": "bad"}), 400, "M_BAD_JSON")
    unknown = f"/rooms/{q(room)}/report/{q('$nosuchevent' + tag())}"
    assert_error(await api(http, s.base2, "POST", unknown, b_tok, {"reason": "x"}), 404, "M_NOT_FOUND")
    # Carol is not in the room, so for her the event does not exist.
    assert_error(await api(http, s.base1, "POST", report, carol.user.access_token, {"reason": "x"}), 404, "M_NOT_FOUND")

    # Rooms can be reported by anyone, but must exist.
    room_report = await api(http, s.base1, "POST", f"/rooms/{q(room)}/report", carol.user.access_token,
                            {"reason": "spam room"})
    assert room_report.status == 200 and room_report.body == {}, room_report
    nowhere = f"/rooms/{q(f'!nosuch{tag()}:{s.server_name}')}/report"
    assert_error(await api(http, s.base1, "POST", nowhere, b_tok, {"reason": "x"}), 404, "M_NOT_FOUND")
    assert_error(await api(http, s.base1, "POST", f"/rooms/{q(room)}/report", b_tok, {}), 400, "M_MISSING_PARAM")


# --- ignoring users -------------------------------------------------------------------


async def test_ignored_user_disappears_from_sync_and_messages(http, settings, alice, bob, make_account, room):
    s = settings
    a_tok = alice.user.access_token
    ignore = await api(http, s.base1, "PUT",
                       f"/user/{q(alice.user.user_id)}/account_data/m.ignored_user_list", a_tok,
                       {"ignored_users": {bob.user.user_id: {}}})
    assert ignore.status == 200, ignore
    await alice.client.sync(timeout=0)

    t = tag()
    hidden_id = await send_text(bob.client, room, f"hidden {t}")
    # Bob's state changes still reach Alice.
    assert isinstance(await bob.client.set_displayname(f"Renamed {t}"), nio.ProfileSetDisplayNameResponse)
    marker_id = await send_text(alice.client, room, f"marker {t}")

    seen: list[dict] = []

    def until_marker(resp):
        seen.extend(timeline(resp, room))
        return find_event(seen, event_id=marker_id)

    await sync_until(alice.client, until_marker, what="alice's marker after bob's message")
    assert find_event(seen, event_id=hidden_id) is None, seen
    rename = find_event(seen, type="m.room.member", state_key=bob.user.user_id, content__displayname=f"Renamed {t}")
    assert rename is not None, seen

    # /messages drops it too, on both processes; Bob still sees his own message.
    for base in (s.base1, s.base2):
        page = await api(http, base, "GET", f"/rooms/{q(room)}/messages", a_tok, params={"dir": "b", "limit": "20"})
        ids = [e["event_id"] for e in page.body["chunk"]]
        assert marker_id in ids and hidden_id not in ids, page
    page = await api(http, s.base2, "GET", f"/rooms/{q(room)}/messages", bob.user.access_token,
                     params={"dir": "b", "limit": "20"})
    assert hidden_id in [e["event_id"] for e in page.body["chunk"]], page

    # An invite from Bob never shows; one from Carol does.
    carol = await make_account(s.base2, prefix="carol")
    from_bob = await create_room(http, s.base2, bob.user.access_token, invite=[alice.user.user_id])
    from_carol = await create_room(http, s.base2, carol.user.access_token, invite=[alice.user.user_id])
    invites: set[str] = set()

    def until_carol(resp):
        invites.update(resp.rooms.invite)
        return from_carol in invites

    await sync_until(alice.client, until_carol, what="carol's invite at alice")
    assert from_bob not in invites, invites
    fresh = await api(http, s.base1, "GET", "/sync", a_tok, params={"timeout": "0"})
    assert from_carol in fresh.body["rooms"]["invite"] and from_bob not in fresh.body["rooms"]["invite"], fresh
