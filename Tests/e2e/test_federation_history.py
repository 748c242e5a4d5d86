"""History of rooms created on Synapse: a Myelin user who joins late pages back through
/messages, and Myelin fetches the earlier events from Synapse (federation /backfill),
checks them, stores them as history and answers from them."""

from __future__ import annotations

import asyncio
import os
from urllib.parse import quote

import nio
import pytest

from e2e_helpers import CLIENT_V3, find_event, q, request, send_text, sync_until, timeline
from federation_helpers import AsSynapse

MESSAGES = 30


def backfills_served(settings, room_id: str) -> int | None:
    """How many /backfill requests for the room Synapse has answered, from its log (which
    scripts/test.sh keeps beside its signing key); None if that log is elsewhere."""
    log = os.path.join(os.path.dirname(settings.synapse_signing_key), "homeserver.log")
    if not os.path.exists(log):
        return None
    with open(log, encoding="utf-8", errors="replace") as f:
        return sum(1 for line in f if f"/_matrix/federation/v1/backfill/{quote(room_id, safe='')}" in line)


async def page_back(http, base: str, token: str, room_id: str, start: str, limit: int = 7) -> tuple[list[dict], list[dict]]:
    """Every event /messages returns going back from `start`, newest first, and the pages."""
    events, pages, frm = [], [], start
    for _ in range(40):
        r = await request(http, base, "GET", f"{CLIENT_V3}/rooms/{q(room_id)}/messages", token=token,
                          params={"dir": "b", "from": frm, "limit": str(limit)})
        assert r.status == 200, r
        pages.append(r.body)
        events += r.body["chunk"]
        if "end" not in r.body:
            return events, pages
        assert r.body["end"] != frm, r.body
        frm = r.body["end"]
    raise AssertionError("pagination did not end")


# Both event ID formats with the ID in the event (v1) and derived from it (v3, v4+), and
# the room ID of version 12.
@pytest.mark.parametrize("version", ["1", "3", "10", "12"])
async def test_late_joiner_pages_back_through_synapse_history(http, settings, myelin_account, synapse_account, version):
    syn, myl = synapse_account.client, myelin_account.client
    alias_name = "hist_" + synapse_account.user.localpart
    created = await syn.room_create(
        alias=alias_name, name="Old news", preset=nio.RoomPreset.public_chat, visibility=nio.RoomVisibility.public,
        room_version=version,
        initial_state=[{"type": "m.room.history_visibility", "state_key": "", "content": {"history_visibility": "shared"}}])
    assert isinstance(created, nio.RoomCreateResponse), created
    room_id = created.room_id
    sent = [await send_text(syn, room_id, f"history {i}") for i in range(1, MESSAGES + 1)]

    joined = await myl.join(f"#{alias_name}:{settings.synapse_server_name}")
    assert isinstance(joined, nio.JoinResponse) and joined.room_id == room_id, joined
    first = await myl.sync(timeout=0, full_state=True)
    assert isinstance(first, nio.SyncResponse), first
    prev_batch = first.rooms.join[room_id].timeline.prev_batch
    # The join starts what Myelin held: none of the history is in the initial timeline.
    assert not find_event(timeline(first, room_id), type="m.room.message"), timeline(first, room_id)

    token = myelin_account.user.access_token
    events, pages = await page_back(http, settings.base1, token, room_id, prev_batch)
    bodies = [e["content"].get("body") for e in events if e["type"] == "m.room.message"]
    assert bodies == [f"history {i}" for i in range(MESSAGES, 0, -1)], bodies
    assert [e["event_id"] for e in events if e["type"] == "m.room.message"] == sent[::-1]
    # The room's start: the create event comes last, and the last page has no `end`.
    assert events[-1]["type"] == "m.room.create", events[-1]
    assert events[-1]["sender"] == synapse_account.user.user_id
    assert "end" not in pages[-1]
    ids = [e["event_id"] for e in events]
    assert len(ids) == len(set(ids)), "an event came twice"
    # The history comes before the join, which the initial sync showed.
    assert find_event(timeline(first, room_id), type="m.room.member", state_key=myelin_account.user.user_id)
    assert not find_event(events, type="m.room.member", state_key=myelin_account.user.user_id)

    # Synapse logs a request once it has answered it: allow it a moment.
    for _ in range(50):
        fetched = backfills_served(settings, room_id)
        if fetched != 0:
            break
        await asyncio.sleep(0.1)
    assert fetched is None or fetched >= 1

    # Stored, not fetched again: the same answer from both processes (the second has no
    # cache of its own), and Myelin serves the events to other servers as its own copies.
    again, _ = await page_back(http, settings.base1, token, room_id, prev_batch, limit=11)
    assert [e["event_id"] for e in again] == ids
    other, _ = await page_back(http, settings.base2, token, room_id, prev_batch, limit=5)
    assert [e["event_id"] for e in other] == ids
    assert backfills_served(settings, room_id) == fetched
    peer = AsSynapse(settings)
    by_id = {e["event_id"]: e for e in events}
    for event_id in (sent[0], sent[MESSAGES // 2], events[-1]["event_id"]):
        status, body = await peer.request("GET", f"/_matrix/federation/v1/event/{quote(event_id, safe='')}")
        assert status == 200, body
        pdu, shown = body["pdus"][0], by_id[event_id]
        assert (pdu["type"], pdu["content"], pdu["origin_server_ts"]) == (shown["type"], shown["content"],
                                                                          shown["origin_server_ts"]), body

    # History is no news: an incremental sync after the backfill shows none of it, and a
    # new message still arrives as usual.
    await send_text(syn, room_id, "after the backfill")
    news = await sync_until(myl, lambda r: r if find_event(timeline(r, room_id), type="m.room.message",
                                                           content__body="after the backfill") else None,
                            timeout=30, what="a new message after the backfill")
    assert not any(e["content"].get("body", "").startswith("history ") for e in timeline(news, room_id)
                   if e["type"] == "m.room.message")

    # /messages forward from the room's start returns the history oldest first.
    r = await request(http, settings.base1, "GET", f"{CLIENT_V3}/rooms/{q(room_id)}/messages", token=token,
                      params={"dir": "f", "limit": "100"})
    assert r.status == 200, r
    forward = [e["content"]["body"] for e in r.body["chunk"] if e["type"] == "m.room.message"]
    assert forward[:MESSAGES] == [f"history {i}" for i in range(1, MESSAGES + 1)], forward


async def test_history_the_joiner_may_not_see_stays_hidden(http, settings, myelin_account, synapse_account):
    """Under `joined` visibility, what was said before the join stays unseen after paging back."""
    syn, myl = synapse_account.client, myelin_account.client
    alias_name = "hidden_" + synapse_account.user.localpart
    created = await syn.room_create(
        alias=alias_name, preset=nio.RoomPreset.public_chat, visibility=nio.RoomVisibility.public,
        initial_state=[{"type": "m.room.history_visibility", "state_key": "", "content": {"history_visibility": "joined"}}])
    assert isinstance(created, nio.RoomCreateResponse), created
    room_id = created.room_id
    for i in range(1, 6):
        await send_text(syn, room_id, f"private {i}")
    joined = await myl.join(f"#{alias_name}:{settings.synapse_server_name}")
    assert isinstance(joined, nio.JoinResponse), joined
    first = await myl.sync(timeout=0, full_state=True)
    assert isinstance(first, nio.SyncResponse), first
    await send_text(syn, room_id, "after the join")
    await sync_until(myl, lambda r: find_event(timeline(r, room_id), type="m.room.message", content__body="after the join"),
                     timeout=30, what="a message after the join")

    events, _ = await page_back(http, settings.base1, myelin_account.user.access_token, room_id,
                                first.rooms.join[room_id].timeline.prev_batch)
    assert not find_event(events, type="m.room.message"), events
    r = await request(http, settings.base1, "GET", f"{CLIENT_V3}/rooms/{q(room_id)}/messages",
                      token=myelin_account.user.access_token, params={"dir": "b", "limit": "50"})
    assert r.status == 200, r
    assert [e["content"].get("body") for e in r.body["chunk"] if e["type"] == "m.room.message"] == ["after the join"], r.body
