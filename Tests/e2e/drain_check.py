"""Graceful shutdown check, run by scripts/test.sh after the suite: a long-polling /sync
must return promptly with 200 when its server gets SIGTERM (blue/green switches rely on it).

usage: drain_check.py BASE_URL PID
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
import time

import aiohttp


async def main(base: str, pid: int) -> int:
    async with aiohttp.ClientSession() as http:
        name = f"drain_{secrets.token_hex(4)}"
        async with http.post(f"{base}/_matrix/client/v3/register",
                             json={"username": name, "password": "pw", "auth": {"type": "m.login.dummy"}}) as r:
            token = (await r.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        async with http.get(f"{base}/_matrix/client/v3/sync", headers=headers) as r:
            since = (await r.json())["next_batch"]

        async def long_poll():
            async with http.get(f"{base}/_matrix/client/v3/sync", headers=headers,
                                params={"since": since, "timeout": "30000"}) as r:
                return r.status, time.monotonic()

        poll = asyncio.create_task(long_poll())
        await asyncio.sleep(1.0)
        if poll.done():
            print("drain check: the long-poll returned before SIGTERM", file=sys.stderr)
            return 1
        sent = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        status, returned = await asyncio.wait_for(poll, 20)
        elapsed = returned - sent
        print(f"drain check: long-poll answered {status} {elapsed * 1000:.0f} ms after SIGTERM")
        return 0 if status == 200 and elapsed < 5 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], int(sys.argv[2]))))
