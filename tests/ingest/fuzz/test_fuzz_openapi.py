"""OpenAPI specs under fuzzing: no crash, every malformed operation named, every good one a passage, bombs refused."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from ingest.docs import DocumentRecord
from ingest.openapi import read_openapi
from ingest.records import IngestError
from tests.ingest.fuzz._support import fuzz, json_values, nested

BAD_OPS: dict[str, Any] = {
    "parameters a number": lambda op: {**op, "parameters": 5},
    "tags a string": lambda op: {**op, "tags": "pets"},
    "required a number": lambda op: {
        **op,
        "requestBody": {
            "content": {"application/json": {"schema": {"type": "object", "required": 3, "properties": {"a": {}}}}}
        },
    },
    "required unhashable": lambda op: {
        **op,
        "requestBody": {"content": {"application/json": {"schema": {"properties": {"a": {}}, "required": [[1]]}}}},
    },
}


def _read(name: str, text: str) -> list[DocumentRecord | IngestError]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_text(text, encoding="utf-8")
        return list(read_openapi(path))


@fuzz(120)
@given(
    json_values.map(json.dumps)
    | st.dictionaries(st.sampled_from(["openapi", "info", "paths", "components"]), json_values).map(json.dumps)
    | st.fixed_dictionaries(
        {"openapi": st.just("3.0.0"), "paths": st.dictionaries(st.text(max_size=5), json_values, max_size=3)},
        optional={"info": json_values, "components": json_values},
    ).map(json.dumps),
    st.sampled_from(["spec.json", "spec.yaml"]),
)
def test_any_document_yields_a_spec_or_errors(text: str, name: str) -> None:
    items = _read(name, text)
    assert items and all(isinstance(i, DocumentRecord | IngestError) for i in items)
    assert sum(isinstance(i, DocumentRecord) for i in items) <= 1


@fuzz(80)
@given(st.lists(st.tuples(st.sampled_from(["get", "post", "put", "delete"]), st.booleans()), min_size=1, max_size=6),
       st.sampled_from(sorted(BAD_OPS)), json_values, st.booleans())  # fmt: skip
def test_every_good_operation_is_a_passage_and_every_bad_one_named(
    ops: list[tuple[str, bool]], bad_kind: str, junk: Any, as_yaml: bool
) -> None:
    paths: dict[str, Any] = {}
    good, bad = set(), set()
    for i, (method, is_bad) in enumerate(ops):
        op: dict[str, Any] = {"operationId": f"op{i}", "summary": f"Does thing {i}", "x-junk": junk,
                              "responses": {"200": {"description": "OK"}}}  # fmt: skip
        if is_bad:
            op = BAD_OPS[bad_kind](op)
            bad.add(f"{method.upper()} /r{i}")
        else:
            good.add(f"op{i}")
        paths[f"/r{i}"] = {method: op, "x-other": junk}
    spec = {"openapi": "3.0.3", "info": {"title": "T"}, "paths": paths}
    items = _read("spec.yaml" if as_yaml else "spec.json", yaml.safe_dump(spec) if as_yaml else json.dumps(spec))
    assert {e.record for e in items if isinstance(e, IngestError) and e.record != "file"} == bad
    docs = [i for i in items if isinstance(i, DocumentRecord)]
    assert {c.anchor for d in docs for c in d.chunks or []} == good


def test_a_yaml_billion_laughs_is_refused_quickly() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    bomb = "\n".join([*lines, "openapi: 3.0.0", "info: {title: *a9}", "paths: {/x: {get: {summary: *a9, tags: *a9}}}"])
    start = time.monotonic()
    (error,) = _read("spec.yaml", bomb)
    assert time.monotonic() - start < 2
    assert isinstance(error, IngestError) and "expands to more than" in error.message


def test_shared_yaml_anchors_are_still_read() -> None:
    spec = """openapi: 3.0.0
info: {title: Shared}
components: {}
x-errors: &errors {"400": {description: Bad request}, "404": {description: Not found}}
paths:
  /a: {get: {operationId: a, responses: *errors}}
  /b: {get: {operationId: b, responses: *errors}}
"""
    (doc,) = _read("spec.yaml", spec)
    assert isinstance(doc, DocumentRecord) and [c.anchor for c in doc.chunks or []] == ["a", "b"]


def test_absurd_nesting_is_refused_not_a_recursion_error() -> None:
    for name, text in [
        ("spec.json", "[" * 100_000 + "]" * 100_000),
        ("spec.yaml", "[" * 100_000 + "]" * 100_000),
        ("spec.json", json.dumps({"openapi": "3.0.0", "paths": {"/x": {"get": {"summary": "s", "x": nested(100)}}}})),
    ]:
        (error,) = _read(name, text)
        assert isinstance(error, IngestError) and error.record == "file", (name, error)
