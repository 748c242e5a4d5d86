"""Rooms shared with Synapse: rooms of every room version created on Synapse (a Synapse
user invites a Myelin user, who joins; messages go both ways; the Myelin user's topic
reaches Synapse), restricted rooms on either side (members of the allowing room join,
others are refused), and state changed on each side converging."""

from __future__ import annotations

import asyncio
import time

import nio
import pytest
from synapse.api.room_versions import KNOWN_ROOM_VERSIONS

from e2e_helpers import CLIENT_V3, find_event, q, request, send_text, sync_until, timeline

VERSIONS = [str(v) for v in range(1, 13) if str(v) in KNOWN_ROOM_VERSIONS]


def state_event(resp: nio.SyncResponse, room_id: str, type_: str) -> dict | None:
    """A state event of a joined room, from the timeline or the state section."""
    room = resp.rooms.join.get(room_id)
    if not room:
        return None
    events = [e.source for e in room.state] + [e.source for e in room.timeline.events]
    return find_event(events[::-1], type=type_)


async def synced(client: nio.AsyncClient) -> None:
    resp = await client.sync(timeout=0)
    assert isinstance(resp, nio.SyncResponse), resp


async def wait_for_message(client: nio.AsyncClient, room_id: str, body: str, what: str) -> dict:
    return await sync_until(
        client, lambda r: find_event(timeline(r, room_id), type="m.room.message", content__body=body),
        timeout=30, what=what)


async def synapse_room(http, settings, creator, version: str, extra_users: dict[str, int], **fields) -> str:
    # From version 12 the creator's power is unlimited and must not be listed.
    users = extra_users if version == "12" else {creator.user.user_id: 100, **extra_users}
    body = {"room_version": version, "preset": "public_chat", "name": f"Synapse v{version}",
            "power_level_content_override": {"users": users}, **fields}
    r = await request(http, settings.synapse_url, "POST", f"{CLIENT_V3}/createRoom", token=creator.user.access_token,
                      json_body=body)
    assert r.status == 200, r
    return r.body["room_id"]


async def join_via(http, base: str, account, room_id: str, server: str):
    return await request(http, base, "POST", f"{CLIENT_V3}/join/{q(room_id)}", token=account.user.access_token,
                         params={"server_name": server}, json_body={})


@pytest.mark.parametrize("version", VERSIONS)
async def test_rooms_of_every_version_created_on_synapse(http, settings, myelin_account, synapse_account, version):
    syn, myl = synapse_account.client, myelin_account.client
    me = myelin_account.user.user_id
    room_id = await synapse_room(http, settings, synapse_account, version, {me: 50})
    await synced(myl)
    invited = await syn.room_invite(room_id, me)
    assert isinstance(invited, nio.RoomInviteResponse), invited
    await sync_until(myl, lambda r: room_id in r.rooms.invite, timeout=30, what=f"the v{version} invite in Myelin's sync")
    r = await join_via(http, settings.base1, myelin_account, room_id, settings.synapse_server_name)
    assert r.status == 200 and r.body["room_id"] == room_id, r
    await sync_until(syn, lambda r: find_event(timeline(r, room_id), type="m.room.member", state_key=me,
                                               content__membership="join"),
                     timeout=30, what=f"Myelin's join of the v{version} room in Synapse's sync")

    await synced(myl)
    await send_text(myl, room_id, f"from Myelin in v{version}")
    await wait_for_message(syn, room_id, f"from Myelin in v{version}", "Myelin's message in Synapse's sync")
    await send_text(syn, room_id, f"from Synapse in v{version}")
    await wait_for_message(myl, room_id, f"from Synapse in v{version}", "Synapse's message in Myelin's sync")

    topic = f"set on Myelin in v{version}"
    r = await request(http, settings.base1, "PUT", f"{CLIENT_V3}/rooms/{q(room_id)}/state/m.room.topic/",
                      token=myelin_account.user.access_token, json_body={"topic": topic})
    assert r.status == 200, r
    await sync_until(syn, lambda r: (e := state_event(r, room_id, "m.room.topic")) and e["content"].get("topic") == topic,
                     timeout=30, what="Myelin's topic in Synapse's sync")
    r = await request(http, settings.synapse_url, "GET", f"{CLIENT_V3}/rooms/{q(room_id)}/state/m.room.topic/",
                      token=synapse_account.user.access_token)
    assert r.status == 200 and r.body["topic"] == topic, r


# --- Restricted rooms, both ways ------------------------------------------------------

def restricted_to(allowing_room: str) -> dict:
    return {"type": "m.room.join_rules", "state_key": "",
            "content": {"join_rule": "restricted", "allow": [{"type": "m.room_membership", "room_id": allowing_room}]}}


async def test_a_synapse_restricted_room_admits_myelin_members_of_the_allowing_room(
        http, settings, make_account, myelin_account, synapse_account):
    outsider = await make_account(settings.base1, prefix="myl")
    me = myelin_account.user.user_id
    allowing = await synapse_room(http, settings, synapse_account, "10", {})
    r = await join_via(http, settings.base1, myelin_account, allowing, settings.synapse_server_name)
    assert r.status == 200, r
    room_id = await synapse_room(http, settings, synapse_account, "10", {}, initial_state=[restricted_to(allowing)])

    r = await join_via(http, settings.base1, outsider, room_id, settings.synapse_server_name)
    assert r.status == 403 and r.body["errcode"] == "M_FORBIDDEN", r
    r = await join_via(http, settings.base1, myelin_account, room_id, settings.synapse_server_name)
    assert r.status == 200 and r.body["room_id"] == room_id, r
    joined = await sync_until(synapse_account.client, lambda r: find_event(
        timeline(r, room_id), type="m.room.member", state_key=me, content__membership="join"),
        timeout=30, what="the restricted join in Synapse's sync")
    assert joined["content"].get("join_authorised_via_users_server") == synapse_account.user.user_id, joined
    r = await request(http, settings.synapse_url, "GET", f"{CLIENT_V3}/rooms/{q(room_id)}/joined_members",
                      token=synapse_account.user.access_token)
    assert me in r.body["joined"] and outsider.user.user_id not in r.body["joined"], r


async def test_a_myelin_restricted_room_admits_synapse_members_of_the_allowing_room(
        http, settings, make_account, myelin_account, synapse_account):
    outsider = await make_account(settings.synapse_url, via="admin", prefix="syn")
    them = synapse_account.user.user_id
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/createRoom", token=myelin_account.user.access_token,
                      json_body={"preset": "public_chat", "room_version": "10", "name": "Allowing"})
    assert r.status == 200, r
    allowing = r.body["room_id"]
    r = await join_via(http, settings.synapse_url, synapse_account, allowing, settings.server_name)
    assert r.status == 200, r
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/createRoom", token=myelin_account.user.access_token,
                      json_body={"preset": "public_chat", "room_version": "10", "name": "Members only",
                                 "initial_state": [restricted_to(allowing)]})
    assert r.status == 200, r
    room_id = r.body["room_id"]

    r = await join_via(http, settings.synapse_url, outsider, room_id, settings.server_name)
    assert r.status == 403, r
    r = await join_via(http, settings.synapse_url, synapse_account, room_id, settings.server_name)
    assert r.status == 200 and r.body["room_id"] == room_id, r
    r = await request(http, settings.base1, "GET", f"{CLIENT_V3}/rooms/{q(room_id)}/joined_members",
                      token=myelin_account.user.access_token)
    assert them in r.body["joined"] and outsider.user.user_id not in r.body["joined"], r


# --- State changes on each side converge ----------------------------------------------

async def room_state(http, base: str, account, room_id: str) -> dict:
    r = await request(http, base, "GET", f"{CLIENT_V3}/rooms/{q(room_id)}/state", token=account.user.access_token)
    assert r.status == 200, r
    return {(e["type"], e["state_key"]): (e["event_id"], e["content"]) for e in r.body}


async def put_state(http, base: str, account, room_id: str, type_: str, content: dict) -> None:
    r = await request(http, base, "PUT", f"{CLIENT_V3}/rooms/{q(room_id)}/state/{type_}/",
                      token=account.user.access_token, json_body=content)
    assert r.status == 200, r


async def converged(http, settings, myelin_account, synapse_account, room_id: str, check) -> dict:
    """Both servers' /state of the room, once they agree and `check` holds for it."""
    deadline = time.monotonic() + 30
    while True:
        mine = await room_state(http, settings.base1, myelin_account, room_id)
        theirs = await room_state(http, settings.synapse_url, synapse_account, room_id)
        if mine == theirs and check(mine):
            return mine
        if time.monotonic() > deadline:
            raise AssertionError(f"the servers' state did not converge:\nMyelin  {mine}\nSynapse {theirs}")
        await asyncio.sleep(0.5)


@pytest.mark.parametrize("creator", ["synapse", "myelin"])
async def test_name_topic_and_power_levels_set_on_each_side_converge(http, settings, myelin_account, synapse_account,
                                                                      creator):
    me, them = myelin_account.user.user_id, synapse_account.user.user_id
    if creator == "synapse":
        room_id = await synapse_room(http, settings, synapse_account, "10", {me: 100})
        r = await join_via(http, settings.base1, myelin_account, room_id, settings.synapse_server_name)
    else:
        r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/createRoom", token=myelin_account.user.access_token,
                          json_body={"preset": "public_chat", "room_version": "10",
                                     "power_level_content_override": {"users": {me: 100, them: 100}}})
        assert r.status == 200, r
        room_id = r.body["room_id"]
        r = await join_via(http, settings.synapse_url, synapse_account, room_id, settings.server_name)
    assert r.status == 200, r
    await converged(http, settings, myelin_account, synapse_account, room_id,
                    lambda s: s.get(("m.room.member", me), (0, {}))[1].get("membership") == "join"
                    and s.get(("m.room.member", them), (0, {}))[1].get("membership") == "join")

    await put_state(http, settings.synapse_url, synapse_account, room_id, "m.room.name", {"name": "named on Synapse"})
    await put_state(http, settings.base1, myelin_account, room_id, "m.room.topic", {"topic": "topic from Myelin"})
    state = await converged(http, settings, myelin_account, synapse_account, room_id,
                            lambda s: s.get(("m.room.name", ""), (0, {}))[1].get("name") == "named on Synapse"
                            and s.get(("m.room.topic", ""), (0, {}))[1].get("topic") == "topic from Myelin")

    # Power levels changed on one side, then the other, each building on the last.
    pl = dict(state[("m.room.power_levels", "")][1])
    pl["events"] = {**pl.get("events", {}), "m.room.topic": 75}
    await put_state(http, settings.base1, myelin_account, room_id, "m.room.power_levels", pl)
    await converged(http, settings, myelin_account, synapse_account, room_id,
                    lambda s: s[("m.room.power_levels", "")][1].get("events", {}).get("m.room.topic") == 75)
    pl["events"] = {**pl["events"], "m.room.name": 80}
    await put_state(http, settings.synapse_url, synapse_account, room_id, "m.room.power_levels", pl)
    await put_state(http, settings.synapse_url, synapse_account, room_id, "m.room.topic", {"topic": "topic from Synapse"})
    state = await converged(http, settings, myelin_account, synapse_account, room_id,
                            lambda s: s[("m.room.power_levels", "")][1].get("events", {}).get("m.room.name") == 80
                            and s[("m.room.topic", "")][1].get("topic") == "topic from Synapse")
    assert state[("m.room.topic", "")][1]["topic"] == "topic from Synapse"
