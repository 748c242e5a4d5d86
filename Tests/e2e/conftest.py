"""Fixtures for the end-to-end suite.

The suite drives running servers; scripts/test.sh starts them and sets:
  MYELIN_E2E_BASEURL         `myelin serve --all` (process 1)
  MYELIN_E2E_BASEURL2        `myelin-client-api` (process 2, same DB and Redis)
  MYELIN_E2E_SERVER_NAME     the server name in user IDs
  MYELIN_E2E_SHARED_SECRET   MYELIN_REGISTRATION_SHARED_SECRET of the servers
  MYELIN_E2E_MAX_BODY_BYTES  MYELIN_MAX_BODY_BYTES of the servers (optional,
                             default 1048576)
  MYELIN_E2E_SYNAPSE_URL, MYELIN_E2E_SYNAPSE_SERVER_NAME,
  MYELIN_E2E_SYNAPSE_SHARED_SECRET
                             a Synapse beside them: the reference for client-API
                             behaviour and a federation peer
  MYELIN_E2E_FEDERATION_URL  process 1's TLS federation listener (the port its
                             server name carries)
  MYELIN_E2E_SYNAPSE_SIGNING_KEY
                             Synapse's signing key file, so tests can send Myelin
                             requests and events exactly as Synapse would sign them
  MYELIN_E2E_FEDERATION_SENDER_PROCESS, MYELIN_E2E_SYNAPSE_PROCESS
                             JSON files describing the outbound federation sender
                             process and the Synapse process (command, log, pid
                             file, health URL), so tests can kill and restart them
  MYELIN_E2E_B_BASEURL, MYELIN_E2E_B_SERVER_NAME, MYELIN_E2E_B_FEDERATION_URL
                             server B: a second, independent Myelin (`serve --all`,
                             its own database and key, same shared secret) that
                             federates with the first
Registration is enabled on the servers (m.login.dummy, no token).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import aiohttp
import nio
import pytest

from e2e_helpers import (
    User,
    random_localpart,
    register_admin_api,
    register_uia,
    sync_until,
    timeline,
)


@dataclass(frozen=True)
class Settings:
    base1: str
    base2: str
    server_name: str
    shared_secret: str
    max_body_bytes: int
    synapse_url: str
    synapse_server_name: str
    synapse_shared_secret: str
    federation_url: str
    synapse_signing_key: str
    sender_process: str
    synapse_process: str
    b_base: str
    b_server_name: str
    b_federation_url: str


@pytest.fixture(scope="session")
def settings() -> Settings:
    names = [
        "MYELIN_E2E_BASEURL",
        "MYELIN_E2E_BASEURL2",
        "MYELIN_E2E_SERVER_NAME",
        "MYELIN_E2E_SHARED_SECRET",
        "MYELIN_E2E_SYNAPSE_URL",
        "MYELIN_E2E_SYNAPSE_SERVER_NAME",
        "MYELIN_E2E_SYNAPSE_SHARED_SECRET",
        "MYELIN_E2E_FEDERATION_URL",
        "MYELIN_E2E_SYNAPSE_SIGNING_KEY",
        "MYELIN_E2E_FEDERATION_SENDER_PROCESS",
        "MYELIN_E2E_SYNAPSE_PROCESS",
        "MYELIN_E2E_B_BASEURL",
        "MYELIN_E2E_B_SERVER_NAME",
        "MYELIN_E2E_B_FEDERATION_URL",
    ]
    missing = [n for n in names if not os.environ.get(n)]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not set: run the suite through scripts/test.sh",
            pytrace=False,
        )
    return Settings(
        base1=os.environ["MYELIN_E2E_BASEURL"].rstrip("/"),
        base2=os.environ["MYELIN_E2E_BASEURL2"].rstrip("/"),
        server_name=os.environ["MYELIN_E2E_SERVER_NAME"],
        shared_secret=os.environ["MYELIN_E2E_SHARED_SECRET"],
        max_body_bytes=int(os.environ.get("MYELIN_E2E_MAX_BODY_BYTES", "1048576")),
        synapse_url=os.environ["MYELIN_E2E_SYNAPSE_URL"].rstrip("/"),
        synapse_server_name=os.environ["MYELIN_E2E_SYNAPSE_SERVER_NAME"],
        synapse_shared_secret=os.environ["MYELIN_E2E_SYNAPSE_SHARED_SECRET"],
        federation_url=os.environ["MYELIN_E2E_FEDERATION_URL"].rstrip("/"),
        synapse_signing_key=os.environ["MYELIN_E2E_SYNAPSE_SIGNING_KEY"],
        sender_process=os.environ["MYELIN_E2E_FEDERATION_SENDER_PROCESS"],
        synapse_process=os.environ["MYELIN_E2E_SYNAPSE_PROCESS"],
        b_base=os.environ["MYELIN_E2E_B_BASEURL"].rstrip("/"),
        b_server_name=os.environ["MYELIN_E2E_B_SERVER_NAME"],
        b_federation_url=os.environ["MYELIN_E2E_B_FEDERATION_URL"].rstrip("/"),
    )


@pytest.fixture(params=["process1", "process2"])
def base_url(request, settings: Settings) -> str:
    """Runs a test once against each server process."""
    return settings.base1 if request.param == "process1" else settings.base2


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as session:
        yield session


@dataclass
class Account:
    user: User
    client: nio.AsyncClient


@pytest.fixture
async def make_account(http, settings: Settings):
    """Factory: a freshly registered user with a logged-in nio client.
    via="uia" uses /register (m.login.dummy), via="admin" the shared-secret
    admin API. Clients are closed at teardown."""
    clients: list[nio.AsyncClient] = []

    async def make(base: str, via: str = "uia", prefix: str = "e2e") -> Account:
        # Synapse takes the same registration calls; its users carry its name.
        on_synapse = base == settings.synapse_url
        secret = settings.synapse_shared_secret if on_synapse else settings.shared_secret
        server_name = settings.synapse_server_name if on_synapse else settings.server_name
        if base == settings.b_base:
            server_name = settings.b_server_name
        localpart = random_localpart(prefix)
        password = "pw-" + random_localpart("secret")
        if via == "uia":
            client, resp = await register_uia(http, base, localpart, password)
            clients.append(client)
            user = User(resp.user_id, localpart, password, resp.access_token, resp.device_id)
        elif via == "admin":
            resp = await register_admin_api(http, base, secret, localpart, password)
            assert resp.status == 200, f"admin registration failed: {resp}"
            user = User(
                resp.body["user_id"], localpart, password,
                resp.body["access_token"], resp.body.get("device_id", ""),
            )
            client = nio.AsyncClient(base, user.user_id)
            client.restore_login(user.user_id, user.device_id, user.access_token)
            clients.append(client)
        else:
            raise ValueError(via)
        assert user.user_id == f"@{localpart}:{server_name}", user
        return Account(user, client)

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def synapse_account(make_account, settings):
    """A fresh user on the Synapse beside Myelin (the federation peer)."""
    return await make_account(settings.synapse_url, via="admin", prefix="syn")


@pytest.fixture
async def myelin_account(make_account, settings):
    """A fresh user on Myelin's process 1."""
    return await make_account(settings.base1, prefix="myl")


@pytest.fixture
async def alice(make_account, settings) -> Account:
    """Talks to process 1."""
    return await make_account(settings.base1, prefix="alice")


@pytest.fixture
async def bob(make_account, settings) -> Account:
    """Talks to process 2, so every conversation crosses processes."""
    return await make_account(settings.base2, prefix="bob")


async def create_shared_room(alice: Account, bob: Account) -> str:
    """Alice creates a private room and invites Bob; Bob sees the invite in
    /sync and joins; both have synced past the join. Returns the room ID."""
    created = await alice.client.room_create(name="e2e room", invite=[])
    assert isinstance(created, nio.RoomCreateResponse), f"createRoom failed: {created}"
    room_id = created.room_id

    invited = await alice.client.room_invite(room_id, bob.user.user_id)
    assert isinstance(invited, nio.RoomInviteResponse), f"invite failed: {invited}"

    def invite_seen(resp: nio.SyncResponse):
        info = resp.rooms.invite.get(room_id)
        if not info:
            return None
        # nio moves invite-state content out of .source into attributes.
        return next(
            (
                e
                for e in info.invite_state
                if isinstance(e, nio.InviteMemberEvent) and e.state_key == bob.user.user_id
            ),
            None,
        )

    member = await sync_until(bob.client, invite_seen, what="the invite in bob's sync")
    assert member.membership == "invite", member
    assert member.sender == alice.user.user_id, member

    joined = await bob.client.join(room_id)
    assert isinstance(joined, nio.JoinResponse), f"join failed: {joined}"
    assert joined.room_id == room_id

    await sync_until(
        bob.client, lambda r: room_id in r.rooms.join, what="the room in bob's joined rooms"
    )

    def bob_joined(resp: nio.SyncResponse):
        return any(
            e.get("type") == "m.room.member"
            and e.get("state_key") == bob.user.user_id
            and e.get("content", {}).get("membership") == "join"
            for e in timeline(resp, room_id)
        )

    await sync_until(alice.client, bob_joined, what="bob's join in alice's sync")
    return room_id


@pytest.fixture
async def room(alice: Account, bob: Account) -> str:
    return await create_shared_room(alice, bob)
