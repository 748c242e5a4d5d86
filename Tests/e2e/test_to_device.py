"""Send-to-device: delivery in /sync across processes, transaction idempotency,
the `*` device wildcard, and deletion once the device has synced past them."""

from __future__ import annotations

import nio

from conftest import Account
from e2e_helpers import q, request, sync_until

CLIENT_V3 = "/_matrix/client/v3"


def to_device_events(resp: nio.SyncResponse, type_: str) -> list:
    return [e for e in resp.to_device_events if getattr(e, "source", {}).get("type") == type_]


async def test_to_device_delivered_once_and_idempotent(http, settings, alice: Account, bob: Account):
    await bob.client.sync(timeout=0)
    body = {"messages": {bob.user.user_id: {bob.user.device_id: {"secret": "hello"}}}}
    path = f"{CLIENT_V3}/sendToDevice/{q('org.example.ping')}/{q('txn-1')}"
    for _ in range(2):  # the same transaction twice
        r = await request(http, settings.base1, "PUT", path, token=alice.user.access_token, json_body=body)
        assert r.status == 200, r

    got = await sync_until(
        bob.client, lambda resp: to_device_events(resp, "org.example.ping"), what="the to-device message"
    )
    assert len(got) == 1, got
    assert got[0].source["sender"] == alice.user.user_id
    assert got[0].source["content"] == {"secret": "hello"}

    # Syncing past it acknowledges it: the next incremental sync does not repeat it.
    resp = await bob.client.sync(timeout=0)
    assert not to_device_events(resp, "org.example.ping"), resp.to_device_events


async def test_to_device_wildcard_reaches_every_device(http, settings, alice: Account, bob: Account):
    # A second device for bob.
    login = await request(http, settings.base2, "POST", f"{CLIENT_V3}/login", json_body={
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": bob.user.localpart},
        "password": bob.user.password,
    })
    assert login.status == 200, login
    second = nio.AsyncClient(settings.base2, bob.user.user_id)
    second.restore_login(bob.user.user_id, login.body["device_id"], login.body["access_token"])
    try:
        await bob.client.sync(timeout=0)
        await second.sync(timeout=0)
        body = {"messages": {bob.user.user_id: {"*": {"n": 1}}}}
        r = await request(http, settings.base1, "PUT", f"{CLIENT_V3}/sendToDevice/org.example.all/txn-w",
                          token=alice.user.access_token, json_body=body)
        assert r.status == 200, r
        for client in (bob.client, second):
            got = await sync_until(client, lambda resp: to_device_events(resp, "org.example.all"), what="wildcard message")
            assert got[0].source["content"] == {"n": 1}
    finally:
        await second.close()


async def test_to_device_rejects_bad_shapes(http, settings, alice: Account):
    path = f"{CLIENT_V3}/sendToDevice/org.example.bad/txn-bad"
    r = await request(http, settings.base1, "PUT", path, token=alice.user.access_token, json_body={"messages": []})
    assert r.status == 400 and r.errcode == "M_BAD_JSON", r
    r = await request(http, settings.base1, "PUT", path, token=alice.user.access_token,
                      json_body={"messages": {"not-a-user": {"D": {}}}})
    assert r.status == 400 and r.errcode == "M_INVALID_PARAM", r
