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
