"""Full-text search over room events, and presence."""

from __future__ import annotations

import nio

from conftest import Account
from e2e_helpers import q, request, send_text, sync_until

V3 = "/_matrix/client/v3"


def search_body(term: str, **extra) -> dict:
    return {"search_categories": {"room_events": {"search_term": term, **extra}}}


async def test_search_finds_words_in_joined_rooms_only(http, settings, alice: Account, bob: Account, room: str):
    hit = await send_text(alice.client, room, "the purple elephant dances")
    await send_text(alice.client, room, "nothing to see")
    other = await alice.client.room_create(name="not bob's")
    await send_text(alice.client, other.room_id, "purple elephant in a private room")
    redacted = await send_text(alice.client, room, "purple secret")
    await alice.client.room_redact(room, redacted)

    r = await request(http, settings.base2, "POST", f"{V3}/search", token=bob.user.access_token,
                      json_body=search_body("purple elephant"))
    assert r.status == 200, r
    res = r.body["search_categories"]["room_events"]
    ids = [x["result"]["event_id"] for x in res["results"]]
    assert ids == [hit], res  # not the other room, not the redacted event
    assert res["count"] == 1 and res["results"][0]["rank"] > 0

    ctx = await request(http, settings.base2, "POST", f"{V3}/search", token=bob.user.access_token,
                        json_body=search_body("elephant", event_context={"before_limit": 1, "after_limit": 1}))
    context = ctx.body["search_categories"]["room_events"]["results"][0]["context"]
    assert [e["content"]["body"] for e in context["events_after"]] == ["nothing to see"], context


async def test_search_pages_and_orders_by_recent(http, settings, alice: Account, room: str):
    ids = [await send_text(alice.client, room, f"zebra number {i}") for i in range(3)]
    first = await request(http, settings.base1, "POST", f"{V3}/search", token=alice.user.access_token,
                          json_body=search_body("zebra", order_by="recent", filter={"limit": 2}))
    page = first.body["search_categories"]["room_events"]
    assert [x["result"]["event_id"] for x in page["results"]] == [ids[2], ids[1]], page
    assert page["count"] == 3 and page["next_batch"]
    second = await request(http, settings.base1, "POST", f"{V3}/search", token=alice.user.access_token,
                           params={"next_batch": page["next_batch"]},
                           json_body=search_body("zebra", order_by="recent", filter={"limit": 2}))
    rest = second.body["search_categories"]["room_events"]
    assert [x["result"]["event_id"] for x in rest["results"]] == [ids[0]] and "next_batch" not in rest, rest
    bad = await request(http, settings.base1, "POST", f"{V3}/search", token=alice.user.access_token, json_body={})
    assert bad.status == 400, bad


async def test_presence_set_get_and_sync(http, settings, alice: Account, bob: Account, room: str):
    await bob.client.sync(timeout=0)
    r = await request(http, settings.base1, "PUT", f"{V3}/presence/{q(alice.user.user_id)}/status",
                      token=alice.user.access_token, json_body={"presence": "unavailable", "status_msg": "lunch"})
    assert r.status == 200, r
    got = await request(http, settings.base2, "GET", f"{V3}/presence/{q(alice.user.user_id)}/status", token=bob.user.access_token)
    assert got.body["presence"] == "unavailable" and got.body["status_msg"] == "lunch", got

    def alice_presence(resp: nio.SyncResponse):
        return next((e for e in resp.presence_events if e.user_id == alice.user.user_id and e.presence == "unavailable"), None)

    ev = await sync_until(bob.client, alice_presence, what="alice's presence in bob's sync")
    assert ev.status_msg == "lunch"
    bad = await request(http, settings.base1, "PUT", f"{V3}/presence/{q(alice.user.user_id)}/status",
                        token=alice.user.access_token, json_body={"presence": "asleep"})
    assert bad.status == 400, bad
    other = await request(http, settings.base1, "PUT", f"{V3}/presence/{q(bob.user.user_id)}/status",
                          token=alice.user.access_token, json_body={"presence": "online"})
    assert other.status == 403, other
