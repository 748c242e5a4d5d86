"""Percentiles and latency summaries (milliseconds)."""


def percentile(values, p):
    # Linear interpolation between closest ranks, as numpy's default.
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summarise(latencies_s):
    ms = [x * 1000.0 for x in latencies_s]
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95), "p99_ms": percentile(ms, 99),
        "mean_ms": sum(ms) / len(ms), "max_ms": max(ms),
    }
