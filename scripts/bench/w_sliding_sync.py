"""Placeholder for simplified sliding sync (MSC4186) latency: initial list
request and wake-up, same shape as w_sync. Not measured yet; main.py skips
workloads whose ENABLED is False."""
ENABLED = False


async def run(target, st, scale):
    return {}
