"""Fixtures over the throwaway servers of `tools/servers.py` (PostgreSQL, `chroma run`, Redis on loopback)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tools.servers import BUSY, ChromaServer, PostgresCluster, RedisServer, server_binaries

__all__ = ["BUSY", "ChromaServer", "PostgresCluster", "RedisServer", "postgres", "redis_url", "server_binaries"]


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A private cluster for one test module with databases `a` and `b`; yields a URL template with `{db}`."""
    pytest.importorskip("psycopg", reason="PostgreSQL tests need psycopg (pip install -e '.[postgres]')")
    bin_dir = server_binaries()
    if bin_dir is None:
        pytest.skip("the PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    with PostgresCluster(bin_dir) as pg:
        for db in ("a", "b"):
            pg.create(db)
        yield pg.url("{db}")


@pytest.fixture()
def redis_url() -> Iterator[str]:
    """A private Redis for one test; skipped where `redis-server` is not installed and CI did not install it."""
    if RedisServer.command() is None:
        pytest.skip("redis-server not installed (`make test` installs Debian's redis-server where it may)")
    with RedisServer() as url:
        yield url
