"""Structured logs from `docgap serve` itself: JSON lines, one per request, with an id that follows the request.

The server runs as its own process, as operators run it (`DOCGAP_LOG_FORMAT=json`), and everything it writes to
stderr is read back: every line must be a JSON object (a collector would drop the rest), each request must have
its record with the route's template, status and time, and a query string (where customer text can be) must not be
logged at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from server.background import free_port

ROOT = Path(__file__).resolve().parents[2]
QUERY_TEXT = "my-card-number-is-private"


def test_the_server_logs_each_request_as_one_json_line_with_its_id(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DOCGAP_DATA_DIR": str(tmp_path / "data"), "DOCGAP_LOG_FORMAT": "json",
           "DOCGAP_LOG_LEVEL": "INFO"}  # fmt: skip
    for name in ("DOCGAP_DATABASE_URL", "DOCGAP_CHROMA_URL", "DOCGAP_REDIS_URL"):
        env.pop(name, None)
    stderr = (tmp_path / "stderr.log").open("w+")
    docgap = Path(sys.executable).parent / "docgap"
    proc = subprocess.Popen([str(docgap), "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=stderr)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, (tmp_path / "stderr.log").read_text()[-3000:]
            try:
                if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.5)
        given = httpx.get(f"{base}/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
        assert given.headers["x-request-id"] == "lb-7f3a.42", "a caller's plain id is kept and sent back"
        refused = httpx.get(f"{base}/v1/topics/17", params={"q": QUERY_TEXT}, headers={"X-Request-ID": "<b>x</b>"})
        assert refused.status_code == 401
        made = refused.headers["x-request-id"]
        assert len(made) == 32 and made != "<b>x</b>", "an id that is not a plain token is replaced"
        page = httpx.get(f"{base}/topics/99", headers={"X-Request-ID": "page-1"})
        assert page.status_code == 303
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    stderr.seek(0)
    lines = [line for line in stderr.read().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    assert all(isinstance(r, dict) and {"time", "level", "logger", "message"} <= r.keys() for r in records)
    assert any(r["logger"].startswith("uvicorn") for r in records), "uvicorn's own records are JSON lines too"
    by_id = {r["request_id"]: r for r in records if r["logger"] == "server.access"}

    assert by_id["lb-7f3a.42"] | {"time": None, "ms": None} == {
        "time": None, "level": "INFO", "logger": "server.access", "message": by_id["lb-7f3a.42"]["message"],
        "request_id": "lb-7f3a.42", "method": "GET", "path": "/healthz", "route": "/healthz", "status": 200,
        "ms": None,
    }  # fmt: skip
    assert by_id["lb-7f3a.42"]["ms"] >= 0
    assert by_id[made]["route"] == "/v1/topics/{topic_id}" and by_id[made]["status"] == 401
    assert by_id["page-1"]["route"] == "/topics/{topic_id}" and by_id["page-1"]["path"] == "/topics/99"
    assert all(QUERY_TEXT not in line for line in lines), "the query string is never logged"
