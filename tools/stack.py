"""docker-compose.yml's topology from local processes on loopback, without Docker.

    python -m tools.stack [--data DIR]     # until Ctrl+C; prints the API's URL and the environment to use

PostgreSQL, Chroma and Redis start from the local binaries (`tools/servers.py`); the api and worker services run
the `command` and `environment` written in docker-compose.yml, with each service's host:port replaced by its
loopback address and `/data` by a local folder. So what this starts is what compose runs, and the end-to-end test
(`tests/test_stack.py`) that CI runs against it tests the compose file's own commands and settings.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from server.background import free_port
from tools.servers import ChromaServer, PostgresCluster, RedisServer, server_binaries

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"


def _interpolate(value: str) -> str:
    """Compose's `${NAME:-default}` and `${NAME}`: the variable when set and not empty, else the default."""
    return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", lambda m: os.environ.get(m[1]) or (m[2] or ""), value)


class LocalStack:
    """`with LocalStack(folder) as s:` the api at `s.url`, the worker running; `s.env` is the services' environment."""

    def __init__(self, folder: Path, start_timeout: float = 300) -> None:
        self.folder = folder
        self.start_timeout = start_timeout
        self.env: dict[str, str] = {}
        self.url = ""
        self._servers: list[object] = []
        self._procs: list[subprocess.Popen[bytes]] = []
        self.services = yaml.safe_load(COMPOSE.read_text())["services"]

    def __enter__(self) -> LocalStack:
        bin_dir = server_binaries()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL's server binaries (Debian's postgresql) are not installed")
        try:
            pg = self._start(PostgresCluster(bin_dir))
            pg.create("docgap")
            chroma = ChromaServer(self.folder / "chroma")
            self._start(chroma)
            redis = RedisServer()
            self._start(redis)
            port = free_port()
            hosts = {"postgres:5432": f"127.0.0.1:{pg.port}", "chroma:8000": f"localhost:{chroma.port}",
                     "redis:6379": f"127.0.0.1:{redis.port}"}  # fmt: skip
            self.env = self._environment(hosts)
            self.url = f"http://127.0.0.1:{port}"
            logs = self.folder / "logs"
            logs.mkdir(parents=True, exist_ok=True)
            self._run("api", {"--host 0.0.0.0": "--host 127.0.0.1", "--port 8000": f"--port {port}"}, logs)
            self._run("worker", {}, logs)
            self._wait_healthy()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start(self, server):  # type: ignore[no-untyped-def]
        server.__enter__()
        self._servers.append(server)
        return server

    def _environment(self, hosts: dict[str, str]) -> dict[str, str]:
        """The api's environment from the compose file, its service addresses and `/data` made local."""
        env = {}
        for name, value in self.services["api"]["environment"].items():
            value = _interpolate(str(value))
            for service, local in hosts.items():
                value = value.replace(f"@{service}/", f"@{local}/").replace(f"//{service}", f"//{local}")
            if value == "/data":
                value = str(self.folder / "data")
            if name == "PROMETHEUS_MULTIPROC_DIR":
                value = str(self.folder / "metrics")
                Path(value).mkdir(parents=True, exist_ok=True)
            env[name] = value
        return env

    def _run(self, service: str, replace: dict[str, str], logs: Path) -> None:
        command = self.services[service]["command"]
        for old, new in replace.items():
            command = command.replace(old, new)
        argv = shlex.split(command)
        argv[0] = str(Path(sys.executable).parent / argv[0])  # this environment's `docgap`
        out = (logs / f"{service}.log").open("wb")
        proc = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **self.env}, stdout=out, stderr=subprocess.STDOUT)
        self._procs.append(proc)

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self._procs):
                raise RuntimeError(f"a service exited at start; see {self.folder / 'logs'}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise RuntimeError(f"the api did not become healthy in {self.start_timeout:.0f} s")

    def __exit__(self, *exc: object) -> None:
        for proc in self._procs:
            proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for server in reversed(self._servers):
            server.__exit__()  # type: ignore[attr-defined]
        self._procs, self._servers = [], []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="folder for the stack's data and logs (default: a temp dir)")
    args = parser.parse_args()
    folder = args.data or Path(tempfile.mkdtemp(prefix="docgap-stack-"))
    with LocalStack(folder) as stack:
        print(f"docgap api on {stack.url} (2 server processes), worker running; logs in {folder / 'logs'}")
        print("environment for `docgap` commands against it:")
        for name, value in stack.env.items():
            print(f"  export {name}={shlex.quote(value)}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("stopping")


if __name__ == "__main__":
    main()
