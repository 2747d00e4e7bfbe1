"""The JSON API over real HTTP (uvicorn on loopback) against the analysed demo, with an admin API key."""

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import logged_in

pytestmark = pytest.mark.backends


@pytest.fixture()
def api(live_server, api_headers) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    with httpx.Client(base_url=live_server.url, headers=api_headers, timeout=30) as client:
        yield client


def test_answers_endpoint(api: httpx.Client) -> None:
    r = api.post("/v1/answers", json={"question": "How do I cancel a transfer I just sent?"})
    assert r.status_code == 200
    body = r.json()
    assert body["mode"] == "offline" and body["covered"] is True
    assert body["citations"][0]["url"].startswith("transfers/cancelling-a-transfer.md")
    assert set(body["citations"][0]) == {"n", "title", "url", "snippet", "score"}
    assert 0 <= body["confidence"] <= 1
    if body["topic_id"] is not None:
        assert body["topic"]["id"] == body["topic_id"]


def test_answers_validation(api: httpx.Client) -> None:
    assert api.post("/v1/answers", json={"question": ""}).status_code == 422
    assert api.post("/v1/answers", json={"question": "x", "top_k": 0}).status_code == 422


def test_topics_list_and_detail(api: httpx.Client) -> None:
    page = api.get("/v1/topics", params={"limit": 5}).json()
    assert len(page["items"]) == 5 and page["total"] >= 20
    scores = [t["gap_score"] for t in page["items"]]
    assert scores == sorted(scores, reverse=True)
    second = api.get("/v1/topics", params={"limit": 5, "offset": 5}).json()
    assert not {t["id"] for t in page["items"]} & {t["id"] for t in second["items"]}
    gaps = api.get("/v1/topics", params={"gaps_only": True, "limit": 500}).json()
    assert gaps["items"] and all(t["gap_kind"] in ("missing", "partial", "findability") for t in gaps["items"])
    tid = page["items"][0]["id"]
    detail = api.get(f"/v1/topics/{tid}").json()
    assert detail["topic"]["id"] == tid and detail["examples"] and detail["questions"]
    assert len(detail["weekly"]) >= 26
    assert api.get("/v1/topics/999999").status_code == 404
    assert api.get("/v1/topics", params={"status": "bogus"}).status_code == 422


def test_status_change_via_api(api: httpx.Client) -> None:
    tid = api.get("/v1/topics", params={"limit": 1}).json()["items"][0]["id"]
    r = api.post(f"/v1/topics/{tid}/status", json={"status": "triaged"})
    assert r.status_code == 200 and r.json()["status"] == "triaged"
    assert api.post(f"/v1/topics/{tid}/status", json={"status": "nope"}).status_code == 422
    api.post(f"/v1/topics/{tid}/status", json={"status": "new"})


def test_health_and_openapi(live_server) -> None:  # type: ignore[no-untyped-def]
    health = httpx.get(f"{live_server.url}/healthz").json()
    assert health == {"status": "ok", "mode": "offline", "checks": {"database": "ok", "vectors": "ok"}}
    spec = httpx.get(f"{live_server.url}/openapi.json").json()
    assert {"/v1/answers", "/v1/topics", "/v1/topics/{topic_id}", "/v1/questions", "/healthz"} <= set(spec["paths"])
    assert "/" not in spec["paths"], "web pages stay out of the API schema"
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    answers = spec["paths"]["/v1/answers"]["post"]
    assert {"HTTPBearer": []} in answers["security"]
    assert {"401", "403", "429"} <= set(answers["responses"])
    assert "security" not in spec["paths"]["/healthz"]["get"]


def test_pages_need_a_login_not_an_api_key(live_server, api_headers, web_users) -> None:  # type: ignore[no-untyped-def]
    for path in ("/", "/chat", "/accounts"):
        r = httpx.get(f"{live_server.url}{path}", headers=api_headers, timeout=30)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
    with logged_in(live_server.url, *web_users["account_manager"]) as (client, _):
        for path in ("/", "/chat", "/accounts"):
            assert client.get(path).status_code == 200, path
        assert client.post("/v1/answers", json={"question": "PIN?"}).status_code == 401, "a login is not an API key"
