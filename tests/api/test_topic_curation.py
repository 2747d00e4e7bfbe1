"""Topic filters, merge/split/lineage, emerging topics and account trends over real HTTP, on a private demo copy."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import Session, select

from core.models import Account, Question
from core.runtime import Runtime
from tests.conftest import LiveServer
from usecases.apikeys import create_key


@pytest.fixture()
def api(demo_copy: Runtime) -> Iterator[httpx.Client]:
    key = create_key(demo_copy, ["admin"], name="curation", rate_limit=100_000)
    with (
        LiveServer(demo_copy) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key.secret}"}, timeout=60) as client,
    ):
        yield client


def test_merge_split_and_lineage(api: httpx.Client) -> None:
    items = api.get("/v1/topics", params={"limit": 500}).json()["items"]
    biggest = sorted(items, key=lambda t: -t["size"])
    a, into = biggest[3], biggest[1]

    r = api.post(f"/v1/topics/{a['id']}/merge", json={"into": into["id"]})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == into["id"] and r.json()["size"] == into["size"] + a["size"]
    again = api.post(f"/v1/topics/{a['id']}/merge", json={"into": into["id"]})
    assert again.status_code == 409 and "merged into" in again.json()["detail"]
    assert api.post(f"/v1/topics/{into['id']}/merge", json={"into": 10**9}).status_code == 404

    detail = api.get(f"/v1/topics/{into['id']}").json()
    moving = [q["id"] for q in detail["questions"][:4]]
    r = api.post(f"/v1/topics/{into['id']}/split", json={"question_ids": moving, "label": "Split out by a writer"})
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["size"] == 4 and new["split_from"] == into["id"] and new["label_source"] == "writer"
    assert new["coverage"] is not None and new["coverage"] > 0.1, "the new topic's gap is assessed right away"
    assert new["signals"]["recent_questions"] >= 0
    assert api.post(f"/v1/topics/{into['id']}/split", json={"question_ids": [10**9]}).status_code == 409
    assert api.post(f"/v1/topics/{into['id']}/split", json={"question_ids": []}).status_code == 422

    events = api.get(f"/v1/topics/{into['id']}/lineage").json()
    assert [(e["kind"], e["actor"]) for e in events] == [("merge", "writer"), ("split", "writer")]
    assert events[0]["topic_id"] == a["id"] and events[1]["other_topic_id"] == new["id"]
    assert api.get("/v1/topics/999999/lineage").status_code == 404


def test_topic_filters_by_period_account_and_language(api: httpx.Client, demo_copy: Runtime) -> None:
    with Session(demo_copy.engine) as s:
        account = s.exec(select(Account).where(Account.name == "Brightline Logistics")).one()
        own = s.exec(select(Question.topic_id).where(Question.account_id == account.id)).all()
        french = s.exec(select(Question.topic_id).where(Question.language == "fr")).all()
    r = api.get("/v1/topics", params={"account": "brightline logistics", "limit": 500}).json()
    assert {t["id"] for t in r["items"]} == {t for t in own if t is not None}
    assert sum(t["matching"] for t in r["items"]) == sum(1 for t in own if t is not None)
    counts = [t["matching"] for t in r["items"]]
    assert counts == sorted(counts, reverse=True) and r["total"] == len(r["items"])

    fr = api.get("/v1/topics", params={"language": "fr", "limit": 500}).json()
    assert fr["items"] and {t["id"] for t in fr["items"]} == {t for t in french if t is not None}

    week = api.get("/v1/topics", params={"since": "2026-11-16", "until": "2026-11-23", "limit": 500}).json()
    everything = api.get("/v1/topics", params={"limit": 500}).json()
    assert 0 < week["total"] < everything["total"]
    assert all(t["matching"] >= 1 for t in week["items"])
    assert api.get("/v1/topics", params={"account": "Nobody Inc"}).status_code == 404
    assert api.get("/v1/topics", params={"language": "French"}).status_code == 422


def test_emerging_topics_and_rising_accounts(api: httpx.Client) -> None:
    emerging = api.get("/v1/topics/emerging").json()
    assert all(e["reason"] in ("new", "growing") for e in emerging)
    assert all(e["this_week"] >= 2 * (e["weekly_before"] + 1) for e in emerging if e["reason"] == "growing")

    accounts = api.get("/v1/accounts").json()
    assert len(accounts) == 15
    top = accounts[0]
    assert top["account"] == "Brightline Logistics" and top["rising"], top
    assert top["focus_weekly"][-4:] > top["focus_weekly"][:4] and len(top["weekly"]) == 13
    rising = api.get("/v1/accounts", params={"rising_only": True}).json()
    assert [a["account"] for a in rising] == [a["account"] for a in accounts if a["rising"]]
    assert len(rising) <= 3, "the leading indicator must stay rare"
