"""Registration (both paths), password login, whoami, and the discovery
endpoints a client reads before it has an account."""

from __future__ import annotations

import nio

from e2e_helpers import (
    CLIENT_V3,
    new_client,
    random_localpart,
    register_admin_api,
    register_uia,
    request,
)


async def whoami(client: nio.AsyncClient) -> nio.WhoamiResponse:
    resp = await client.whoami()
    assert isinstance(resp, nio.WhoamiResponse), f"whoami failed: {resp}"
    return resp


async def test_register_with_uia_dummy_stage(http, settings):
    localpart = random_localpart("uia")
    client, resp = await register_uia(http, settings.base1, localpart, "correct horse")
    try:
        assert resp.user_id == f"@{localpart}:{settings.server_name}"
        assert resp.access_token and resp.device_id
        me = await whoami(client)
        assert me.user_id == resp.user_id
        assert me.device_id == resp.device_id
    finally:
        await client.close()


async def test_register_taken_username_is_refused(http, settings, make_account):
    account = await make_account(settings.base1)
    again = await request(
        http, settings.base2, "POST", f"{CLIENT_V3}/register",
        json_body={
            "username": account.user.localpart,
            "password": "another password",
            "auth": {"type": "m.login.dummy"},
        },
    )
    assert again.status == 400, again
    assert again.errcode == "M_USER_IN_USE", again


async def test_register_with_shared_secret(http, settings):
    for admin in (False, True):
        localpart = random_localpart("admin" if admin else "shared")
        resp = await register_admin_api(
            http, settings.base1, settings.shared_secret, localpart, "s3cret pass", admin=admin
        )
        assert resp.status == 200, resp
        assert resp.body["user_id"] == f"@{localpart}:{settings.server_name}"
        token = resp.body["access_token"]
        me = await request(http, settings.base2, "GET", f"{CLIENT_V3}/account/whoami", token=token)
        assert me.status == 200, me
        assert me.body["user_id"] == resp.body["user_id"]


async def test_shared_secret_registration_rejects_bad_mac(http, settings):
    localpart = random_localpart("badmac")
    resp = await register_admin_api(
        http, settings.base1, settings.shared_secret, localpart, "pw", mac="00" * 20
    )
    assert resp.status in (401, 403), resp
    assert "access_token" not in (resp.body or {}), resp
    # And the name stays free.
    avail = await request(
        http, settings.base1, "GET", f"{CLIENT_V3}/register/available",
        params={"username": localpart},
    )
    assert avail.status == 200 and avail.body == {"available": True}, avail


async def test_two_users_login_with_password_and_whoami(settings, make_account):
    # One user from each registration path, each logging in on the other
    # process than the one it registered on.
    accounts = [
        (await make_account(settings.base1, via="uia"), settings.base2),
        (await make_account(settings.base2, via="admin"), settings.base1),
    ]
    for account, login_base in accounts:
        client = new_client(login_base, account.user.user_id)
        try:
            login = await client.login(account.user.password, device_name="e2e login")
            assert isinstance(login, nio.LoginResponse), f"login failed: {login}"
            assert login.user_id == account.user.user_id
            assert login.access_token and login.access_token != account.user.access_token
            assert login.device_id and login.device_id != account.user.device_id
            me = await whoami(client)
            assert me.user_id == account.user.user_id
            assert me.device_id == login.device_id
        finally:
            await client.close()
        # The registration token still works alongside the new login.
        assert (await whoami(account.client)).user_id == account.user.user_id


async def test_login_with_wrong_password_is_forbidden(http, settings, make_account):
    account = await make_account(settings.base1)
    resp = await request(
        http, settings.base1, "POST", f"{CLIENT_V3}/login",
        json_body={
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": account.user.localpart},
            "password": "not the password",
        },
    )
    assert resp.status == 403, resp
    assert resp.errcode == "M_FORBIDDEN", resp


async def test_register_available(http, base_url, make_account):
    free = random_localpart("free")
    resp = await request(
        http, base_url, "GET", f"{CLIENT_V3}/register/available", params={"username": free}
    )
    assert resp.status == 200, resp
    assert resp.body == {"available": True}

    taken = (await make_account(base_url)).user.localpart
    resp = await request(
        http, base_url, "GET", f"{CLIENT_V3}/register/available", params={"username": taken}
    )
    assert resp.status == 400, resp
    assert resp.errcode == "M_USER_IN_USE", resp


async def test_login_flows_list_password(http, base_url):
    resp = await request(http, base_url, "GET", f"{CLIENT_V3}/login")
    assert resp.status == 200, resp
    types = [flow.get("type") for flow in resp.body["flows"]]
    assert "m.login.password" in types, resp


async def test_versions_and_health(http, base_url):
    health = await request(http, base_url, "GET", "/health")
    assert health.status == 200, health
    versions = await request(http, base_url, "GET", "/_matrix/client/versions")
    assert versions.status == 200, versions
    assert isinstance(versions.body.get("versions"), list) and versions.body["versions"], versions
