"""Helpers for the E2EE tests: canonical JSON signing with ed25519 keys made
here (for cross-signing, which nio does not do), hand-built device keys, and
nio clients with encryption and a store of their own."""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import nio
from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa


def unpadded_b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Ed25519Key:
    """An ed25519 key pair that signs JSON the Matrix way."""

    def __init__(self) -> None:
        self._key = ECC.generate(curve="Ed25519")
        self.public = unpadded_b64(self._key.public_key().export_key(format="raw"))

    def signature(self, obj: dict) -> str:
        signable = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
        return unpadded_b64(eddsa.new(self._key, "rfc8032").sign(canonical_json(signable)))

    def sign(self, obj: dict, user_id: str, key_name: str) -> dict:
        """A copy of `obj` with this key's signature under `ed25519:<key_name>`."""
        sig = self.signature(obj)
        out = json.loads(json.dumps(obj))
        out.setdefault("signatures", {}).setdefault(user_id, {})[f"ed25519:{key_name}"] = sig
        return out


def device_keys(user_id: str, device_id: str, key: Ed25519Key, curve: str = "Y3VydmU") -> dict:
    """Self-signed device keys for a device whose ed25519 key is `key`."""
    unsigned = {
        "user_id": user_id,
        "device_id": device_id,
        "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
        "keys": {f"curve25519:{device_id}": curve, f"ed25519:{device_id}": key.public},
    }
    return key.sign(unsigned, user_id, device_id)


def cross_signing_key(user_id: str, usage: str, key: Ed25519Key) -> dict:
    return {"user_id": user_id, "usage": [usage], "keys": {f"ed25519:{key.public}": key.public}}


def encrypted_client(base: str, user_id: str, device_id: str, token: str, store: str) -> nio.AsyncClient:
    """A nio client with encryption on, keeping its Olm account in `store` (a new
    folder). No retries: a failing request must fail the test."""
    os.makedirs(store, exist_ok=True)
    config = nio.AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False, max_limit_exceeded=0, max_timeouts=0)
    client = nio.AsyncClient(base, user_id, device_id=device_id, store_path=store, config=config)
    client.restore_login(user_id, device_id, token)
    return client


async def settle_keys(client: nio.AsyncClient) -> None:
    """What nio's sync loop does between syncs: upload, query and claim keys as needed."""
    if client.should_upload_keys:
        resp = await client.keys_upload()
        assert isinstance(resp, nio.KeysUploadResponse), resp
    if client.should_query_keys:
        resp = await client.keys_query()
        assert isinstance(resp, nio.KeysQueryResponse), resp
    if client.should_claim_keys:
        resp = await client.keys_claim(client.get_users_for_key_claiming())
        assert isinstance(resp, nio.KeysClaimResponse), resp
