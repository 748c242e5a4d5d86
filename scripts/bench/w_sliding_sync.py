"""Simplified sliding sync (MSC4186) latency for the user of the /sync workload (many
rooms with history): the initial `room-list` request Element X sends first ([[0,19]],
its default required_state, timeline_limit 1), and the wake-up of a long-polling
connection after one message."""
import secrets

from load import drive, wakeups
from resources import measured

ENABLED = True
PATH = "/_matrix/client/unstable/org.matrix.simplified_msc3575/sync"
REQUIRED_STATE = [
    ["m.room.name", ""], ["m.room.encryption", ""], ["m.room.member", "$LAZY"], ["m.room.member", "$ME"],
    ["m.room.topic", ""], ["m.room.avatar", ""], ["m.room.canonical_alias", ""], ["m.room.power_levels", ""],
    ["org.matrix.msc3401.call.member", "*"], ["m.room.join_rules", ""], ["m.room.tombstone", ""],
    ["m.room.create", ""], ["m.room.history_visibility", ""], ["io.element.functional_members", ""],
    ["m.space.parent", "*"], ["m.space.child", "*"], ["org.matrix.msc3672.beacon_info", "*"],
]


def body(conn_id):
    return {"conn_id": conn_id, "lists": {"all_rooms": {
        "ranges": [[0, 19]], "timeline_limit": 1, "required_state": REQUIRED_STATE, "filters": {}}}}


async def request(user, conn_id, pos=None, timeout_ms=0):
    params = {"timeout": str(timeout_ms)}
    if pos:
        params["pos"] = pos
    _, data = await user.request("POST", PATH, body(conn_id), params=params, timeout=timeout_ms / 1000 + 60)
    return data


async def _initial(user):
    # A new connection each time, so every request is a full initial response.
    data = await request(user, f"bench-{secrets.token_hex(4)}")
    if not data.get("rooms"):
        raise RuntimeError("sliding sync returned no rooms")


async def _wakeups(user, room, scale):
    conn = f"bench-live-{secrets.token_hex(4)}"
    return await wakeups(
        user, room, scale,
        poll=lambda pos, timeout: request(user, conn, pos, timeout),
        token=lambda body: body["pos"],
        has_event=lambda body, eid: any(e.get("event_id") == eid
                                        for e in body.get("rooms", {}).get(room, {}).get("timeline", [])),
        label="ss wake")


async def run(target, st, scale):
    user, rooms = st["user"], st["rooms"]
    return {
        "sliding_sync_initial": await measured(
            target, drive(scale["initial_sync_n"], 1, scale["seconds"], lambda i: _initial(user))),
        "sliding_sync_wakeup": await measured(target, _wakeups(user, rooms[0], scale)),
    }
