"""A closed-loop driver: N operations over C workers, bounded in count and
time, timing each operation."""
import asyncio
import os
import random
import sys
import time


async def drive(n, concurrency, seconds, op):
    """Runs op(i) for i in 0..n-1 on `concurrency` workers until n are done or
    `seconds` have passed. Returns a dict with latencies (s), ok, errors,
    elapsed wall time and the load generator's own CPU seconds."""
    nxt = 0
    lat, errors, first_error = [], 0, None
    deadline = time.monotonic() + seconds

    async def worker():
        nonlocal nxt, errors, first_error
        while nxt < n and time.monotonic() < deadline:
            i = nxt
            nxt += 1
            t0 = time.perf_counter()
            try:
                await op(i)
                lat.append(time.perf_counter() - t0)
            except Exception as e:  # a failed request is counted, not fatal
                errors += 1
                first_error = first_error or repr(e)

    cpu0, t0 = os.times(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, n)))))
    elapsed = time.perf_counter() - t0
    cpu1 = os.times()
    return {
        "latencies": lat, "ok": len(lat), "errors": errors, "first_error": first_error,
        "elapsed": elapsed, "rate": len(lat) / elapsed if elapsed > 0 else 0.0,
        "client_cpu": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system),
    }


async def gather_bounded(coros, concurrency):
    """Setup helper: runs coroutines with at most `concurrency` in flight."""
    sem = asyncio.Semaphore(concurrency)

    async def one(c):
        async with sem:
            return await c

    return await asyncio.gather(*(one(c) for c in coros))


async def retrying(make, attempts=6):
    """Setup helper: retries a request that failed with a server error, so a
    transient 5xx does not abort a whole workload's setup. Counted in
    SETUP_RETRIES, which the report prints."""
    global SETUP_RETRIES
    for attempt in range(attempts):
        try:
            return await make()
        except Exception as e:
            status = getattr(e, "status", 0)
            if attempt == attempts - 1 or (status and status < 500):
                raise
            SETUP_RETRIES += 1
            print(f"    setup retry after: {e!r}", file=sys.stderr, flush=True)
            # Jittered, so requests that failed together do not retry together.
            await asyncio.sleep(random.uniform(0.05, 0.5) * (attempt + 1))


SETUP_RETRIES = 0


async def wakeups(user, room, scale, poll, token, has_event, label):
    """Wake-up latency of a long-poll: `poll(token)` parks a request, a message is sent,
    and the time until a response containing it (`has_event(body, event_id)`) is recorded.
    `token(body)` gives the position for the next poll. Used by /sync and sliding sync."""
    pos = token(await poll(None, 0))
    lat, errors = [], 0
    t_end = time.monotonic() + scale["seconds"]
    for i in range(scale["wakeup_n"]):
        if time.monotonic() > t_end:
            break
        pending = asyncio.create_task(poll(pos, scale["longpoll_ms"]))
        await asyncio.sleep(0.1)  # the long-poll is parked before the send
        eid = await user.send_text(room, f"{label} {i}")
        t_sent = time.perf_counter()
        got = False
        for _ in range(5):  # woken by something else: poll again, bounded
            body = await pending
            pos = token(body)
            if has_event(body, eid):
                got = True
                break
            pending = asyncio.create_task(poll(pos, scale["longpoll_ms"]))
        if got:
            lat.append(time.perf_counter() - t_sent)
        else:
            errors += 1
    return {"latencies": lat, "ok": len(lat), "errors": errors, "elapsed": 0.0, "rate": None}
