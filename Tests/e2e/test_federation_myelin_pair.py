"""Two independent Myelin servers federating as real processes: the first (A, the one the
rest of the suite uses) and server B (scripts/test.sh: its own database, Redis database,
signing key and server name). Every test runs both ways round: the room lives on one
server and a user of the other comes in. Joins of public, invite-only and restricted
rooms; messages; state changes that converge; typing and receipts; device keys and
to-device messages; profiles and aliases."""

from __future__ import annotations

import time
from dataclasses import dataclass

import nio
import pytest

from conftest import Account
from e2e_helpers import CLIENT_V3, find_event, q, random_localpart, request, send_text, sync_until, timeline


@dataclass
class Side:
    base: str
    name: str


@dataclass
class Pair:
    home: Side   # where the rooms are created
    guest: Side  # the other server, whose users come in


@pytest.fixture(params=["room_on_a", "room_on_b"])
def pair(request, settings) -> Pair:
    a, b = Side(settings.base1, settings.server_name), Side(settings.b_base, settings.b_server_name)
    return Pair(a, b) if request.param == "room_on_a" else Pair(b, a)


@pytest.fixture
async def host(make_account, pair) -> Account:
    return await make_account(pair.home.base, prefix="host")


@pytest.fixture
async def guest(make_account, pair) -> Account:
    return await make_account(pair.guest.base, prefix="guest")


async def create_room(http, side: Side, account: Account, **body) -> str:
    r = await request(http, side.base, "POST", f"{CLIENT_V3}/createRoom", token=account.user.access_token, json_body=body)
    assert r.status == 200, r
    return r.body["room_id"]


async def join(http, side: Side, account: Account, target: str, via: str | None = None):
    params = {"server_name": via} if via else None
    return await request(http, side.base, "POST", f"{CLIENT_V3}/join/{q(target)}", token=account.user.access_token,
                         json_body={}, params=params)


async def joined_in(http, pair: Pair, host: Account, guest: Account, room_id: str) -> None:
    r = await join(http, pair.guest, guest, room_id, via=pair.home.name)
    assert r.status == 200 and r.body["room_id"] == room_id, r
    await sees_member(host, room_id, guest.user.user_id, "join")


async def sees_member(account: Account, room_id: str, user_id: str, membership: str) -> None:
    await sync_until(account.client, lambda r: find_event(
        timeline(r, room_id), type="m.room.member", state_key=user_id, content__membership=membership),
        timeout=30, what=f"{user_id} {membership} in {account.user.user_id}'s sync")


async def sees_message(account: Account, room_id: str, body: str) -> dict:
    return await sync_until(account.client, lambda r: find_event(
        timeline(r, room_id), type="m.room.message", content__body=body), timeout=30,
        what=f"{body!r} in {account.user.user_id}'s sync")


async def synced(account: Account) -> None:
    resp = await account.client.sync(timeout=0)
    assert isinstance(resp, nio.SyncResponse), resp


async def talk_both_ways(host: Account, guest: Account, room_id: str) -> None:
    await synced(host)
    await synced(guest)
    await send_text(host.client, room_id, "from the room's server")
    await sees_message(guest, room_id, "from the room's server")
    await send_text(guest.client, room_id, "from the other server")
    await sees_message(host, room_id, "from the other server")


def invite_of(room_id: str, user_id: str):
    def check(resp: nio.SyncResponse):
        info = resp.rooms.invite.get(room_id)
        if not info:
            return None
        return next((e for e in info.invite_state if isinstance(e, nio.InviteMemberEvent) and e.state_key == user_id), None)
    return check


async def test_a_user_joins_the_other_servers_public_room(http, pair, host, guest):
    alias_name = random_localpart("pub")
    room_id = await create_room(http, pair.home, host, preset="public_chat", room_alias_name=alias_name, name="Public square")
    await send_text(host.client, room_id, "before the guest came")
    r = await join(http, pair.guest, guest, f"#{alias_name}:{pair.home.name}")
    assert r.status == 200 and r.body["room_id"] == room_id, r
    await sees_member(host, room_id, guest.user.user_id, "join")
    resp = await guest.client.sync(timeout=0, full_state=True)
    assert isinstance(resp, nio.SyncResponse) and room_id in resp.rooms.join, resp
    assert guest.client.rooms[room_id].name == "Public square"
    await talk_both_ways(host, guest, room_id)


async def test_an_invite_only_room_is_joined_through_an_invite(http, pair, host, guest):
    room_id = await create_room(http, pair.home, host, preset="private_chat", name="Invite only")
    # Not invited yet: the room's server refuses the join.
    refused = await join(http, pair.guest, guest, room_id, via=pair.home.name)
    assert refused.status == 403 and refused.errcode == "M_FORBIDDEN", refused

    invited = await host.client.room_invite(room_id, guest.user.user_id)
    assert isinstance(invited, nio.RoomInviteResponse), invited
    member = await sync_until(guest.client, invite_of(room_id, guest.user.user_id), timeout=30, what="the invite")
    assert member.sender == host.user.user_id
    assert guest.client.invited_rooms[room_id].name == "Invite only"
    accepted = await guest.client.join(room_id)
    assert isinstance(accepted, nio.JoinResponse) and accepted.room_id == room_id, accepted
    await sees_member(host, room_id, guest.user.user_id, "join")
    await talk_both_ways(host, guest, room_id)


async def test_a_restricted_room_admits_members_of_the_allowed_room(http, pair, host, guest, make_account):
    lobby = await create_room(http, pair.home, host, preset="public_chat", name="Lobby")
    await joined_in(http, pair, host, guest, lobby)
    restricted = await create_room(http, pair.home, host, preset="private_chat", name="Members of the lobby",
                                   initial_state=[{"type": "m.room.join_rules", "state_key": "",
                                                   "content": {"join_rule": "restricted",
                                                               "allow": [{"type": "m.room_membership", "room_id": lobby}]}}])
    # A user of the guest's server who is not in the lobby stays out.
    outsider = await make_account(pair.guest.base, prefix="outsider")
    refused = await join(http, pair.guest, outsider, restricted, via=pair.home.name)
    assert refused.status == 403 and refused.errcode == "M_FORBIDDEN", refused

    await joined_in(http, pair, host, guest, restricted)
    r = await request(http, pair.home.base, "GET", f"{CLIENT_V3}/rooms/{q(restricted)}/state/m.room.member/{q(guest.user.user_id)}",
                      token=host.user.access_token)
    assert r.status == 200 and r.body["membership"] == "join", r
    # The join names a user of the room's server who vouched for the guest.
    state = await request(http, pair.home.base, "GET", f"{CLIENT_V3}/rooms/{q(restricted)}/state", token=host.user.access_token)
    member = next(e for e in state.body if e["type"] == "m.room.member" and e["state_key"] == guest.user.user_id)
    assert member["content"].get("join_authorised_via_users_server") == host.user.user_id, member
    await talk_both_ways(host, guest, restricted)


async def state_of(http, side: Side, account: Account, room_id: str) -> dict:
    r = await request(http, side.base, "GET", f"{CLIENT_V3}/rooms/{q(room_id)}/state", token=account.user.access_token)
    assert r.status == 200, r
    return {(e["type"], e["state_key"]): e["event_id"] for e in r.body}


async def test_state_changes_on_both_sides_converge(http, pair, host, guest):
    room_id = await create_room(http, pair.home, host, preset="public_chat")
    await joined_in(http, pair, host, guest, room_id)

    async def put_state(side: Side, account: Account, type_: str, content: dict, state_key: str = "") -> str:
        r = await request(http, side.base, "PUT", f"{CLIENT_V3}/rooms/{q(room_id)}/state/{type_}/{q(state_key)}",
                          token=account.user.access_token, json_body=content)
        assert r.status == 200, r
        return r.body["event_id"]

    # The room's server renames it and lets the guest moderate; the guest then sets the
    # topic and lowers what changing the name takes.
    await put_state(pair.home, host, "m.room.name", {"name": "Renamed at home"})
    pl = await request(http, pair.home.base, "GET", f"{CLIENT_V3}/rooms/{q(room_id)}/state/m.room.power_levels/",
                       token=host.user.access_token)
    assert pl.status == 200, pl
    levels = pl.body
    levels["users"][guest.user.user_id] = 50
    levels.setdefault("events", {})["m.room.topic"] = 50
    levels["events"]["m.room.power_levels"] = 50
    levels["events"]["m.room.name"] = 50
    last = await put_state(pair.home, host, "m.room.power_levels", levels)
    await sync_until(guest.client, lambda r: find_event(timeline(r, room_id), event_id=last), timeout=30,
                     what="the power levels on the guest's server")
    await put_state(pair.guest, guest, "m.room.topic", {"topic": "Set by the guest"})
    guest_levels = {**levels, "events": {**levels["events"], "m.room.name": 0}}
    last = await put_state(pair.guest, guest, "m.room.power_levels", guest_levels)
    await sync_until(host.client, lambda r: find_event(timeline(r, room_id), event_id=last), timeout=30,
                     what="the guest's power levels at home")

    deadline = time.monotonic() + 30
    while True:
        home, away = await state_of(http, pair.home, host, room_id), await state_of(http, pair.guest, guest, room_id)
        if home == away:
            break
        assert time.monotonic() < deadline, f"state differs: {set(home.items()) ^ set(away.items())}"
        await sync_until(host.client, lambda r: True, timeout=5)
    r = await request(http, pair.home.base, "GET", f"{CLIENT_V3}/rooms/{q(room_id)}/state/m.room.topic/",
                      token=host.user.access_token)
    assert r.status == 200 and r.body["topic"] == "Set by the guest", r
    r = await request(http, pair.guest.base, "GET", f"{CLIENT_V3}/rooms/{q(room_id)}/state/m.room.name/",
                      token=guest.user.access_token)
    assert r.status == 200 and r.body["name"] == "Renamed at home", r
    r = await request(http, pair.guest.base, "GET", f"{CLIENT_V3}/rooms/{q(room_id)}/state/m.room.power_levels/",
                      token=guest.user.access_token)
    assert r.status == 200 and r.body["events"]["m.room.name"] == 0 and r.body["users"][guest.user.user_id] == 50, r


async def test_typing_and_receipts_cross_over(http, pair, host, guest):
    room_id = await create_room(http, pair.home, host, preset="public_chat")
    await joined_in(http, pair, host, guest, room_id)
    await synced(guest)

    def typing_of(user_id: str):
        def check(resp: nio.SyncResponse):
            room = resp.rooms.join.get(room_id)
            return room and any(isinstance(e, nio.TypingNoticeEvent) and user_id in e.users for e in room.ephemeral)
        return check

    def receipt_of(user_id: str, event_id: str):
        def check(resp: nio.SyncResponse):
            room = resp.rooms.join.get(room_id)
            return room and any(isinstance(e, nio.ReceiptEvent) and any(
                rc.user_id == user_id and rc.event_id == event_id for rc in e.receipts) for e in room.ephemeral)
        return check

    for typist, watcher in ((host, guest), (guest, host)):
        typing = await typist.client.room_typing(room_id, True, timeout=20000)
        assert isinstance(typing, nio.RoomTypingResponse), typing
        await sync_until(watcher.client, typing_of(typist.user.user_id), timeout=30,
                         what=f"{typist.user.user_id} typing on the other server")

    for writer, reader in ((host, guest), (guest, host)):
        body = f"read this, {random_localpart()}"
        event_id = await send_text(writer.client, room_id, body)
        await sees_message(reader, room_id, body)
        read = await reader.client.update_receipt_marker(room_id, event_id)
        assert isinstance(read, nio.UpdateReceiptMarkerResponse), read
        await sync_until(writer.client, receipt_of(reader.user.user_id, event_id), timeout=30,
                         what=f"{reader.user.user_id}'s receipt on the other server")


async def test_device_keys_and_to_device_messages_cross_over(http, pair, host, guest):
    from test_federation import initial_since, to_device_of, upload_device_keys

    for owner, owner_side, asker, asker_side in ((host, pair.home, guest, pair.guest), (guest, pair.guest, host, pair.home)):
        key = await upload_device_keys(http, owner_side.base, owner)
        user, device = owner.user.user_id, owner.user.device_id
        r = await request(http, asker_side.base, "POST", f"{CLIENT_V3}/keys/query", token=asker.user.access_token,
                          json_body={"device_keys": {user: []}})
        assert r.status == 200, r
        assert r.body["device_keys"][user][device]["keys"][f"ed25519:{device}"] == key, r
        assert not r.body.get("failures"), r
        claimed = await request(http, asker_side.base, "POST", f"{CLIENT_V3}/keys/claim", token=asker.user.access_token,
                                json_body={"one_time_keys": {user: {device: "signed_curve25519"}}})
        assert claimed.status == 200, claimed
        assert "signed_curve25519:AAAAAQ" in claimed.body["one_time_keys"][user][device], claimed

        since = await initial_since(http, owner_side.base, owner)
        txn = random_localpart("txn")
        r = await request(http, asker_side.base, "PUT", f"{CLIENT_V3}/sendToDevice/org.example.pair/{txn}",
                          token=asker.user.access_token,
                          json_body={"messages": {user: {device: {"hello": owner_side.name}}}})
        assert r.status == 200, r
        got = await to_device_of(http, owner_side.base, owner, asker.user.user_id, "org.example.pair", since,
                                 "the to-device message from the other server")
        assert got == [{"hello": owner_side.name}], got


async def test_profiles_and_aliases_are_looked_up_across(http, pair, host, guest):
    name = f"Host {random_localpart()}"
    r = await request(http, pair.home.base, "PUT", f"{CLIENT_V3}/profile/{q(host.user.user_id)}/displayname",
                      token=host.user.access_token, json_body={"displayname": name})
    assert r.status == 200, r
    r = await request(http, pair.guest.base, "GET", f"{CLIENT_V3}/profile/{q(host.user.user_id)}", token=guest.user.access_token)
    assert r.status == 200 and r.body.get("displayname") == name, r
    r = await request(http, pair.guest.base, "GET", f"{CLIENT_V3}/profile/{q(host.user.user_id)}/displayname")
    assert r.status == 200 and r.body == {"displayname": name}, r
    missing = await request(http, pair.guest.base, "GET", f"{CLIENT_V3}/profile/{q('@nobody_here:' + pair.home.name)}",
                            token=guest.user.access_token)
    assert missing.status == 404, missing

    alias_name = random_localpart("alias")
    room_id = await create_room(http, pair.home, host, preset="public_chat", room_alias_name=alias_name)
    found = await request(http, pair.guest.base, "GET", f"{CLIENT_V3}/directory/room/{q(f'#{alias_name}:{pair.home.name}')}")
    assert found.status == 200 and found.body["room_id"] == room_id, found
    assert pair.home.name in found.body["servers"], found
    absent = await request(http, pair.guest.base, "GET", f"{CLIENT_V3}/directory/room/{q(f'#no_{alias_name}:{pair.home.name}')}")
    assert absent.status == 404 and absent.errcode == "M_NOT_FOUND", absent


def left_with(room_id: str, user_id: str, membership: str, sender: str):
    """The room in the `leave` section of a sync, with `sender`'s member event that put it there."""
    def check(resp: nio.SyncResponse):
        info = resp.rooms.leave.get(room_id)
        if not info:
            return None
        return find_event([e.source for e in info.timeline.events], type="m.room.member", state_key=user_id,
                          sender=sender, content__membership=membership)
    return check


async def test_leaving_kicks_and_bans_cross_over(http, pair, host, guest):
    room_id = await create_room(http, pair.home, host, preset="public_chat")
    await joined_in(http, pair, host, guest, room_id)

    left = await guest.client.room_leave(room_id)
    assert isinstance(left, nio.RoomLeaveResponse), left
    await sees_member(host, room_id, guest.user.user_id, "leave")

    # Kicked and banned: the guest's server is told, though none of its users stays in the room.
    await joined_in(http, pair, host, guest, room_id)
    await synced(guest)
    kicked = await host.client.room_kick(room_id, guest.user.user_id, reason="out you go")
    assert isinstance(kicked, nio.RoomKickResponse), kicked
    kick = await sync_until(guest.client, left_with(room_id, guest.user.user_id, "leave", host.user.user_id), timeout=30,
                            what="the kick in the guest's sync")
    assert kick["content"].get("reason") == "out you go", kick

    await joined_in(http, pair, host, guest, room_id)
    await synced(guest)
    banned = await host.client.room_ban(room_id, guest.user.user_id, reason="for good")
    assert isinstance(banned, nio.RoomBanResponse), banned
    await sync_until(guest.client, left_with(room_id, guest.user.user_id, "ban", host.user.user_id), timeout=30,
                     what="the ban in the guest's sync")
    refused = await join(http, pair.guest, guest, room_id, via=pair.home.name)
    assert refused.status == 403 and refused.errcode == "M_FORBIDDEN", refused


async def test_redactions_cross_over(http, pair, host, guest):
    room_id = await create_room(http, pair.home, host, preset="public_chat")
    await joined_in(http, pair, host, guest, room_id)
    await synced(guest)
    for writer, writer_side, reader, reader_side in ((host, pair.home, guest, pair.guest), (guest, pair.guest, host, pair.home)):
        body = f"regret {random_localpart()}"
        event_id = await send_text(writer.client, room_id, body)
        await sees_message(reader, room_id, body)
        redacted = await writer.client.room_redact(room_id, event_id, reason="oops")
        assert isinstance(redacted, nio.RoomRedactResponse), redacted

        def redaction_seen(r: nio.SyncResponse, target: str = event_id):
            events = timeline(r, room_id)
            return (find_event(events, type="m.room.redaction", redacts=target)
                    or find_event(events, type="m.room.redaction", content__redacts=target))
        await sync_until(reader.client, redaction_seen, timeout=30, what="the redaction on the other server")
        r = await request(http, reader_side.base, "GET", f"{CLIENT_V3}/rooms/{q(room_id)}/event/{q(event_id)}",
                          token=reader.user.access_token)
        assert r.status == 200 and r.body["content"] == {}, r


async def test_device_list_changes_reach_the_other_server(http, pair, host, guest):
    from test_federation import device_list_changed, initial_since, upload_device_keys

    room_id = await create_room(http, pair.home, host, preset="public_chat")
    await joined_in(http, pair, host, guest, room_id)
    for changer, changer_side, watcher, watcher_side in ((host, pair.home, guest, pair.guest),
                                                        (guest, pair.guest, host, pair.home)):
        await upload_device_keys(http, changer_side.base, changer)
        since = await initial_since(http, watcher_side.base, watcher)
        renewed = await upload_device_keys(http, changer_side.base, changer, one_time=False)
        await device_list_changed(http, watcher_side.base, watcher, changer.user.user_id, since,
                                  "the device change on the other server")
        user, device = changer.user.user_id, changer.user.device_id
        r = await request(http, watcher_side.base, "POST", f"{CLIENT_V3}/keys/query", token=watcher.user.access_token,
                          json_body={"device_keys": {user: []}})
        assert r.status == 200 and r.body["device_keys"][user][device]["keys"][f"ed25519:{device}"] == renewed, r


async def test_a_rejected_invite_reaches_the_inviter(http, pair, host, guest):
    room_id = await create_room(http, pair.home, host, preset="private_chat")
    invited = await host.client.room_invite(room_id, guest.user.user_id)
    assert isinstance(invited, nio.RoomInviteResponse), invited
    await sync_until(guest.client, invite_of(room_id, guest.user.user_id), timeout=30, what="the invite")
    rejected = await guest.client.room_leave(room_id)
    assert isinstance(rejected, nio.RoomLeaveResponse), rejected
    await sees_member(host, room_id, guest.user.user_id, "leave")
    r = await request(http, pair.home.base, "GET", f"{CLIENT_V3}/rooms/{q(room_id)}/state/m.room.member/{q(guest.user.user_id)}",
                      token=host.user.access_token)
    assert r.status == 200 and r.body["membership"] == "leave", r
