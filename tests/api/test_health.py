"""`/healthz` over real HTTP: 200 when the database and the vector store answer, 503 naming the one that does not.

The unreachable stores are real: a PostgreSQL URL and a Chroma server URL on loopback ports where nothing listens.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from core.embedding import SentenceTransformerEmbedder
from tests.conftest import LiveServer, free_port, make_runtime


def _health(rt) -> httpx.Response:  # type: ignore[no-untyped-def]
    with LiveServer(rt) as server:
        return httpx.get(f"{server.url}/healthz", timeout=30)


def test_a_healthy_instance_says_so(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    r = _health(make_runtime(tmp_path / "data", embedder))
    assert r.status_code == 200
    assert r.json()["checks"] == {"database": "ok", "vectors": "ok"} and r.json()["status"] == "ok"


def test_an_unreachable_database_is_503_without_its_address(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    port = free_port()
    rt = make_runtime(
        tmp_path / "data", embedder, database_url=f"postgresql+psycopg://docgap:s3cret@127.0.0.1:{port}/x"
    )
    r = _health(rt)
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "unavailable" and body["checks"]["vectors"] == "ok"
    assert body["checks"]["database"].startswith("unavailable (") and body["checks"]["database"].endswith("Error)")
    assert str(port) not in r.text and "s3cret" not in r.text and "docgap" not in r.text


def test_an_unreachable_chroma_server_is_503(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    rt = make_runtime(tmp_path / "data", embedder, chroma_url=f"http://127.0.0.1:{free_port()}")
    r = _health(rt)
    assert r.status_code == 503
    assert r.json()["checks"]["database"] == "ok" and r.json()["checks"]["vectors"].startswith("unavailable (")


def test_the_queue_is_checked_when_configured(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    """A Redis URL where nothing listens is 503 naming the queue; a running `redis-server` is "ok"."""
    from tests.servers import RedisServer

    port = free_port()
    down = _health(make_runtime(tmp_path / "a", embedder, redis_url=f"redis://:pa55word@127.0.0.1:{port}/0"))
    assert down.status_code == 503
    assert down.json()["checks"]["queue"] == "unavailable (ConnectionError)"
    assert "pa55word" not in down.text and str(port) not in down.text
    if RedisServer.command() is None:
        return  # the up half needs redis-server (`make test` installs it)
    with RedisServer() as url:
        up = _health(make_runtime(tmp_path / "b", embedder, redis_url=url))
    assert up.status_code == 200 and up.json()["checks"]["queue"] == "ok"
