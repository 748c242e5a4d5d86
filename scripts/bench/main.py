"""Benchmark driver: runs every workload against every target, interleaved
(A, B, A, B) so machine noise hits all of them, then prints and saves the
comparison. Started by scripts/bench.sh, which owns the servers."""
import argparse
import asyncio
import itertools
import json
import os
import sys
import time

import load
import report
import w_accounts
import w_fanout
import w_send
import w_sliding_sync
import w_sync
import w_wrk
from matrix import Client, new_session
from resources import RssSampler, Target, rss_bytes

SCALES = {
    "quick": dict(send_n_c1=50, send_n=200, seconds=15, fanout_n=5, longpoll_ms=10000,
                  sync_rooms=10, sync_msgs=3, initial_sync_n=2, wakeup_n=3, accounts_n=10,
                  wrk_connections=(16, 64), wrk_seconds=3, reps=2),
    "normal": dict(send_n_c1=500, send_n=2000, seconds=60, fanout_n=50, longpoll_ms=30000,
                   sync_rooms=100, sync_msgs=20, initial_sync_n=10, wakeup_n=20, accounts_n=100,
                   wrk_connections=(16, 64), wrk_seconds=10, reps=2),
}

# Table order.
ORDER = ["send_1room_c1", "send_1room_c16", "send_1room_c64", "send_64rooms_c64", "wrk_send_c16", "wrk_send_c64",
         "fanout_20", "initial_sync_full", "initial_sync_limit1", "incremental_sync_wakeup",
         "sliding_sync_initial", "sliding_sync_wakeup", "register", "login", "create_room"]


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--target", action="append", required=True, help="NAME,URL,PID,DATABASE")
    p.add_argument("--pg-port", type=int, required=True)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--only", help="comma-separated workload names to run; the rest are skipped")
    p.add_argument("--json", action="append", default=[])
    p.add_argument("--pgbench-json")
    p.add_argument("--max-seconds", type=float, default=3600, help="skip what is left after this")
    p.add_argument("--meta", action="append", default=[], help="KEY=VALUE recorded in the JSON")
    return p.parse_args()


async def amain(args):
    scale = SCALES["quick" if args.quick else "normal"]
    targets = []
    for spec in args.target:
        name, url, pid, db = spec.split(",")
        targets.append(Target(name, url, pid, db, args.pg_port))
    sessions = {t.name: new_session() for t in targets}
    bases = {t.name: Client(sessions[t.name], t.url) for t in targets}
    tag = f"b{int(time.time()) % 1000000}"
    deadline = time.monotonic() + args.max_seconds
    memory = {t.name: {"idle_bytes": rss_bytes(t.pid)} for t in targets}
    samplers = {t.name: RssSampler(t) for t in targets}
    for s in samplers.values():
        s.start()
    states = {t.name: {} for t in targets}
    reps = {t.name: {} for t in targets}
    skipped, failures = [], []

    attempts = itertools.count()

    async def state(t, kind, make):
        # Set up once per target, outside any measurement, reused by repetitions.
        # Fresh user names on every attempt: a failed setup may have left some.
        if kind not in states[t.name]:
            print(f"    setting up {kind} on {t.name}", file=sys.stderr, flush=True)
            states[t.name][kind] = await asyncio.wait_for(make(f"{tag}n{next(attempts)}"), 900)
        return states[t.name][kind]

    b = lambda t: bases[t.name]
    workloads = [
        ("send", lambda t: state(t, "send", lambda tg: w_send.setup(b(t), tg)), w_send.run),
        ("wrk", lambda t: state(t, "send", lambda tg: w_send.setup(b(t), tg)),
         w_wrk.run if w_wrk.available() else None),
        ("fanout", lambda t: state(t, "fanout", lambda tg: w_fanout.setup(b(t), tg)), w_fanout.run),
        ("sync", lambda t: state(t, "sync", lambda tg: w_sync.setup(b(t), tg, scale)), w_sync.run),
        # Same user and rooms as the /sync workload.
        ("sliding_sync", lambda t: state(t, "sync", lambda tg: w_sync.setup(b(t), tg, scale)),
         w_sliding_sync.run if w_sliding_sync.ENABLED else None),
        ("accounts", None, lambda t, st, sc: w_accounts.run(t, b(t), tag, sc)),
    ]
    try:
        only = set(args.only.split(",")) if args.only else None
        for name, setup, run in workloads:
            if run is None or (only is not None and name not in only):
                skipped.append(name)
                continue
            for rep in range(scale["reps"]):
                for t in targets:
                    if time.monotonic() > deadline:
                        skipped.append(f"{name} (time budget) on {t.name}")
                        continue
                    print(f"==> {name} rep {rep + 1}/{scale['reps']} on {t.name}", file=sys.stderr, flush=True)
                    try:
                        st = await setup(t) if setup else None
                        res = await asyncio.wait_for(run(t, st, scale), scale["seconds"] * 8 + 120)
                    except Exception as e:  # one broken workload must not lose the others
                        failures.append(f"{name} on {t.name}: {e!r}")
                        print(f"    FAILED: {e!r}", file=sys.stderr, flush=True)
                        continue
                    for key, r in res.items():
                        reps[t.name].setdefault(key, []).append(r)
    finally:
        await asyncio.sleep(2)  # let the servers settle before "after" memory
        for t in targets:
            await samplers[t.name].stop()
            memory[t.name]["peak_bytes"] = samplers[t.name].peak
            memory[t.name]["after_bytes"] = rss_bytes(t.pid)
        for s in sessions.values():
            await s.close()

    pgbench = None
    if args.pgbench_json and os.path.exists(args.pgbench_json):
        with open(args.pgbench_json) as f:
            pgbench = json.load(f)
    data = {t.name: {"memory": memory[t.name],
                     "workloads": {k: report.merge(v) for k, v in reps[t.name].items()}}
            for t in targets}
    doc = {
        "meta": dict(kv.split("=", 1) for kv in args.meta) | {
            "scale": "quick" if args.quick else "normal", "parameters": scale,
            "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "order": [t.name for t in targets], "skipped": skipped, "failures": failures,
            "setup_retries_after_5xx": load.SETUP_RETRIES},
        "pgbench": pgbench,
        "targets": data,
    }
    print()
    print(report.table(data, ORDER, pgbench))
    busy = [f"{k} on {t}" for t in data for k, w in data[t]["workloads"].items()
            if w.get("client_cpu_share", 0) > 0.9]
    if busy:
        print(f"\nnote: the Python client used >90% of a core in: {', '.join(busy)} (rates may be client-bound)")
    if skipped:
        print(f"skipped: {', '.join(skipped)}")
    if load.SETUP_RETRIES:
        print(f"note: {load.SETUP_RETRIES} setup request(s) got a 5xx and were retried")
    if failures:
        print(f"FAILED: {'; '.join(failures)}")
    for path in args.json:
        with open(path, "w") as f:
            json.dump(doc, f, indent=2)
        print(f"results: {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(amain(parse())))
