"""Property-based fuzzing of the `/v1` API from its own OpenAPI schema (schemathesis), over real HTTP.

Every generated request is sent with a valid admin key to an instance of its own (a part of the help center,
a few topics' worth of questions), so writes cannot disturb the shared demo. The checks: no 5xx, and every
response matches the schema the API publishes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from demo import HELPCENTER_DIR
from tests.conftest import LiveServer, make_runtime
from usecases.apikeys import create_key
from usecases.pipeline import import_docs


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[tuple[LiveServer, str]]:  # type: ignore[no-untyped-def]
    rt = make_runtime(tmp_path_factory.mktemp("fuzz") / "data", embedder)
    assert import_docs(rt, HELPCENTER_DIR / "cards", "cards").ok
    key = create_key(rt, ["admin"], name="fuzz", rate_limit=1_000_000).secret
    with LiveServer(rt) as server:
        yield server, key


OPERATIONS = [
    ("POST", "/v1/answers"),
    ("POST", "/v1/questions"),
    ("GET", "/v1/topics"),
    ("GET", "/v1/topics/{topic_id}"),
    ("POST", "/v1/topics/{topic_id}/status"),
    ("GET", "/v1/accounts/{account_id}/brief"),
    ("GET", "/v1/briefs/executive"),
    ("GET", "/v1/flags"),
    ("GET", "/v1/jobs"),
]


@pytest.fixture(scope="module")
def api_schema(fuzz_server: tuple[LiveServer, str]):  # type: ignore[no-untyped-def]
    server, _key = fuzz_server
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json")


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_api_conforms_to_its_schema(method: str, path: str, api_schema, fuzz_server) -> None:  # type: ignore[no-untyped-def]
    """Up to 25 generated requests per operation (schemathesis' own pytest plugin is driven by hand here)."""
    server, key = fuzz_server
    operation = api_schema[path][method]
    calls: list[int] = []

    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call_and_validate(
            base_url=server.url,
            headers={"Authorization": f"Bearer {key}"},
            checks=[not_a_server_error, response_schema_conformance],
            timeout=30,
        )
        calls.append(response.status_code)

    check()
    assert calls, "no request was generated"
