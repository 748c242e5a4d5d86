"""Merges repetitions, prints the comparison table and builds the JSON."""
from stats import summarise

MB = 1024 * 1024


def merge(reps):
    """One figure per workload from its repetitions: pooled latencies, total
    operations over total time, CPU per operation over all operations."""
    ok = sum(r["ok"] for r in reps)
    errors = sum(r["errors"] for r in reps)
    elapsed = sum(r.get("elapsed") or 0.0 for r in reps)
    lat = [x for r in reps for x in r.get("latencies", [])]
    out = {"ok": ok, "errors": errors, "repetitions": len(reps), "latency": summarise(lat)}
    if reps and reps[0].get("rate") is not None and elapsed > 0:
        out["rate_per_s"] = ok / elapsed
        cc = sum(r.get("client_cpu", 0.0) for r in reps)
        out["client_cpu_share"] = cc / elapsed  # near 1.0: the Python client may be the limit
    if ok:
        out["cpu_server_ms_per_op"] = 1000 * sum(r.get("cpu_server_s", 0.0) for r in reps) / ok
        out["cpu_pg_ms_per_op"] = 1000 * sum(r.get("cpu_pg_s", 0.0) for r in reps) / ok
    for k in ("wrk_p50_ms", "wrk_p99_ms"):
        vals = [r[k] for r in reps if k in r]
        if vals:
            out[k] = sum(vals) / len(vals)
    errs = [r.get("first_error") for r in reps if r.get("first_error")]
    if errs:
        out["first_error"] = errs[0]
    return out


def rows(data, order, pgbench):
    """(label, unit, {target: value}) rows for the table."""
    targets = list(data)
    out = []

    def row(label, unit, fn):
        vals = {}
        for t in targets:
            try:
                vals[t] = fn(data[t])
            except (KeyError, TypeError):
                vals[t] = None
        out.append((label, unit, vals))

    present = [k for k in order if any(k in data[t]["workloads"] for t in targets)]
    # The insert ceiling goes right after the last send row, beside the send figures.
    last_send = next((k for k in reversed(present) if "send" in k), None)
    for key in order:
        if key not in present:
            continue
        w = lambda d, k=key: d["workloads"][k]
        sample = next(data[t]["workloads"][key] for t in targets if key in data[t]["workloads"])
        if "rate_per_s" in sample:
            row(f"{key} rate", "ops/s", lambda d, w=w: w(d)["rate_per_s"])
        if "wrk_p50_ms" in sample:
            row(f"{key} p50", "ms", lambda d, w=w: w(d)["wrk_p50_ms"])
            row(f"{key} p99", "ms", lambda d, w=w: w(d)["wrk_p99_ms"])
        elif sample["latency"].get("n"):
            for p in ("p50", "p95", "p99"):
                row(f"{key} {p}", "ms", lambda d, w=w, p=p: w(d)["latency"][f"{p}_ms"])
        row(f"{key} CPU server+pg", "ms/op",
            lambda d, w=w: w(d)["cpu_server_ms_per_op"] + w(d)["cpu_pg_ms_per_op"])
        row(f"{key} errors", "count", lambda d, w=w: w(d)["errors"])
        if key == last_send and pgbench:
            out.append(("pgbench 1-row insert ceiling", "tps", {t: pgbench.get("tps") for t in targets}))
    for phase in ("idle", "peak", "after"):
        row(f"memory RSS {phase}", "MB", lambda d, p=phase: d["memory"][f"{p}_bytes"] / MB)
    return out


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, int):
        return str(v)
    return f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"


def table(data, order, pgbench):
    targets = list(data)
    header = ["workload", "unit"] + targets + (["ratio"] if len(targets) == 2 else [])
    lines = [header]
    for label, unit, vals in rows(data, order, pgbench):
        line = [label, unit] + [fmt(vals[t]) for t in targets]
        if len(targets) == 2:
            a, b = vals[targets[0]], vals[targets[1]]
            line.append(f"{a / b:.2f}" if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b else "-")
        lines.append(line)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = []
    for n, line in enumerate(lines):
        text.append("  ".join(c.ljust(widths[i]) if i < 2 else c.rjust(widths[i]) for i, c in enumerate(line)))
        if n == 0:
            text.append("  ".join("-" * w for w in widths))
    if len(targets) == 2:
        text.append(f"ratio = {targets[0]} / {targets[1]}; ops/s: higher is better; ms, ms/op, MB: lower is better")
    return "\n".join(text)
