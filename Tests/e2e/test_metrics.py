"""Health, readiness and Prometheus metrics of each process."""

from __future__ import annotations

import re

from e2e_helpers import request


async def test_health_ready_and_metrics(http, base_url):
    assert (await request(http, base_url, "GET", "/health")).status == 200
    ready = await request(http, base_url, "GET", "/ready")
    assert ready.status == 200 and ready.body == {"status": "ready"}, ready
    await request(http, base_url, "GET", "/_matrix/client/versions")
    metrics = await request(http, base_url, "GET", "/metrics")
    assert metrics.status == 200 and metrics.headers["Content-Type"].startswith("text/plain"), metrics
    counts = re.findall(r'^myelin_http_requests_total\{[^}]*method="GET"[^}]*status="2xx"[^}]*\} (\d+)', metrics.text, re.M)
    assert counts and int(counts[0]) >= 2, metrics.text[:2000]
    assert "myelin_http_request_duration_seconds" in metrics.text
