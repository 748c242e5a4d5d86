"""Helpers for the federation tests with Synapse: a room shared by a user of each server,
raw /sync polling from a position until something shows, and user-interactive auth
answered with the account's password."""

from __future__ import annotations

import json
import time
from typing import Any, Callable

import aiohttp
from e2e_helpers import CLIENT_V3, q, request


async def since_now(http, base: str, account) -> str:
    r = await request(http, base, "GET", f"{CLIENT_V3}/sync", token=account.user.access_token, params={"timeout": "0"})
    assert r.status == 200, r
    return r.body["next_batch"]


async def sync_until(http, base: str, account, since: str, predicate: Callable[[dict], Any], what: str,
                     timeout: float = 40) -> Any:
    """Long-polls raw /sync from `since` until `predicate(body)` is truthy; returns it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = await request(http, base, "GET", f"{CLIENT_V3}/sync", token=account.user.access_token,
                          params={"timeout": "3000", "since": since})
        assert r.status == 200, r
        since = r.body["next_batch"]
        found = predicate(r.body)
        if found:
            return found
    raise AssertionError(f"timed out waiting for {what}")


def timeline_events(body: dict, room_id: str, section: str = "join") -> list[dict]:
    room = body.get("rooms", {}).get(section, {}).get(room_id, {})
    return room.get("timeline", {}).get("events", [])


async def shared_room(http, settings, myelin_account, synapse_account, **create: Any) -> str:
    """A public room on Myelin that the Synapse user joined, once both sides see the join."""
    r = await request(http, settings.base1, "POST", f"{CLIENT_V3}/createRoom", token=myelin_account.user.access_token,
                      json_body={"preset": "public_chat", **create})
    assert r.status == 200, r
    room_id = r.body["room_id"]
    since = await since_now(http, settings.base1, myelin_account)
    r = await request(http, settings.synapse_url, "POST", f"{CLIENT_V3}/join/{q(room_id)}",
                      token=synapse_account.user.access_token, json_body={}, params={"server_name": settings.server_name})
    assert r.status == 200, r
    bob = synapse_account.user.user_id
    await sync_until(http, settings.base1, myelin_account, since, lambda b: any(
        e.get("type") == "m.room.member" and e.get("state_key") == bob for e in timeline_events(b, room_id)),
        "the Synapse user's join on Myelin")
    return room_id


async def with_password_auth(http, base: str, method: str, path: str, account, body: dict):
    """A request that may need user-interactive auth: sent bare, then with the password."""
    r = await request(http, base, method, path, token=account.user.access_token, json_body=body)
    if r.status != 401 or not isinstance(r.body, dict) or "flows" not in r.body:
        return r
    auth = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": account.user.user_id},
            "password": account.user.password, "session": r.body.get("session")}
    return await request(http, base, method, path, token=account.user.access_token, json_body={**body, "auth": auth})


async def tls_get(url: str):
    """An unsigned GET of a federation listener (its certificate is self-signed)."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as s:
        async with s.get(url) as r:
            text = await r.text()
            return r.status, (json.loads(text) if text else None)
