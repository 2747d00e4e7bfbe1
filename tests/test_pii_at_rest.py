"""No raw PII at rest: personal data sent through the API and the chat is not in any file of the data dir.

The values go in through `POST /v1/answers`, `POST /v1/questions` and the chat page (plain and streamed), over real
HTTP; then every file under the data dir (SQLite, its WAL, the Chroma store) is searched byte by byte for them.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from core.runtime import Runtime
from tests.conftest import LiveServer, logged_in
from usecases.apikeys import create_key

EMAIL = "jane.roe.pii@example.org"
CARD = "4111 1111 1111 1111"
PHONE = "+44 20 7946 0958"
IBAN = "GB82 WEST 1234 5698 7654 32"
RAW = [EMAIL, CARD, PHONE, IBAN]


def _needles() -> list[bytes]:
    out = []
    for value in RAW:
        out += [value.encode(), value.replace(" ", "").encode()]
        out.append(value.encode("utf-16-le"))
    return out


def test_pii_sent_in_is_not_at_rest(demo_copy: Runtime, web_users) -> None:  # type: ignore[no-untyped-def]
    question = f"My card {CARD} was charged twice; call me on {PHONE} or mail {EMAIL}, refund to {IBAN}. Why?"
    key = create_key(demo_copy, ["answers:read", "questions:write"], name="pii").secret
    auth = {"Authorization": f"Bearer {key}"}
    with LiveServer(demo_copy) as server:
        base = server.url
        answered = httpx.post(f"{base}/v1/answers", json={"question": question}, headers=auth, timeout=60)
        assert answered.status_code == 200
        pushed = {"text": question, "account": "Brightline Logistics", "external_id": "pii-1"}
        posted = httpx.post(f"{base}/v1/questions", headers=auth, timeout=60, json=pushed)
        assert posted.status_code == 200, posted.text
        with logged_in(base, *web_users["account_manager"]) as (client, csrf):
            assert client.post("/chat", data={"question": question, "csrf_token": csrf}).status_code == 200
            assert client.post("/chat/stream", data={"question": question, "csrf_token": csrf}).status_code == 200
    files = [f for f in Path(demo_copy.settings.data_dir).rglob("*") if f.is_file()]
    assert any(f.suffix == ".sqlite3" for f in files)
    found = [(f.name, n) for f in files for n in _needles() if n in f.read_bytes()]
    assert not found, f"raw PII at rest: {found}"
