"""Talking to Myelin as Synapse does: requests signed with Synapse's own key (Myelin
fetches that key from the running Synapse), and events hashed and signed by Synapse's
own event signing code, so what Myelin checks was made by software nobody here wrote."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import aiohttp
import yarl
from signedjson.key import read_signing_keys
from signedjson.sign import sign_json
from synapse.api.room_versions import KNOWN_ROOM_VERSIONS
from synapse.crypto.event_signing import add_hashes_and_signatures
from synapse.events import make_event_from_dict


class AsSynapse:
    def __init__(self, settings):
        with open(settings.synapse_signing_key) as f:
            (self.key,) = read_signing_keys(f)
        self.origin = settings.synapse_server_name
        self.destination = settings.server_name
        self.base = settings.federation_url

    async def request(self, method: str, path: str, body=None, origin: str | None = None):
        """A federation request to Myelin, X-Matrix signed as Synapse."""
        origin = origin or self.origin
        signed = {"method": method, "uri": path, "origin": origin, "destination": self.destination}
        if body is not None:
            signed["content"] = body
        sig = sign_json(signed, origin, self.key)["signatures"][origin][f"{self.key.alg}:{self.key.version}"]
        auth = f'X-Matrix origin="{origin}",destination="{self.destination}",key="{self.key.alg}:{self.key.version}",sig="{sig}"'
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": auth, "Content-Type": "application/json"}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as s:
            # encoded=True: the path goes out byte for byte as signed.
            async with s.request(method, yarl.URL(self.base + path, encoded=True), headers=headers, data=data) as r:
                text = await r.text()
                return r.status, (json.loads(text) if text else None)

    async def pdu(self, event_id: str) -> dict:
        status, body = await self.request("GET", f"/_matrix/federation/v1/event/{quote(event_id, safe='')}")
        assert status == 200, body
        return body["pdus"][0]

    def event(self, room_version: str, fields: dict, key=None) -> tuple[str, dict]:
        """A PDU hashed and signed as Synapse signs its events; returns its ID and JSON."""
        version = KNOWN_ROOM_VERSIONS[room_version]
        d = dict(fields)
        d.setdefault("origin_server_ts", int(time.time() * 1000))
        add_hashes_and_signatures(version, d, self.origin, key or self.key)
        return make_event_from_dict(d, version).event_id, d

    async def transaction(self, txn_id: str, pdus: list[dict], edus: list[dict] | None = None):
        body = {"origin": self.origin, "origin_server_ts": int(time.time() * 1000), "pdus": pdus, "edus": edus or []}
        return await self.request("PUT", f"/_matrix/federation/v1/send/{quote(txn_id, safe='')}", body)
