"""A /sync long-poll on one process wakes as soon as another process
commits an event: the path Postgres -> Redis -> Notifier -> waiting request."""

from __future__ import annotations

import asyncio
import secrets
import time

import nio

from e2e_helpers import find_event, send_text, timeline

# How long Bob's sync must already have been waiting when Alice sends.
BLOCK_BEFORE_SEND = 1.5
# How soon after Alice's send returns Bob's sync must return.
WAKE_LIMIT = 0.100


async def test_sync_long_poll_wakes_across_processes(alice, bob, room):
    # Only this room's timeline may wake the sync: no presence, receipts,
    # typing or account data that could end the wait early.
    sync_filter = {
        "presence": {"types": []},
        "account_data": {"types": []},
        "room": {
            "rooms": [room],
            "ephemeral": {"types": []},
            "account_data": {"types": []},
            "state": {"types": []},
        },
    }
    # Catch Bob up so the long-poll starts from "nothing new".
    caught_up = await bob.client.sync(timeout=0, sync_filter=sync_filter)
    assert isinstance(caught_up, nio.SyncResponse), caught_up

    done_at: list[float] = []
    started = time.monotonic()
    # Bob is on process 2 (MYELIN_E2E_BASEURL2), Alice on process 1.
    waiting = asyncio.create_task(bob.client.sync(timeout=30000, sync_filter=sync_filter))
    waiting.add_done_callback(lambda _: done_at.append(time.monotonic()))

    await asyncio.sleep(BLOCK_BEFORE_SEND)
    assert not waiting.done(), (
        f"sync returned after {done_at[0] - started:.3f}s with nothing sent: "
        f"{waiting.result() if not waiting.exception() else waiting.exception()}"
    )

    body = f"wake up {secrets.token_hex(4)}"
    event_id = await send_text(alice.client, room, body)
    sent_at = time.monotonic()

    resp = await asyncio.wait_for(waiting, timeout=35)
    assert isinstance(resp, nio.SyncResponse), resp
    assert done_at, "sync task finished without its callback running"

    waited = done_at[0] - started
    wake_latency = done_at[0] - sent_at
    assert waited >= BLOCK_BEFORE_SEND, f"sync only blocked {waited:.3f}s"
    assert wake_latency < WAKE_LIMIT, (
        f"sync returned {wake_latency * 1000:.1f} ms after the send returned "
        f"(limit {WAKE_LIMIT * 1000:.0f} ms)"
    )
    got = find_event(timeline(resp, room), event_id=event_id)
    assert got is not None, f"the woken sync does not carry the new event: {timeline(resp, room)}"
    assert got["sender"] == alice.user.user_id
    assert got["content"]["body"] == body
