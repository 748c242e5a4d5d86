"""Push rules end to end: the default ruleset, managing user rules through the
API, the m.push_rules account data in /sync, and notification counts worked
out from each member's own rules as events are stored.

Alice talks to process 1 and Bob to process 2, so a rule Bob changes on one
process must take effect for events Alice sends through the other."""

from __future__ import annotations

import nio

from e2e_helpers import CLIENT_V3, q, request, send_text, sync_until, timeline

DEFAULT_OVERRIDE = [
    ".m.rule.master",
    ".m.rule.suppress_notices",
    ".m.rule.invite_for_me",
    ".m.rule.member_event",
    ".m.rule.is_user_mention",
    ".m.rule.is_room_mention",
    ".m.rule.tombstone",
    ".m.rule.reaction",
    ".m.rule.room.server_acl",
    ".m.rule.suppress_edits",
]
DEFAULT_UNDERRIDE = [
    ".m.rule.call",
    ".m.rule.encrypted_room_one_to_one",
    ".m.rule.room_one_to_one",
    ".m.rule.message",
    ".m.rule.encrypted",
]


def rule_path(kind: str, rule_id: str, attr: str = "") -> str:
    path = f"{CLIENT_V3}/pushrules/global/{kind}/{q(rule_id)}"
    return f"{path}/{attr}" if attr else path


async def push_api(http, base, token, method, kind, rule_id, attr="", body=None, params=None):
    return await request(
        http, base, method, rule_path(kind, rule_id, attr), token=token, json_body=body, params=params
    )


async def ruleset(http, base, token) -> dict:
    resp = await request(http, base, "GET", f"{CLIENT_V3}/pushrules/", token=token)
    assert resp.status == 200, resp
    return resp.body["global"]


def ids(rules: list[dict]) -> list[str]:
    return [r["rule_id"] for r in rules]


async def test_default_rules_are_the_spec_rules(http, settings, alice):
    token = alice.user.access_token
    rules = await ruleset(http, settings.base1, token)
    assert ids(rules["override"]) == DEFAULT_OVERRIDE
    assert ids(rules["underride"]) == DEFAULT_UNDERRIDE
    assert rules["content"] == [] and rules["room"] == [] and rules["sender"] == []
    for rule in rules["override"] + rules["underride"]:
        assert rule["default"] is True, rule
        assert rule["enabled"] is (rule["rule_id"] != ".m.rule.master"), rule

    mention = next(r for r in rules["override"] if r["rule_id"] == ".m.rule.is_user_mention")
    assert mention["conditions"] == [
        {
            "kind": "event_property_contains",
            "key": "content.m\\.mentions.user_ids",
            "value": alice.user.user_id,
        }
    ]
    assert mention["actions"] == [
        "notify",
        {"set_tweak": "sound", "value": "default"},
        {"set_tweak": "highlight"},
    ]

    # The same set at /pushrules/global/, from the other process too.
    glob = await request(http, settings.base2, "GET", f"{CLIENT_V3}/pushrules/global/", token=token)
    assert glob.status == 200, glob
    assert glob.body == rules

    master = await push_api(http, settings.base1, token, "GET", "override", ".m.rule.master")
    assert master.status == 200, master
    assert master.body == {
        "rule_id": ".m.rule.master", "default": True, "enabled": False, "conditions": [], "actions": []
    }
    enabled = await push_api(http, settings.base1, token, "GET", "underride", ".m.rule.call", "enabled")
    assert enabled.status == 200 and enabled.body == {"enabled": True}, enabled
    actions = await push_api(http, settings.base1, token, "GET", "underride", ".m.rule.call", "actions")
    assert actions.status == 200, actions
    assert actions.body == {"actions": ["notify", {"set_tweak": "sound", "value": "ring"}]}
    missing = await push_api(http, settings.base1, token, "GET", "override", "nope")
    assert missing.status == 404 and missing.errcode == "M_NOT_FOUND", missing


async def test_user_rule_add_order_enable_and_delete(http, settings, alice):
    token, base = alice.user.access_token, settings.base1
    cond = [{"kind": "event_match", "key": "content.body", "pattern": "lunch*"}]
    put = await push_api(http, base, token, "PUT", "override", "lunch", body={
        "conditions": cond, "actions": ["notify", {"set_tweak": "sound", "value": "bell"}],
    })
    assert put.status == 200 and put.body == {}, put
    got = await push_api(http, base, token, "GET", "override", "lunch")
    assert got.status == 200, got
    assert got.body == {
        "rule_id": "lunch", "default": False, "enabled": True, "conditions": cond,
        "actions": ["notify", {"set_tweak": "sound", "value": "bell"}],
    }

    # A new rule goes first among user rules; before/after place it.
    for rule_id, params in [("first", None), ("last", {"after": "lunch"}), ("middle", {"before": "lunch"})]:
        resp = await push_api(http, base, token, "PUT", "override", rule_id,
                              body={"conditions": [], "actions": []}, params=params)
        assert resp.status == 200, (rule_id, resp)
    rules = await ruleset(http, base, token)
    assert ids(rules["override"])[:5] == [".m.rule.master", "first", "middle", "lunch", "last"]
    assert ids(rules["override"])[5:] == DEFAULT_OVERRIDE[1:]

    # Disable, change actions, and read both back through the other process.
    assert (await push_api(http, base, token, "PUT", "override", "lunch", "enabled", body={"enabled": False})).status == 200
    assert (await push_api(http, base, token, "PUT", "override", "lunch", "actions", body={"actions": ["dont_notify"]})).status == 200
    enabled = await push_api(http, settings.base2, token, "GET", "override", "lunch", "enabled")
    assert enabled.body == {"enabled": False}, enabled
    actions = await push_api(http, settings.base2, token, "GET", "override", "lunch", "actions")
    assert actions.body == {"actions": []}, actions

    # Re-putting a rule keeps its place and its enabled flag.
    assert (await push_api(http, base, token, "PUT", "override", "lunch",
                           body={"conditions": cond, "actions": ["notify"]})).status == 200
    rules = await ruleset(http, base, token)
    assert ids(rules["override"])[:5] == [".m.rule.master", "first", "middle", "lunch", "last"]
    lunch = rules["override"][3]
    assert lunch["enabled"] is False and lunch["actions"] == ["notify"], lunch

    # Server-default rules can be switched and re-actioned.
    assert (await push_api(http, base, token, "PUT", "underride", ".m.rule.message", "enabled", body={"enabled": False})).status == 200
    message = await push_api(http, base, token, "GET", "underride", ".m.rule.message")
    assert message.body["enabled"] is False and message.body["default"] is True, message

    deleted = await push_api(http, base, token, "DELETE", "override", "lunch")
    assert deleted.status == 200, deleted
    gone = await push_api(http, base, token, "GET", "override", "lunch")
    assert gone.status == 404 and gone.errcode == "M_NOT_FOUND", gone
    again = await push_api(http, base, token, "DELETE", "override", "lunch")
    assert again.status == 404 and again.errcode == "M_NOT_FOUND", again
    rules = await ruleset(http, base, token)
    assert ids(rules["override"])[:4] == [".m.rule.master", "first", "middle", "last"]


async def test_invalid_rule_changes_are_refused(http, settings, alice):
    token, base = alice.user.access_token, settings.base2
    cases = [
        ("override", ".m.rule.mine", {"actions": []}, None, 400, "M_INVALID_PARAM"),
        ("override", "a\\b", {"actions": []}, None, 400, "M_INVALID_PARAM"),
        ("override", "bad-action", {"actions": ["explode"]}, None, 400, "M_INVALID_PARAM"),
        ("override", "bad-conditions", {"actions": [], "conditions": "x"}, None, 400, "M_INVALID_PARAM"),
        ("content", "no-pattern", {"actions": []}, None, 400, "M_MISSING_PARAM"),
        ("override", "no-actions", {"conditions": []}, None, 400, "M_MISSING_PARAM"),
        ("override", "anchored", {"actions": []}, {"before": "nope"}, 400, "M_UNKNOWN"),
        ("override", "anchored", {"actions": []}, {"after": ".m.rule.master"}, 400, "M_UNKNOWN"),
        ("bogus", "x", {"actions": []}, None, 400, "M_INVALID_PARAM"),
    ]
    for kind, rule_id, body, params, status, errcode in cases:
        resp = await push_api(http, base, token, "PUT", kind, rule_id, body=body, params=params)
        assert (resp.status, resp.errcode) == (status, errcode), (kind, rule_id, resp)
    for attr, body in [("enabled", {"enabled": True}), ("actions", {"actions": []})]:
        resp = await push_api(http, base, token, "PUT", "override", "nope", attr, body=body)
        assert resp.status == 404 and resp.errcode == "M_NOT_FOUND", (attr, resp)
    resp = await push_api(http, base, token, "DELETE", "override", ".m.rule.master")
    assert resp.status == 400 and resp.errcode == "M_INVALID_PARAM", resp
    # Nothing of the refused changes was stored.
    rules = await ruleset(http, base, token)
    assert ids(rules["override"]) == DEFAULT_OVERRIDE and rules["content"] == []


async def test_push_rules_arrive_as_account_data_in_sync(http, settings, alice):
    token = alice.user.access_token
    initial = await request(http, settings.base1, "GET", f"{CLIENT_V3}/sync", token=token)
    assert initial.status == 200, initial
    events = initial.body["account_data"]["events"]
    push = [e for e in events if e["type"] == "m.push_rules"]
    assert len(push) == 1, events
    assert ids(push[0]["content"]["global"]["override"]) == DEFAULT_OVERRIDE

    put = await push_api(http, settings.base2, token, "PUT", "sender", "@spam:example.org", body={"actions": []})
    assert put.status == 200, put
    later = await request(http, settings.base1, "GET", f"{CLIENT_V3}/sync", token=token,
                          params={"since": initial.body["next_batch"], "timeout": "10000"})
    assert later.status == 200, later
    push = [e for e in later.body["account_data"]["events"] if e["type"] == "m.push_rules"]
    assert len(push) == 1, later
    assert push[0]["content"]["global"]["sender"] == [
        {"rule_id": "@spam:example.org", "default": False, "enabled": True, "actions": []}
    ]
    # A fresh initial sync carries the changed rules too.
    again = await request(http, settings.base2, "GET", f"{CLIENT_V3}/sync", token=token)
    push = [e for e in again.body["account_data"]["events"] if e["type"] == "m.push_rules"]
    assert ids(push[0]["content"]["global"]["sender"]) == ["@spam:example.org"], push


async def counts_with(client: nio.AsyncClient, room_id: str, event_id: str) -> tuple[int, int]:
    """Syncs until the event is in the room's timeline and returns the room's
    (notification_count, highlight_count) from that same response."""
    def found(resp: nio.SyncResponse):
        if any(e.get("event_id") == event_id for e in timeline(resp, room_id)):
            counts = resp.rooms.join[room_id].unread_notifications
            return (counts.notification_count, counts.highlight_count)
        return None

    return await sync_until(client, found, what=f"{event_id} in the timeline")


async def test_mentions_highlight_messages_notify_and_receipts_reset(alice, bob, room):
    plain = await send_text(alice.client, room, "just chatting")
    assert await counts_with(bob.client, room, plain) == (1, 0)

    mention = await send_text(
        alice.client, room, "bob, look at this", **{"m.mentions": {"user_ids": [bob.user.user_id]}}
    )
    assert await counts_with(bob.client, room, mention) == (2, 1)

    notice = await send_text(alice.client, room, "a bot notice", msgtype="m.notice")
    assert await counts_with(bob.client, room, notice) == (2, 1)

    # Alice's own messages never count for her.
    assert await counts_with(alice.client, room, notice) == (0, 0)

    receipt = await bob.client.update_receipt_marker(room, notice)
    assert isinstance(receipt, nio.UpdateReceiptMarkerResponse), receipt

    def receipt_seen(resp: nio.SyncResponse):
        info = resp.rooms.join.get(room)
        if info and any(
            isinstance(e, nio.ReceiptEvent) and any(r.user_id == bob.user.user_id for r in e.receipts)
            for e in info.ephemeral
        ):
            return info.unread_notifications
        return None

    counts = await sync_until(bob.client, receipt_seen, what="bob's receipt in his sync")
    assert (counts.notification_count, counts.highlight_count) == (0, 0)


async def test_muted_room_gives_no_count(http, settings, alice, bob, room):
    token = bob.user.access_token
    first = await send_text(alice.client, room, "before muting")
    assert await counts_with(bob.client, room, first) == (1, 0)

    # Bob mutes the room on his process; Alice's events are stored by hers.
    muted = await push_api(http, settings.base2, token, "PUT", "room", room, body={"actions": ["dont_notify"]})
    assert muted.status == 200, muted
    rule = await push_api(http, settings.base1, token, "GET", "room", room)
    assert rule.body == {"rule_id": room, "default": False, "enabled": True, "actions": []}, rule

    second = await send_text(alice.client, room, "while muted")
    assert await counts_with(bob.client, room, second) == (1, 0)

    # Room rules rank below the override rules, so a mention still gets through:
    # this is the "mentions only" setting clients build from a room rule.
    mention = await send_text(
        alice.client, room, "bob?", **{"m.mentions": {"user_ids": [bob.user.user_id]}}
    )
    assert await counts_with(bob.client, room, mention) == (2, 1)

    unmuted = await push_api(http, settings.base2, token, "DELETE", "room", room)
    assert unmuted.status == 200, unmuted
    third = await send_text(alice.client, room, "after unmuting")
    assert await counts_with(bob.client, room, third) == (3, 1)


async def test_master_rule_silences_everything(http, settings, alice, bob, room):
    token = bob.user.access_token
    on = await push_api(http, settings.base1, token, "PUT", "override", ".m.rule.master", "enabled", body={"enabled": True})
    assert on.status == 200, on
    mention = await send_text(
        alice.client, room, "hello?", **{"m.mentions": {"user_ids": [bob.user.user_id]}}
    )
    assert await counts_with(bob.client, room, mention) == (0, 0)
