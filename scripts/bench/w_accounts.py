"""Workload (d): register, login and createRoom rates."""
import itertools

from load import drive
from resources import measured

_round = itertools.count()


async def run(target, base, tag, scale):
    # Fresh names every repetition: a second register of a name would fail.
    tag = f"{tag}a{next(_round)}x"
    n, c, secs = scale["accounts_n"], 8, scale["seconds"]
    users = {}

    async def reg(i):
        users[i] = await base.register(f"{tag}{i}")

    out = {"register": await measured(target, drive(n, c, secs, reg))}
    names = sorted(users)
    if not names:
        return out
    out["login"] = await measured(target, drive(
        n, c, secs, lambda i: base.login(f"{tag}{names[i % len(names)]}")))
    out["create_room"] = await measured(target, drive(
        n, c, secs, lambda i: users[names[i % len(names)]].create_room()))
    return out
