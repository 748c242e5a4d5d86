"""Server resource use from /proc: resident memory of a server's process
tree, and CPU time of the server plus its Postgres backends (found through
pg_stat_activity for that server's database)."""
import asyncio
import os

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        # The command name may contain spaces; fields resume after ')'.
        return f.read().rsplit(")", 1)[1].split()


def cpu_seconds(pid):
    try:
        f = _stat_fields(pid)
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(f[11]) + int(f[12])) / CLK_TCK  # utime + stime


def process_tree(pid):
    """pid and all its descendants (a server may fork workers)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(_stat_fields(entry)[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def rss_bytes(pid):
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


class Target:
    """Where a server lives: its base URL, its process and its database."""

    def __init__(self, name, url, pid, db, pg_port):
        self.name, self.url, self.pid, self.db, self.pg_port = name, url, int(pid), db, pg_port

    async def backend_pids(self):
        proc = await asyncio.create_subprocess_exec(
            "psql", "-X", "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "myelin", "-d", "postgres",
            "-tAc", f"SELECT pid FROM pg_stat_activity WHERE datname = '{self.db}'",
            env={**os.environ, "PGPASSWORD": "myelin"},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        out, _ = await asyncio.wait_for(proc.communicate(), 15)
        return [int(x) for x in out.split() if x.strip().isdigit()]

    async def cpu_snapshot(self):
        server = sum(cpu_seconds(p) for p in process_tree(self.pid))
        pg = {p: cpu_seconds(p) for p in await self.backend_pids()}
        return server, pg

    @staticmethod
    def cpu_delta(before, after):
        """Server and Postgres CPU seconds between two snapshots. Backends that
        started in between count in full; ones that ended are lost (pools keep
        their connections, so that is rare)."""
        server = after[0] - before[0]
        pg = sum(v - before[1].get(p, 0.0) for p, v in after[1].items())
        return server, pg


class RssSampler:
    """Samples a target's RSS every `interval` seconds to catch the peak."""

    def __init__(self, target, interval=0.25):
        self.target, self.interval, self.peak, self._task = target, interval, 0, None

    async def _run(self):
        while True:
            self.peak = max(self.peak, rss_bytes(self.target.pid))
            await asyncio.sleep(self.interval)

    def start(self):
        self._task = asyncio.create_task(self._run())

    async def stop(self):
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass


async def measured(target, coro):
    """Awaits a workload step and adds the server's and its Postgres
    backends' CPU seconds spent meanwhile to its result."""
    before = await target.cpu_snapshot()
    result = await coro
    after = await target.cpu_snapshot()
    result["cpu_server_s"], result["cpu_pg_s"] = Target.cpu_delta(before, after)
    return result
