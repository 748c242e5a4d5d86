"""`myelin register-user`: the shared-secret admin registration a server operator runs,
against the running server; the new user then logs in with matrix-nio."""
import asyncio
import os
import secrets

import nio

from processes import ManagedProcess


def myelin_binary(settings) -> str:
    # The suite's federation sender runs from the same build folder as `myelin`.
    sender = ManagedProcess(settings.sender_process)
    exe = next(a for a in sender.argv if a.endswith("/myelin-federation-sender"))
    return os.path.join(os.path.dirname(exe), "myelin")


async def run_cli(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, out.decode()


async def test_register_user_creates_an_account_that_can_log_in(settings):
    name = "cli" + secrets.token_hex(4)
    code, out = await run_cli(myelin_binary(settings), "register-user", "--server-url", settings.base1,
                              "--shared-secret", settings.shared_secret, "--user", name, "--password", "pw-" + name)
    assert code == 0, out
    user_id = f"@{name}:{settings.server_name}"
    assert f"registered {user_id}" in out

    client = nio.AsyncClient(settings.base2, user_id)
    try:
        r = await client.login("pw-" + name)
        assert isinstance(r, nio.LoginResponse), r
        assert r.user_id == user_id
        assert not isinstance(await client.whoami(), nio.WhoamiError)
    finally:
        await client.close()


async def test_register_user_with_a_wrong_secret_fails_and_creates_nothing(settings):
    name = "cli" + secrets.token_hex(4)
    code, out = await run_cli(myelin_binary(settings), "register-user", "--server-url", settings.base1,
                              "--shared-secret", "not-the-secret", "--user", name, "--password", "pw")
    assert code != 0
    assert "registration failed" in out

    client = nio.AsyncClient(settings.base1, f"@{name}:{settings.server_name}")
    try:
        r = await client.login("pw")
        assert isinstance(r, nio.LoginError), r
    finally:
        await client.close()
