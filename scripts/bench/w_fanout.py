"""Workload (b): fan-out. 20 members of one room long-poll /sync; one sends.
Latency is from the send returning until all 20 have the event. A member that
got the event polls again once the round is over: the 20 clients share one
Python process, and re-issuing polls while the other responses are arriving
would count the client's own work as server delay."""
import asyncio
import json
import time

from load import gather_bounded, retrying
from matrix import timeline_event_ids
from resources import measured

MEMBERS = 20


async def setup(base, tag):
    users = await gather_bounded([retrying(lambda i=i: base.register(f"{tag}f{i}")) for i in range(MEMBERS)], 8)
    room = await retrying(lambda: users[0].create_room("bench fan-out"))
    await gather_bounded([retrying(lambda u=u: u.join(room)) for u in users[1:]], 8)
    return {"users": users, "room": room}


async def _fanout(st, scale):
    users, room = st["users"], st["room"]
    flt = json.dumps({"room": {"rooms": [room], "timeline": {"limit": 10}},
                      "presence": {"types": []}, "account_data": {"types": []}})
    seen = [dict() for _ in users]  # per member: event_id -> arrival time
    changed = asyncio.Condition()
    stop = asyncio.Event()
    round_over = asyncio.Event()
    round_over.set()
    since = [(await u.sync(filter_json=flt))["next_batch"] for u in users]

    async def poll(k):
        while not stop.is_set():
            body = await users[k].sync(since[k], timeout_ms=scale["longpoll_ms"], filter_json=flt)
            now = time.perf_counter()
            since[k] = body["next_batch"]
            got = list(timeline_event_ids(body, room))
            for eid in got:
                seen[k].setdefault(eid, now)
            async with changed:
                changed.notify_all()
            if got:
                await round_over.wait()

    pollers = [asyncio.create_task(poll(k)) for k in range(len(users))]
    lat, errors = [], 0
    t_end = time.monotonic() + scale["seconds"]
    try:
        for i in range(scale["fanout_n"]):
            if time.monotonic() > t_end:
                break
            await asyncio.sleep(0.2)  # let every member park its long-poll again
            round_over.clear()
            eid = await users[0].send_text(room, f"fan-out {i}")
            t_sent = time.perf_counter()
            try:
                async with changed:
                    await asyncio.wait_for(
                        changed.wait_for(lambda: all(eid in s for s in seen)), 10)
                lat.append(max(s[eid] for s in seen) - t_sent)
            except asyncio.TimeoutError:
                errors += 1
            round_over.set()
            for p in pollers:
                if p.done() and p.exception():
                    raise p.exception()
    finally:
        stop.set()
        round_over.set()
        for p in pollers:
            p.cancel()
        await asyncio.gather(*pollers, return_exceptions=True)
    return {"latencies": lat, "ok": len(lat), "errors": errors, "elapsed": 0.0, "rate": None}


async def run(target, st, scale):
    return {"fanout_20": await measured(target, _fanout(st, scale))}
