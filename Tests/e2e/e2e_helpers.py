"""Helpers shared by the end-to-end tests: raw HTTP calls, registration
through both paths (user-interactive and shared-secret admin), and sync
polling with matrix-nio."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import quote

import aiohttp
import nio
import yarl

CLIENT_V3 = "/_matrix/client/v3"
CLIENT_V1 = "/_matrix/client/v1"


def q(part: str) -> str:
    """Percent-encodes one path segment (room and event IDs carry ! $ :)."""
    return quote(part, safe="")


def random_localpart(prefix: str = "e2e") -> str:
    return f"{prefix}_{secrets.token_hex(6)}"


@dataclass
class Response:
    status: int
    body: Any
    text: str
    headers: Any

    @property
    def errcode(self) -> str | None:
        return self.body.get("errcode") if isinstance(self.body, dict) else None

    def __repr__(self) -> str:
        return f"<{self.status} {self.text[:500]!r}>"


async def request(
    http: aiohttp.ClientSession,
    base: str,
    method: str,
    path: str,
    *,
    token: str | None = None,
    json_body: Any = None,
    data: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> Response:
    """One HTTP request; the path must already be percent-encoded."""
    hdrs = dict(headers or {})
    if token is not None:
        hdrs["Authorization"] = f"Bearer {token}"
    if json_body is not None:
        data = json.dumps(json_body)
        hdrs.setdefault("Content-Type", "application/json")
    url = yarl.URL(base + path, encoded=True)
    if params:
        url = url.update_query(params)
    async with http.request(method, url, data=data, headers=hdrs) as resp:
        text = await resp.text()
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = None
        return Response(resp.status, body, text, resp.headers)


@dataclass
class User:
    user_id: str
    localpart: str
    password: str
    access_token: str
    device_id: str


def registration_mac(
    shared_secret: str, nonce: str, username: str, password: str, admin: bool
) -> str:
    """HMAC-SHA1 over nonce, user, password and admin flag, NUL-separated:
    the shared-secret registration scheme of /_synapse/admin/v1/register."""
    mac = hmac.new(shared_secret.encode(), digestmod=hashlib.sha1)
    mac.update(nonce.encode())
    mac.update(b"\x00")
    mac.update(username.encode())
    mac.update(b"\x00")
    mac.update(password.encode())
    mac.update(b"\x00")
    mac.update(b"admin" if admin else b"notadmin")
    return mac.hexdigest()


async def register_admin_api(
    http: aiohttp.ClientSession,
    base: str,
    shared_secret: str,
    localpart: str,
    password: str,
    *,
    admin: bool = False,
    mac: str | None = None,
) -> Response:
    """Registers through /_synapse/admin/v1/register: GET a nonce, then POST
    with the HMAC. `mac` overrides the computed one (to test rejection)."""
    nonce_resp = await request(http, base, "GET", "/_synapse/admin/v1/register")
    assert nonce_resp.status == 200, f"nonce request failed: {nonce_resp}"
    nonce = nonce_resp.body["nonce"]
    assert isinstance(nonce, str) and nonce, nonce_resp
    body = {
        "nonce": nonce,
        "username": localpart,
        "password": password,
        "admin": admin,
        "mac": mac or registration_mac(shared_secret, nonce, localpart, password, admin),
    }
    return await request(http, base, "POST", "/_synapse/admin/v1/register", json_body=body)


async def register_uia(
    http: aiohttp.ClientSession, base: str, localpart: str, password: str
) -> tuple[nio.AsyncClient, nio.RegisterResponse]:
    """Registers through the user-interactive flow: a first POST without
    `auth` must answer 401 with flows and a session; the nio client then
    completes the m.login.dummy stage with that session. Returns the
    logged-in client (caller closes it)."""
    first = await request(
        http, base, "POST", f"{CLIENT_V3}/register",
        json_body={"username": localpart, "password": password},
    )
    assert first.status == 401, f"expected a UIA challenge, got {first}"
    flows = first.body.get("flows", [])
    assert any(flow.get("stages") == ["m.login.dummy"] for flow in flows), (
        f"no m.login.dummy flow offered: {first}"
    )
    session = first.body.get("session")
    assert isinstance(session, str) and session, f"no UIA session: {first}"

    client = new_client(base)
    resp = await client.register(localpart, password, device_name="e2e", session_token=session)
    if not isinstance(resp, nio.RegisterResponse):
        await client.close()
        raise AssertionError(f"registration failed: {resp}")
    return client, resp


def new_client(base: str, user: str = "") -> nio.AsyncClient:
    # No retries: a failing request must fail the test, not be retried
    # quietly (rate limits are off in the test servers).
    config = nio.AsyncClientConfig(max_limit_exceeded=0, max_timeouts=0)
    return nio.AsyncClient(base, user, config=config)


def client_for(base: str, user: User) -> nio.AsyncClient:
    """A nio client using an existing login (same device and token)."""
    client = new_client(base, user.user_id)
    client.restore_login(user.user_id, user.device_id, user.access_token)
    return client


def timeline(resp: nio.SyncResponse, room_id: str) -> list[dict]:
    """Raw timeline events of a joined room in a sync response."""
    room = resp.rooms.join.get(room_id)
    return [e.source for e in room.timeline.events] if room else []


async def sync_until(
    client: nio.AsyncClient,
    predicate: Callable[[nio.SyncResponse], Any],
    *,
    timeout: float = 15.0,
    sync_filter: dict | None = None,
    what: str = "condition",
) -> Any:
    """Long-polls /sync from the client's last position until `predicate`
    returns something truthy, and returns that."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        resp = await client.sync(timeout=int(min(remaining, 5.0) * 1000), sync_filter=sync_filter)
        assert isinstance(resp, nio.SyncResponse), f"sync failed: {resp}"
        found = predicate(resp)
        if found:
            return found


def find_event(events: list[dict], **fields: Any) -> dict | None:
    """First event whose top-level fields (and content.* via content__key)
    match."""
    for ev in events:
        ok = True
        for key, want in fields.items():
            if key.startswith("content__"):
                have = ev.get("content", {}).get(key[len("content__"):])
            else:
                have = ev.get(key)
            if have != want:
                ok = False
                break
        if ok:
            return ev
    return None


async def send_text(client: nio.AsyncClient, room_id: str, body: str, **extra: Any) -> str:
    content = {"msgtype": "m.text", "body": body, **extra}
    resp = await client.room_send(room_id, "m.room.message", content)
    assert isinstance(resp, nio.RoomSendResponse), f"send failed: {resp}"
    return resp.event_id
