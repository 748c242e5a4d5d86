"""Federation through real process failures: Myelin's outbound federation sender runs as
a process of its own (scripts/test.sh starts it beside `myelin serve
--all --without-federation-sender`), and Synapse is a real peer. A sender killed with
SIGKILL mid-stream, and a Synapse stopped for a minute, both end with Synapse's user
seeing every message exactly once and in order."""

from __future__ import annotations

import asyncio
import signal
import time

import aiohttp
import pytest

from e2e_helpers import CLIENT_V3, find_event, q, random_localpart, request, send_text, sync_until, timeline
from processes import ManagedProcess


async def shared_room(http, settings, myelin_account, synapse_account) -> str:
    """A public Myelin room the Synapse user has joined, as Myelin's user has seen."""
    created = await request(http, settings.base1, "POST", f"{CLIENT_V3}/createRoom", token=myelin_account.user.access_token,
                            json_body={"preset": "public_chat"})
    assert created.status == 200, created
    room_id = created.body["room_id"]
    resp = await request(http, settings.synapse_url, "POST", f"{CLIENT_V3}/join/{q(room_id)}",
                         token=synapse_account.user.access_token, json_body={}, params={"server_name": settings.server_name})
    assert resp.status == 200, resp
    await sync_until(myelin_account.client, lambda r: find_event(
        timeline(r, room_id), type="m.room.member", state_key=synapse_account.user.user_id), timeout=30,
        what="Synapse's join in Myelin's sync")
    return room_id


async def synapse_bodies(settings, synapse_account, room_id: str, tag: str) -> list[str]:
    """Bodies of the room's messages carrying `tag`, oldest first, as Synapse's user reads
    them from Synapse's /messages. A fresh session each time: Synapse may have restarted."""
    async with aiohttp.ClientSession() as http:
        r = await request(http, settings.synapse_url, "GET", f"{CLIENT_V3}/rooms/{q(room_id)}/messages",
                          token=synapse_account.user.access_token, params={"dir": "b", "limit": "500"})
    assert r.status == 200, r
    bodies = [e["content"].get("body", "") for e in r.body["chunk"] if e["type"] == "m.room.message"]
    return [b for b in reversed(bodies) if b.startswith(tag)]


async def until_synapse_has(settings, synapse_account, room_id: str, tag: str, want: list[str], timeout: float,
                            what: str) -> list[str]:
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        seen = await synapse_bodies(settings, synapse_account, room_id, tag)
        if set(want) <= set(seen):
            return seen
        await asyncio.sleep(0.5)
    missing = [b for b in want if b not in seen]
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; missing {missing}")


async def send_numbered(myelin_account, room_id: str, tag: str, numbers) -> list[str]:
    sent = []
    for i in numbers:
        body = f"{tag} {i:03d}"
        await send_text(myelin_account.client, room_id, body)
        sent.append(body)
    return sent


@pytest.mark.timeout(180)
async def test_a_killed_sender_restarts_and_delivers_everything_once_in_order(
        http, settings, myelin_account, synapse_account):
    sender = ManagedProcess(settings.sender_process)
    assert sender.alive(), "the federation sender is not running"
    room_id = await shared_room(http, settings, myelin_account, synapse_account)
    tag = random_localpart("kill")

    sent = await send_numbered(myelin_account, room_id, tag, range(1, 4))
    await until_synapse_has(settings, synapse_account, room_id, tag, sent, 30, "the first messages")
    # Killed while messages are being sent: some may be in a transaction in flight.
    sent += await send_numbered(myelin_account, room_id, tag, range(4, 12))
    await sender.stop(signal.SIGKILL)
    assert not sender.alive()

    # No sender runs: nothing new reaches Synapse (process 1 has no sender of its own).
    during = await send_numbered(myelin_account, room_id, tag, range(12, 22))
    sent += during
    await asyncio.sleep(3)
    seen = await synapse_bodies(settings, synapse_account, room_id, tag)
    assert not set(during) & set(seen), f"delivered with no sender running: {seen}"

    # A new sender process resumes from the positions in Postgres.
    await sender.start()
    sent += await send_numbered(myelin_account, room_id, tag, range(22, 31))
    seen = await until_synapse_has(settings, synapse_account, room_id, tag, sent, 60, "every message after the restart")
    assert seen == sent, f"not exactly once and in order: {seen}"


@pytest.mark.timeout(300)
async def test_every_message_arrives_in_order_after_synapse_was_down_for_a_minute(
        http, settings, myelin_account, synapse_account):
    synapse = ManagedProcess(settings.synapse_process)
    assert synapse.alive(), "Synapse is not running"
    room_id = await shared_room(http, settings, myelin_account, synapse_account)
    tag = random_localpart("down")

    sent = await send_numbered(myelin_account, room_id, tag, range(1, 4))
    await until_synapse_has(settings, synapse_account, room_id, tag, sent, 30, "the messages before the outage")

    await synapse.stop(signal.SIGTERM)
    try:
        # Myelin's users keep talking for a minute while Synapse is really gone.
        down_since, n = time.monotonic(), 4
        while time.monotonic() - down_since < 60:
            assert not synapse.alive()
            sent += await send_numbered(myelin_account, room_id, tag, [n])
            n += 1
            await asyncio.sleep(2)
    finally:
        # Same command, config and database: the rest of the suite needs it back.
        await synapse.start(timeout=240)
    back = time.monotonic()

    # Synapse's user speaks first, so Synapse contacts Myelin, whose sender then stops
    # waiting out its backoff; then everything sent meanwhile arrives, once, in order.
    async with aiohttp.ClientSession() as fresh:
        r = await request(fresh, settings.synapse_url, "PUT",
                          f"{CLIENT_V3}/rooms/{q(room_id)}/send/m.room.message/{random_localpart('txn')}",
                          token=synapse_account.user.access_token, json_body={"msgtype": "m.text", "body": f"{tag} back"})
    assert r.status == 200, r
    seen = await until_synapse_has(settings, synapse_account, room_id, tag, sent, 60, "the messages sent during the outage")
    assert [b for b in seen if b != f"{tag} back"] == sent, f"not exactly once and in order: {seen}"
    assert time.monotonic() - back < 60
    await sync_until(myelin_account.client, lambda r: find_event(
        timeline(r, room_id), type="m.room.message", content__body=f"{tag} back"), timeout=30,
        what="Synapse's message on Myelin after its restart")


async def log_lines_after(path: str, offset: int, needle: str, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path, "rb") as f:
            f.seek(offset)
            if needle.encode() in f.read():
                return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} in {path}")


@pytest.mark.timeout(300)
async def test_a_to_device_message_survives_a_sender_killed_while_synapse_was_down(
        http, settings, myelin_account, synapse_account):
    from test_federation import initial_since

    sender, synapse = ManagedProcess(settings.sender_process), ManagedProcess(settings.synapse_process)
    alice, bob = myelin_account.user, synapse_account.user
    since = await initial_since(http, settings.synapse_url, synapse_account)
    await synapse.stop(signal.SIGTERM)
    try:
        with open(sender.log, "rb") as f:
            offset = f.seek(0, 2)
        r = await request(http, settings.base1, "PUT", f"{CLIENT_V3}/sendToDevice/org.example.outage/{random_localpart('txn')}",
                          token=alice.access_token,
                          json_body={"messages": {bob.user_id: {bob.device_id: {"kept": "through a crash"}}}})
        assert r.status == 200, r
        # The sender has taken the message and found Synapse gone; then it dies.
        await log_lines_after(sender.log, offset, f"{settings.synapse_server_name}/_matrix/federation/v1/send/", 30,
                              "the sender's failed attempt")
        await sender.stop(signal.SIGKILL)
        await sender.start()
    finally:
        await synapse.start(timeout=240)

    # Back up: the new sender delivers what the dead one had taken, once.
    deadline, got = time.monotonic() + 90, []
    async with aiohttp.ClientSession() as fresh:
        while time.monotonic() < deadline and not got:
            r = await request(fresh, settings.synapse_url, "GET", f"{CLIENT_V3}/sync", token=bob.access_token,
                              params={"timeout": "5000", "since": since})
            assert r.status == 200, r
            since = r.body["next_batch"]
            got = [e["content"] for e in r.body.get("to_device", {}).get("events", [])
                   if e["sender"] == alice.user_id and e["type"] == "org.example.outage"]
        assert got == [{"kept": "through a crash"}], got
        # And never again.
        r = await request(fresh, settings.synapse_url, "GET", f"{CLIENT_V3}/sync", token=bob.access_token,
                          params={"timeout": "3000", "since": since})
        assert r.status == 200, r
        assert not [e for e in r.body.get("to_device", {}).get("events", []) if e["type"] == "org.example.outage"], r
