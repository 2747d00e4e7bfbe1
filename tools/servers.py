"""Throwaway servers on loopback ports: PostgreSQL (Debian's `postgresql`), `chroma run` and Redis (`redis-server`).

Started from local processes, for the tests (`tests/servers.py` has their fixtures, and the servers pass of the
suite gives every data dir a PostgreSQL database and a Chroma database of its own) and for `tools/stack.py`,
which runs the docker-compose topology without Docker. initdb refuses to run as root, so as root PostgreSQL runs
as the `postgres` user, in a directory outside pytest's tmp dir (that one is private to root).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from server.background import free_port

BUSY = "is being accessed by other users"
"""PostgreSQL's message when a template database still has sessions."""


def server_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, or None where the server is not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresCluster:
    """`with PostgresCluster() as pg: pg.create("a"); url = pg.url("a")`; stopped and deleted on exit."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="docgap-pg-"))
        self.port = free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
            self._as_user = ["runuser", "-u", "postgres", "--"]

    def __enter__(self) -> PostgresCluster:
        data = self.root / "data"
        self._run(self.bin_dir / "initdb", "-D", data, "-A", "trust", "-U", "docgap", as_server=True)
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"
        self._run(self.bin_dir / "pg_ctl", "-D", data, "-o", options, "-l", self.root / "log", "-w", "start",
                  as_server=True)  # fmt: skip
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run([*self._as_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate",
                        "stop"], capture_output=True, timeout=60, check=False)  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://docgap@127.0.0.1:{self.port}/{database}"

    def create(self, database: str, template: str | None = None) -> str:
        """Create `database` (a copy of `template` when given) and return its URL.

        A template must have no sessions: the caller closes its pools first; a session another thread still holds
        (a served request, a scheduler tick) is ended and the copy tried once more.
        """
        sql = f'CREATE DATABASE "{database}"' + (f' TEMPLATE "{template}"' if template else "")
        try:
            self.sql(sql)
        except subprocess.CalledProcessError as exc:
            if template is None or BUSY not in exc.stderr:
                raise
            self.sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{template}'")
            self.sql(sql)
        return self.url(database)

    def sql(self, statement: str) -> None:
        self._run("psql", "-h", "127.0.0.1", "-p", self.port, "-U", "docgap", "-d", "postgres", "-qc", statement)

    def _run(self, *args: object, as_server: bool = False) -> None:
        cmd = [*(self._as_user if as_server else []), *map(str, args)]
        subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)


class _LocalServer:
    """A server process on a loopback port, up (answering `up()`) when entered, stopped when left."""

    name = "server"

    def __init__(self, url: str, start_timeout: float) -> None:
        self.url = url
        self.start_timeout = start_timeout
        self._proc: subprocess.Popen[bytes] | None = None

    def argv(self) -> list[str]:
        raise NotImplementedError

    def up(self) -> bool:
        raise NotImplementedError

    def __enter__(self) -> str:
        self._proc = subprocess.Popen(self.argv(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + self.start_timeout
        while not self.up():  # neither server has a readiness signal but answering
            if time.monotonic() > deadline or self._proc.poll() is not None:
                self.__exit__()
                raise RuntimeError(f"{self.name} at {self.url} did not start")
            time.sleep(0.1)
        return self.url

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=30)


class ChromaServer(_LocalServer):
    """`with ChromaServer(path) as url:` a `chroma run` server storing under `path`, up when entered."""

    name = "chroma"

    def __init__(self, path: Path, start_timeout: float = 60) -> None:
        self.path = path
        self.port = free_port()
        super().__init__(f"http://localhost:{self.port}", start_timeout)

    @staticmethod
    def command() -> Path | None:
        chroma = Path(sys.executable).parent / "chroma"
        return chroma if chroma.exists() else None

    def argv(self) -> list[str]:
        chroma = self.command()
        if chroma is None:
            raise RuntimeError("the chroma command is not installed")
        return [str(chroma), "run", "--path", str(self.path), "--port", str(self.port)]

    def up(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False


class RedisServer(_LocalServer):
    """`with RedisServer() as url:` Debian's `redis-server` on a loopback port, in memory only, up when entered."""

    name = "redis-server"

    def __init__(self, start_timeout: float = 30) -> None:
        self.port = free_port()
        super().__init__(f"redis://127.0.0.1:{self.port}/0", start_timeout)

    @staticmethod
    def command() -> str | None:
        return shutil.which("redis-server") or next(iter(glob.glob("/usr/bin/redis-server")), None)

    def argv(self) -> list[str]:
        binary = self.command()
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        return [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]

    def up(self) -> bool:
        from redis import Redis
        from redis.exceptions import ConnectionError as RedisDown

        try:
            return bool(Redis.from_url(self.url, socket_connect_timeout=1).ping())
        except RedisDown:
            return False
