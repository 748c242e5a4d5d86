"""History visibility: what a user who joins later may read of earlier history."""

from __future__ import annotations

import nio
import pytest

from conftest import Account
from e2e_helpers import send_text, sync_until


async def join_later(alice: Account, bob: Account, visibility: str) -> tuple[str, str, str]:
    created = await alice.client.room_create(
        name=f"hv {visibility}",
        initial_state=[{"type": "m.room.history_visibility", "state_key": "",
                        "content": {"history_visibility": visibility}}],
    )
    assert isinstance(created, nio.RoomCreateResponse), created
    room_id = created.room_id
    before = await send_text(alice.client, room_id, "before bob")
    assert isinstance(await alice.client.room_invite(room_id, bob.user.user_id), nio.RoomInviteResponse)
    await sync_until(bob.client, lambda r: room_id in r.rooms.invite, what="invite")
    assert isinstance(await bob.client.join(room_id), nio.JoinResponse)
    after = await send_text(alice.client, room_id, "after bob")
    return room_id, before, after


async def bodies_seen_by(client: nio.AsyncClient, room_id: str) -> set[str]:
    resp = await client.room_messages(room_id, start="", limit=50, direction=nio.MessageDirection.back)
    assert isinstance(resp, nio.RoomMessagesResponse), resp
    return {e.source["event_id"] for e in resp.chunk}


@pytest.mark.parametrize("visibility,sees_before", [("joined", False), ("invited", False), ("shared", True)])
async def test_messages_respect_history_visibility(alice: Account, bob: Account, visibility: str, sees_before: bool):
    room_id, before, after = await join_later(alice, bob, visibility)
    seen = await bodies_seen_by(bob.client, room_id)
    assert after in seen
    assert (before in seen) == sees_before, (visibility, seen)
    # The event endpoint agrees with /messages.
    resp = await bob.client.room_get_event(room_id, before)
    assert isinstance(resp, nio.RoomGetEventResponse) == sees_before, resp
