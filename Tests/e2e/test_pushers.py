"""Push delivery: a local HTTP receiver stands in for a push gateway."""

from __future__ import annotations

import asyncio

from aiohttp import web

from conftest import Account
from e2e_helpers import q, request, send_text

V3 = "/_matrix/client/v3"


async def start_gateway():
    """A push gateway on a free loopback port that records each notify body."""
    received: list[dict] = []
    arrived = asyncio.Event()

    async def notify(req: web.Request):
        received.append(await req.json())
        arrived.set()
        return web.json_response({"rejected": []})

    app = web.Application()
    app.router.add_post("/_matrix/push/v1/notify", notify)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}/_matrix/push/v1/notify", received, arrived


async def test_mention_is_pushed_and_muted_room_is_not(http, settings, alice: Account, bob: Account, room: str):
    runner, url, received, arrived = await start_gateway()
    try:
        pusher = {"kind": "http", "app_id": "org.example.app", "pushkey": "bob-key", "app_display_name": "Example",
                  "device_display_name": "Phone", "lang": "en", "data": {"url": url}}
        r = await request(http, settings.base2, "POST", f"{V3}/pushers/set", token=bob.user.access_token, json_body=pusher)
        assert r.status == 200, r
        listed = await request(http, settings.base1, "GET", f"{V3}/pushers", token=bob.user.access_token)
        assert [p["pushkey"] for p in listed.body["pushers"]] == ["bob-key"], listed

        mention = await send_text(alice.client, room, "hey bob", **{"m.mentions": {"user_ids": [bob.user.user_id]}})
        await asyncio.wait_for(arrived.wait(), 10)
        n = received[0]["notification"]
        assert n["event_id"] == mention and n["room_id"] == room
        assert n["sender"] == alice.user.user_id and n["content"]["body"] == "hey bob"
        assert n["counts"]["unread"] >= 1
        device = n["devices"][0]
        assert device["pushkey"] == "bob-key" and device["app_id"] == "org.example.app"
        assert device["tweaks"].get("highlight") is True
        assert "url" not in device["data"]

        notifications = await request(http, settings.base2, "GET", f"{V3}/notifications", token=bob.user.access_token)
        assert notifications.body["notifications"][0]["event"]["event_id"] == mention, notifications

        # Mute the room completely with an override rule; nothing more may reach the gateway.
        rule = {"conditions": [{"kind": "event_match", "key": "room_id", "pattern": room}], "actions": []}
        r = await request(http, settings.base2, "PUT", f"{V3}/pushrules/global/override/{q(room)}",
                          token=bob.user.access_token, json_body=rule)
        assert r.status == 200, r
        before = len(received)
        await send_text(alice.client, room, "hey bob, again", **{"m.mentions": {"user_ids": [bob.user.user_id]}})
        await asyncio.sleep(2)
        assert len(received) == before, received[before:]

        bad = await request(http, settings.base2, "POST", f"{V3}/pushers/set", token=bob.user.access_token,
                            json_body={**pusher, "data": {"url": "http://127.0.0.1/not-notify"}})
        assert bad.status == 400 and bad.errcode == "M_INVALID_PARAM", bad
        gone = await request(http, settings.base2, "POST", f"{V3}/pushers/set", token=bob.user.access_token,
                             json_body={"app_id": "org.example.app", "pushkey": "bob-key", "kind": None})
        assert gone.status == 200, gone
        listed = await request(http, settings.base2, "GET", f"{V3}/pushers", token=bob.user.access_token)
        assert listed.body["pushers"] == [], listed
    finally:
        await runner.cleanup()
