"""Real server processes the suite may kill and start again. scripts/test.sh describes
each in a JSON file: the command it ran (argv), its log, the file holding its current
pid, and a health URL. A restart appends to the same log and writes the new pid back,
so the script's cleanup stops whichever process is running at the end."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time

import aiohttp


class ManagedProcess:
    def __init__(self, path: str):
        with open(path) as f:
            spec = json.load(f)
        self.argv: list[str] = spec["argv"]
        self.log: str = spec["log"]
        self.pid_file: str = spec["pid_file"]
        self.health_url: str = spec["health_url"]

    @property
    def pid(self) -> int:
        with open(self.pid_file) as f:
            return int(f.read().strip())

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        # A killed child of ours stays a zombie until reaped; it is dead all the same.
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                return f.read().split(") ", 1)[1][0] != "Z"
        except FileNotFoundError:
            return False

    async def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
        """Sends `sig` to the process group (the script started it as a group leader)
        and waits until the process is gone; SIGKILL if it outlives `timeout`."""
        pid = self.pid
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while self.alive():
            if time.monotonic() > deadline:
                os.killpg(pid, signal.SIGKILL)
                deadline = time.monotonic() + 10
            await asyncio.sleep(0.1)

    async def start(self, timeout: float = 120) -> None:
        """Starts the same command again, in a session of its own, and waits for health."""
        log = open(self.log, "ab")
        try:
            proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        finally:
            log.close()
        with open(self.pid_file, "w") as f:
            f.write(f"{proc.pid}\n")
        await self.wait_healthy(timeout, proc)

    async def wait_healthy(self, timeout: float, proc: subprocess.Popen | None = None) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if proc is not None and proc.poll() is not None:
                    raise AssertionError(f"{self.argv[-1]} exited with {proc.returncode}; see {self.log}")
                try:
                    async with http.get(self.health_url, timeout=aiohttp.ClientTimeout(total=2)) as r:
                        if r.status == 200:
                            return
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"{self.health_url} not healthy after {timeout}s")
