"""Workload (c): initial /sync of a user in many rooms with history (with and
without a timeline filter), and incremental /sync wake-up after one message."""
import asyncio
import json
import time

from load import drive, gather_bounded, retrying
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
    since = (await user.sync(filter_json=LIMIT1))["next_batch"]
    lat, errors = [], 0
    t_end = time.monotonic() + scale["seconds"]
    for i in range(scale["wakeup_n"]):
        if time.monotonic() > t_end:
            break
        poll = asyncio.create_task(user.sync(since, timeout_ms=scale["longpoll_ms"], filter_json=LIMIT1))
        await asyncio.sleep(0.1)  # the long-poll is parked before the send
        eid = await user.send_text(room, f"wake {i}")
        t_sent = time.perf_counter()
        got = False
        for _ in range(5):  # a wake-up for something else: poll again, bounded
            body = await poll
            since = body["next_batch"]
            if eid in set(timeline_event_ids(body, room)):
                got = True
                break
            poll = asyncio.create_task(user.sync(since, timeout_ms=scale["longpoll_ms"], filter_json=LIMIT1))
        if got:
            lat.append(time.perf_counter() - t_sent)
        else:
            errors += 1
    return {"latencies": lat, "ok": len(lat), "errors": errors, "elapsed": 0.0, "rate": None}


async def run(target, st, scale):
    user, rooms = st["user"], st["rooms"]
    n, secs = scale["initial_sync_n"], scale["seconds"]
    return {
        "initial_sync_full": await measured(target, drive(n, 1, secs, lambda i: user.sync())),
        "initial_sync_limit1": await measured(target, drive(n, 1, secs, lambda i: user.sync(filter_json=LIMIT1))),
        "incremental_sync_wakeup": await measured(target, _wakeups(user, rooms[0], scale)),
    }
