"""Thumbs feedback on suggested answers, over real HTTP: stored on the recorded turn, where the gap score reads it."""

from collections.abc import Iterator

import httpx
import pytest
from sqlmodel import Session

from core.models import ChatTurn
from core.runtime import Runtime
from usecases.apikeys import create_key


@pytest.fixture()
def reader(live_server, demo_runtime: Runtime) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    """A client whose key may only read answers: feedback needs no more than that."""
    key = create_key(demo_runtime, ["answers:read"], name="feedback-test", rate_limit=10_000)
    with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {key.secret}"}, timeout=30) as c:
        yield c


def test_thumbs_down_is_stored_on_the_turn(reader: httpx.Client, demo_runtime: Runtime) -> None:
    answer = reader.post("/v1/answers", json={"question": "How do I change my PIN?"}).json()
    turn_id = answer["turn_id"]
    assert isinstance(turn_id, int)
    r = reader.post(f"/v1/answers/{turn_id}/feedback", json={"helpful": False})
    assert r.status_code == 200 and r.json() == {"turn_id": turn_id, "feedback": -1}
    with Session(demo_runtime.engine) as s:
        turn = s.get(ChatTurn, turn_id)
        assert turn is not None and turn.feedback == -1 and turn.question == "How do I change my PIN?"
    assert reader.post(f"/v1/answers/{turn_id}/feedback", json={"helpful": True}).json()["feedback"] == 1


def test_feedback_errors(reader: httpx.Client, live_server) -> None:  # type: ignore[no-untyped-def]
    assert reader.post("/v1/answers/99999999/feedback", json={"helpful": False}).status_code == 404
    assert reader.post("/v1/answers/1/feedback", json={}).status_code == 422
    assert httpx.post(f"{live_server.url}/v1/answers/1/feedback", json={"helpful": False}).status_code == 401
