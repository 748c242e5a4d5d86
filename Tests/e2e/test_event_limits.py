"""Per-event limits: 64 KiB per event, 255 bytes for type and state key. Nothing is stored."""

from __future__ import annotations

from conftest import Account
from e2e_helpers import q, request

V3 = "/_matrix/client/v3"


async def test_oversized_events_are_refused(http, settings, alice: Account, room: str):
    big = {"msgtype": "m.text", "body": "x" * 70_000}
    r = await request(http, settings.base1, "PUT", f"{V3}/rooms/{q(room)}/send/m.room.message/big-1",
                      token=alice.user.access_token, json_body=big)
    assert r.status == 413 and r.errcode == "M_TOO_LARGE", r
    long_type = "t" * 300
    r = await request(http, settings.base1, "PUT", f"{V3}/rooms/{q(room)}/send/{long_type}/big-2",
                      token=alice.user.access_token, json_body={"a": 1})
    assert r.status == 413 and r.errcode == "M_TOO_LARGE", r
    r = await request(http, settings.base1, "PUT", f"{V3}/rooms/{q(room)}/state/org.example/{'k' * 300}",
                      token=alice.user.access_token, json_body={"a": 1})
    assert r.status == 413 and r.errcode == "M_TOO_LARGE", r
    # Nothing of these reached the room; a normal message still goes through on the same txn IDs' room.
    msgs = await request(http, settings.base1, "GET", f"{V3}/rooms/{q(room)}/messages",
                         token=alice.user.access_token, params={"dir": "b", "limit": "5"})
    assert all(len(e.get("content", {}).get("body", "")) < 1000 for e in msgs.body["chunk"]), msgs
    ok = await request(http, settings.base1, "PUT", f"{V3}/rooms/{q(room)}/send/m.room.message/ok-1",
                       token=alice.user.access_token, json_body={"msgtype": "m.text", "body": "fine"})
    assert ok.status == 200, ok
