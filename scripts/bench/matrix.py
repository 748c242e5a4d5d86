"""A minimal async client for the standard client-server API calls the
benchmark makes. Nothing server-specific: the same calls go to every target."""
import itertools
from urllib.parse import quote

import aiohttp

PASSWORD = "bench-password-1"
_txn = itertools.count()


class MatrixError(Exception):
    def __init__(self, status, body):
        super().__init__(f"HTTP {status}: {str(body)[:200]}")
        self.status = status
        self.body = body


def new_session(limit=256):
    # One pool per target; long-polls and senders share it, so it must be
    # bigger than the highest concurrency (64 senders + 20 syncers).
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit, force_close=False))


class Client:
    def __init__(self, session, base, token=None, user_id=None):
        self.session = session
        self.base = base.rstrip("/")
        self.token = token
        self.user_id = user_id

    async def request(self, method, path, body=None, params=None, timeout=60, ok=(200,)):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.session.request(
            method, self.base + path, json=body, params=params, headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as r:
            data = await r.json(content_type=None)
            if r.status not in ok:
                raise MatrixError(r.status, data)
            return r.status, data

    async def register(self, localpart):
        """Registers with the user-interactive m.login.dummy flow (two requests,
        as a real client does) and returns a logged-in Client."""
        path = "/_matrix/client/v3/register"
        body = {"username": localpart, "password": PASSWORD, "initial_device_display_name": "bench"}
        status, data = await self.request("POST", path, body, ok=(200, 401))
        if status == 401:
            body["auth"] = {"type": "m.login.dummy", "session": data.get("session")}
            _, data = await self.request("POST", path, body)
        return Client(self.session, self.base, data["access_token"], data["user_id"])

    async def login(self, localpart):
        _, data = await self.request("POST", "/_matrix/client/v3/login", {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": localpart},
            "password": PASSWORD,
        })
        return Client(self.session, self.base, data["access_token"], data["user_id"])

    async def create_room(self, name=None):
        body = {"preset": "public_chat"}
        if name:
            body["name"] = name
        _, data = await self.request("POST", "/_matrix/client/v3/createRoom", body)
        return data["room_id"]

    async def join(self, room_id):
        await self.request("POST", f"/_matrix/client/v3/join/{quote(room_id, safe='')}", {})

    async def send_text(self, room_id, text):
        txn = f"b{next(_txn)}"
        _, data = await self.request(
            "PUT", f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/send/m.room.message/{txn}",
            {"msgtype": "m.text", "body": text})
        return data["event_id"]

    async def sync(self, since=None, timeout_ms=0, filter_json=None, http_timeout=60):
        params = {"timeout": str(timeout_ms)}
        if since:
            params["since"] = since
        if filter_json:
            params["filter"] = filter_json
        _, data = await self.request("GET", "/_matrix/client/v3/sync", params=params,
                                     timeout=http_timeout + timeout_ms / 1000)
        return data


def timeline_event_ids(sync_body, room_id=None):
    """Event ids in the joined rooms' timelines of a /sync response."""
    rooms = sync_body.get("rooms", {}).get("join", {})
    for rid, room in rooms.items():
        if room_id is None or rid == room_id:
            for ev in room.get("timeline", {}).get("events", []):
                yield ev.get("event_id")
