"""Workload (c): initial /sync of a user in many rooms with history (with and
without a timeline filter), and incremental /sync wake-up after one message."""
import json

from load import drive, gather_bounded, retrying, wakeups
from matrix import timeline_event_ids
from resources import measured

LIMIT1 = json.dumps({"room": {"timeline": {"limit": 1}}})


async def setup(base, tag, scale):
    user = await retrying(lambda: base.register(f"{tag}y"))
    rooms = await gather_bounded(
        [retrying(lambda i=i: user.create_room(f"history {i}")) for i in range(scale["sync_rooms"])], 8)
    await gather_bounded([retrying(lambda r=r, j=j: user.send_text(r, f"history {j}"))
                          for r in rooms for j in range(scale["sync_msgs"])], 16)
    return {"user": user, "rooms": rooms}


async def _wakeups(user, room, scale):
    return await wakeups(
        user, room, scale,
        poll=lambda since, timeout: user.sync(since, timeout_ms=timeout, filter_json=LIMIT1),
        token=lambda body: body["next_batch"],
        has_event=lambda body, eid: eid in set(timeline_event_ids(body, room)),
        label="wake")


async def run(target, st, scale):
    user, rooms = st["user"], st["rooms"]
    n, secs = scale["initial_sync_n"], scale["seconds"]
    return {
        "initial_sync_full": await measured(target, drive(n, 1, secs, lambda i: user.sync())),
        "initial_sync_limit1": await measured(target, drive(n, 1, secs, lambda i: user.sync(filter_json=LIMIT1))),
        "incremental_sync_wakeup": await measured(target, _wakeups(user, rooms[0], scale)),
    }
