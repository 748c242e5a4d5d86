"""Workload (a): message send throughput and latency. One room with 16
senders at several concurrencies, then 64 rooms at concurrency 64."""
from load import drive, gather_bounded, retrying
from resources import measured

SENDERS = 16
ROOMS = 64


async def setup(base, tag):
    users = await gather_bounded([retrying(lambda i=i: base.register(f"{tag}s{i}")) for i in range(SENDERS)], 8)
    room = await retrying(lambda: users[0].create_room("bench send"))
    await gather_bounded([retrying(lambda u=u: u.join(room)) for u in users[1:]], 8)
    # Room i belongs to sender i % 16, so request i below always has a member.
    rooms = await gather_bounded(
        [retrying(lambda i=i: users[i % SENDERS].create_room(f"bench {i}")) for i in range(ROOMS)], 8)
    return {"users": users, "room": room, "rooms": rooms}


async def run(target, st, scale):
    users, room, rooms = st["users"], st["room"], st["rooms"]
    out = {}
    for c in (1, 16, 64):
        n = scale["send_n_c1"] if c == 1 else scale["send_n"]
        out[f"send_1room_c{c}"] = await measured(target, drive(
            n, c, scale["seconds"], lambda i: users[i % SENDERS].send_text(room, f"message {i}")))
    out["send_64rooms_c64"] = await measured(target, drive(
        scale["send_n"], 64, scale["seconds"],
        lambda i: users[i % SENDERS].send_text(rooms[i % ROOMS], f"message {i}")))
    return out
