"""Rooms end to end: invite and join, messages both ways, edits, reactions,
redactions, pagination, transaction-id idempotency, leaving.

Alice talks to process 1 and Bob to process 2 (see conftest), so every
delivery here also crosses processes through Postgres and Redis."""

from __future__ import annotations

import secrets
import uuid

import nio

from conftest import create_shared_room
from e2e_helpers import (
    CLIENT_V1,
    CLIENT_V3,
    find_event,
    q,
    request,
    send_text,
    sync_until,
    timeline,
)


def seen(client_room: str, **fields):
    """Sync predicate: the first timeline event in the room matching fields."""
    return lambda resp: find_event(timeline(resp, client_room), **fields)


async def test_invite_join_and_exchange_messages(alice, bob):
    room_id = await create_shared_room(alice, bob)

    hello = f"hello bob {secrets.token_hex(4)}"
    hello_id = await send_text(alice.client, room_id, hello)
    got = await sync_until(
        bob.client, seen(room_id, event_id=hello_id), what="alice's message at bob"
    )
    assert got["sender"] == alice.user.user_id
    assert got["type"] == "m.room.message"
    assert got["content"]["body"] == hello
    assert got["content"]["msgtype"] == "m.text"

    reply = f"hi alice {secrets.token_hex(4)}"
    reply_id = await send_text(bob.client, room_id, reply)
    got = await sync_until(
        alice.client, seen(room_id, event_id=reply_id), what="bob's message at alice"
    )
    assert got["sender"] == bob.user.user_id
    assert got["content"]["body"] == reply

    # Each sees their own message echoed too, with the same event ID.
    own = await sync_until(
        bob.client, seen(room_id, event_id=reply_id), what="bob's own message echoed"
    )
    assert own["sender"] == bob.user.user_id


async def test_edit_and_reaction_visible_in_relations_and_sync(http, settings, alice, bob, room):
    original_id = await send_text(alice.client, room, "original text")

    edit = await alice.client.room_send(
        room,
        "m.room.message",
        {
            "msgtype": "m.text",
            "body": "* edited text",
            "m.new_content": {"msgtype": "m.text", "body": "edited text"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": original_id},
        },
    )
    assert isinstance(edit, nio.RoomSendResponse), edit
    reaction = await bob.client.room_send(
        room,
        "m.reaction",
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": original_id, "key": "👍"}},
    )
    assert isinstance(reaction, nio.RoomSendResponse), reaction

    # /relations on both processes lists both children with their relation.
    base_path = f"{CLIENT_V1}/rooms/{q(room)}/relations/{q(original_id)}"
    for base in (settings.base1, settings.base2):
        rel = await request(http, base, "GET", base_path, token=alice.user.access_token)
        assert rel.status == 200, rel
        by_id = {e["event_id"]: e for e in rel.body["chunk"]}
        assert set(by_id) == {edit.event_id, reaction.event_id}, rel
        assert by_id[edit.event_id]["content"]["m.relates_to"]["rel_type"] == "m.replace"
        assert by_id[edit.event_id]["content"]["m.new_content"]["body"] == "edited text"
        assert by_id[edit.event_id]["sender"] == alice.user.user_id
        assert by_id[reaction.event_id]["type"] == "m.reaction"
        assert by_id[reaction.event_id]["content"]["m.relates_to"]["key"] == "👍"
        assert by_id[reaction.event_id]["sender"] == bob.user.user_id

    # Filtering by relation type narrows the list.
    only_annotations = await request(
        http, settings.base2, "GET", f"{base_path}/m.annotation", token=bob.user.access_token
    )
    assert only_annotations.status == 200, only_annotations
    assert [e["event_id"] for e in only_annotations.body["chunk"]] == [reaction.event_id]
    only_edits = await request(
        http, settings.base1, "GET", f"{base_path}/m.replace/m.room.message",
        token=bob.user.access_token,
    )
    assert only_edits.status == 200, only_edits
    assert [e["event_id"] for e in only_edits.body["chunk"]] == [edit.event_id]

    # And both arrive through /sync with the relation intact.
    wanted = {original_id, edit.event_id, reaction.event_id}
    got: dict[str, dict] = {}

    def collect(resp):
        for ev in timeline(resp, room):
            if ev.get("event_id") in wanted:
                got[ev["event_id"]] = ev
        return got.keys() == wanted

    await sync_until(bob.client, collect, what="the edit and the reaction at bob")
    assert got[edit.event_id]["content"]["m.relates_to"] == {
        "rel_type": "m.replace",
        "event_id": original_id,
    }
    assert got[reaction.event_id]["content"]["m.relates_to"] == {
        "rel_type": "m.annotation",
        "event_id": original_id,
        "key": "👍",
    }


async def test_redaction_removes_content(http, settings, alice, bob, room):
    secret = f"secret {secrets.token_hex(4)}"
    target_id = await send_text(alice.client, room, secret)
    event_path = f"{CLIENT_V3}/rooms/{q(room)}/event/{q(target_id)}"

    before = await request(http, settings.base2, "GET", event_path, token=bob.user.access_token)
    assert before.status == 200, before
    assert before.body["content"]["body"] == secret

    redaction = await alice.client.room_redact(room, target_id, reason="oops")
    assert isinstance(redaction, nio.RoomRedactResponse), redaction

    for base, token in ((settings.base1, alice.user.access_token), (settings.base2, bob.user.access_token)):
        after = await request(http, base, "GET", event_path, token=token)
        assert after.status == 200, after
        assert after.body["event_id"] == target_id
        assert after.body["type"] == "m.room.message"
        assert after.body["sender"] == alice.user.user_id
        assert after.body["content"] == {}, f"content survived the redaction: {after}"
        assert secret not in after.text

    # Bob's sync carries the redaction event pointing at the message.
    def redaction_seen(resp):
        for ev in timeline(resp, room):
            if ev.get("event_id") == redaction.event_id:
                return ev
        return None

    ev = await sync_until(bob.client, redaction_seen, what="the redaction at bob")
    assert ev["type"] == "m.room.redaction"
    # Room versions before 11 put `redacts` at the top level, 11 in content.
    assert target_id in (ev.get("redacts"), ev.get("content", {}).get("redacts")), ev


async def test_pagination_backwards_and_forwards(alice, bob, room):
    # Bob's position before the burst, so the next sync has a gap.
    await bob.client.sync(timeout=0)
    tag = secrets.token_hex(4)
    bodies = [f"page {tag} {i:02d}" for i in range(12)]
    for body in bodies:
        await send_text(alice.client, room, body)

    def ours(events) -> list[str]:
        return [
            e["content"]["body"]
            for e in events
            if e.get("type") == "m.room.message"
            and str(e.get("content", {}).get("body", "")).startswith(f"page {tag} ")
        ]

    resp = await bob.client.sync(timeout=0, sync_filter={"room": {"timeline": {"limit": 3}}})
    assert isinstance(resp, nio.SyncResponse), resp
    assert room in resp.rooms.join, f"no update for the room after 12 messages: {resp}"
    room_tl = resp.rooms.join[room].timeline
    assert ours(e.source for e in room_tl.events) == bodies[-3:]
    assert room_tl.limited, "a 12-message gap with limit 3 must be flagged limited"
    assert room_tl.prev_batch

    # Backwards from prev_batch: newest first, older pages after, no gaps.
    backwards: list[str] = []
    first_page: list[str] | None = None
    first_page_end = None
    token = room_tl.prev_batch
    for _ in range(20):
        page = await bob.client.room_messages(
            room, start=token, direction=nio.MessageDirection.back, limit=4
        )
        assert isinstance(page, nio.RoomMessagesResponse), page
        names = ours(e.source for e in page.chunk)
        backwards += names
        if first_page is None:
            first_page, first_page_end = names, page.end
        if bodies[0] in backwards or not page.end or not page.chunk:
            break
        token = page.end
    assert backwards == list(reversed(bodies[:-3])), backwards
    assert first_page and first_page_end, "the first backwards page must say where to go on"

    # Forwards from the end of the first backwards page: that page's
    # messages again in order, then the ones sync already showed, then stop.
    forwards: list[str] = []
    token = first_page_end
    for _ in range(20):
        page = await bob.client.room_messages(
            room, start=token, direction=nio.MessageDirection.front, limit=4
        )
        assert isinstance(page, nio.RoomMessagesResponse), page
        forwards += ours(e.source for e in page.chunk)
        if not page.chunk or not page.end or page.end == token:
            break
        token = page.end
    start_index = bodies.index(first_page[-1])
    assert forwards == bodies[start_index:], forwards


async def test_same_txn_id_gives_same_event(http, settings, alice, room):
    txn = f"txn-{uuid.uuid4().hex}"
    content = {"msgtype": "m.text", "body": f"once {txn}"}
    first = await alice.client.room_send(room, "m.room.message", content, tx_id=txn)
    second = await alice.client.room_send(room, "m.room.message", content, tx_id=txn)
    assert isinstance(first, nio.RoomSendResponse), first
    assert isinstance(second, nio.RoomSendResponse), second
    assert first.event_id == second.event_id

    # Retried on the other process, still the same event (the transaction
    # belongs to the access token, not the process).
    path = f"{CLIENT_V3}/rooms/{q(room)}/send/m.room.message/{q(txn)}"
    third = await request(
        http, settings.base2, "PUT", path, token=alice.user.access_token, json_body=content
    )
    assert third.status == 200, third
    assert third.body["event_id"] == first.event_id

    # Exactly one such message in the room.
    sync = await alice.client.sync(timeout=0)
    assert isinstance(sync, nio.SyncResponse), sync
    page = await alice.client.room_messages(room, start=sync.next_batch, limit=20)
    assert isinstance(page, nio.RoomMessagesResponse), page
    copies = [e for e in page.chunk if e.source.get("content", {}).get("body") == content["body"]]
    assert len(copies) == 1, [e.source for e in copies]


async def test_leave_shows_room_in_leave_section(alice, bob, room):
    await bob.client.sync(timeout=0)
    left = await bob.client.room_leave(room)
    assert isinstance(left, nio.RoomLeaveResponse), left

    def in_leave(resp: nio.SyncResponse):
        return room in resp.rooms.leave and room not in resp.rooms.join

    await sync_until(bob.client, in_leave, what="the room in bob's leave section")

    def alice_sees_leave(resp):
        return find_event(
            timeline(resp, room),
            type="m.room.member",
            state_key=bob.user.user_id,
            content__membership="leave",
        )

    ev = await sync_until(alice.client, alice_sees_leave, what="bob's leave at alice")
    assert ev["sender"] == bob.user.user_id
