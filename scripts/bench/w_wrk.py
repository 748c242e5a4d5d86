"""Workload (a, raw): send throughput with wrk, which is not limited by the
Python client's CPU. The 16 senders of the send workload take turns in one
room, at each concurrency, for a fixed duration."""
import asyncio
import itertools
import os
import re
import shutil
from urllib.parse import quote, urlparse

from resources import measured

LUA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "send.lua")
_round = itertools.count()


async def _wrk(target, users, room, connections, scale):
    env = {**os.environ, "BENCH_TOKENS": ",".join(u.token for u in users), "BENCH_ROOM": quote(room, safe=""),
           "BENCH_TXN": f"wrk{os.getpid()}r{next(_round)}"}
    u = urlparse(target.url)
    proc = await asyncio.create_subprocess_exec(
        "wrk", "-t2", f"-c{connections}", f"-d{scale['wrk_seconds']}s", "--timeout", "10s",
        "-s", LUA, f"{u.scheme}://{u.netloc}/", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), scale["wrk_seconds"] + 30)
    m = re.search(r"BENCH requests=(\d+) duration_us=(\d+) non2xx=(\d+) sockerr=(\d+) p50_us=(\d+) p99_us=(\d+)",
                  out.decode())
    if not m:
        raise RuntimeError(f"wrk failed: {out.decode()[-500:]}")
    req, dur, non2xx, sockerr, p50, p99 = map(int, m.groups())
    ok = req - non2xx
    return {"ok": ok, "errors": non2xx + sockerr, "elapsed": dur / 1e6, "rate": ok / (dur / 1e6),
            "wrk_p50_ms": p50 / 1000, "wrk_p99_ms": p99 / 1000, "latencies": []}


def available():
    return shutil.which("wrk") is not None


async def run(target, st, scale):
    out = {}
    for c in scale["wrk_connections"]:
        out[f"wrk_send_c{c}"] = await measured(target, _wrk(target, st["users"], st["room"], c, scale))
    return out
