"""OpenAPI specs (3.x or Swagger 2.0, JSON or YAML) as one document with one passage per operation.

An API reference answers "which endpoint does X, what does it take" one operation at a time, so each operation is
its own passage — method, path and summary first, then its parameters, request body and responses — cited as
`spec#operationId`. Local `$ref`s are followed; schemas are summarised one level deep, enough to answer from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from ingest.docs import ChunkRecord, DocumentRecord, content_hash
from ingest.records import IngestError

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
Spec = dict[str, Any]


def read_openapi(path: Path) -> Iterator[DocumentRecord | IngestError]:
    """The spec at `path` as one document (URL: the file name) whose chunks are its operations."""
    try:
        spec = _load(path)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        yield IngestError(str(path), "file", f"not a readable OpenAPI spec: {exc}")
        return
    if not isinstance(spec, dict) or not isinstance(spec.get("paths"), dict):
        yield IngestError(str(path), "file", "not an OpenAPI spec (no `paths` object)")
        return
    if not ("openapi" in spec or "swagger" in spec):
        yield IngestError(str(path), "file", "not an OpenAPI spec (no `openapi` or `swagger` version)")
        return
    info = spec.get("info") or {}
    title = str(info.get("title") or path.stem)
    chunks = list(operation_chunks(spec))
    if not chunks:
        yield IngestError(str(path), "file", "the spec has no operations")
        return
    intro = "\n\n".join(filter(None, [f"# {title}", str(info.get("description") or "").strip()]))
    text = "\n\n".join([intro, *(f"## {c.section}\n\n{c.text}" for c in chunks)])
    digest = content_hash(title, *(f"{c.section}\x1e{c.anchor}\x1e{c.text}" for c in chunks))
    yield DocumentRecord(path.name, title, text, digest, chunks=chunks)


def _load(path: Path) -> Any:
    raw = path.read_text(encoding="utf-8")
    return json.loads(raw) if path.suffix.lower() == ".json" else yaml.safe_load(raw)


def operation_chunks(spec: Spec) -> Iterator[ChunkRecord]:
    for route, item in spec["paths"].items():
        if not isinstance(item, dict):
            continue
        shared = item.get("parameters") or []
        for method in METHODS:
            op = item.get(method)
            if isinstance(op, dict):
                section = f"{method.upper()} {route}"
                anchor = str(op.get("operationId") or _slug(section))
                yield ChunkRecord(section=section, anchor=anchor, text=_operation_text(spec, section, op, shared))


def _operation_text(spec: Spec, section: str, op: dict[str, Any], shared: list[Any]) -> str:
    summary = str(op.get("summary") or "").strip()
    head = f"{section} — {summary}" if summary else section
    if op.get("deprecated"):
        head += " (deprecated)"
    parts = [head, str(op.get("description") or "").strip()]
    if op.get("tags"):
        parts.append("Tags: " + ", ".join(map(str, op["tags"])))
    params = _parameters(spec, shared, op.get("parameters") or [])
    if [p for p in params if p.get("in") != "body"]:
        parts.append("Parameters:\n" + "\n".join(_parameter_line(spec, p) for p in params if p.get("in") != "body"))
    body = _request_body(spec, op, params)
    if body:
        parts.append(body)
    responses = op.get("responses") or {}
    if isinstance(responses, dict) and responses:
        lines = [_response_line(spec, str(code), _deref(spec, r)) for code, r in responses.items()]
        parts.append("Responses:\n" + "\n".join(lines))
    return "\n\n".join(p for p in parts if p)


def _parameters(spec: Spec, shared: list[Any], own: list[Any]) -> list[dict[str, Any]]:
    """Path-level parameters overridden by the operation's own, keyed by (name, in) as the spec says."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for raw in [*shared, *own]:
        p = _deref(spec, raw)
        if isinstance(p, dict) and p.get("name"):
            merged[(str(p["name"]), str(p.get("in", "")))] = p
    return list(merged.values())


def _parameter_line(spec: Spec, p: dict[str, Any]) -> str:
    flags = ", ".join(filter(None, [str(p.get("in", "")), "required" if p.get("required") else "optional"]))
    kind = schema_summary(spec, p.get("schema") or p, depth=1)
    description = " ".join(str(p.get("description") or "").split())
    return f"- {p['name']} ({flags}, {kind})" + (f": {description}" if description else "")


def _request_body(spec: Spec, op: dict[str, Any], params: list[dict[str, Any]]) -> str:
    body = _deref(spec, op.get("requestBody"))
    if isinstance(body, dict):
        media, schema = _first_content(body)
        required = ", required" if body.get("required") else ""
        description = " ".join(str(body.get("description") or "").split())
        line = f"Request body ({media or 'any'}{required}): {schema_summary(spec, schema)}"
        return line + (f" — {description}" if description else "")
    swagger_body = next((p for p in params if p.get("in") == "body"), None)  # Swagger 2.0
    if swagger_body:
        required = ", required" if swagger_body.get("required") else ""
        return f"Request body ({swagger_body['name']}{required}): {schema_summary(spec, swagger_body.get('schema'))}"
    return ""


def _response_line(spec: Spec, code: str, response: Any) -> str:
    if not isinstance(response, dict):
        return f"- {code}"
    description = " ".join(str(response.get("description") or "").split())
    media, schema = _first_content(response)
    schema = schema if schema is not None else response.get("schema")  # Swagger 2.0
    shape = f" — {schema_summary(spec, schema)}" if schema is not None else ""
    return f"- {code}" + (f" ({media})" if media else "") + (f": {description}" if description else "") + shape


def _first_content(obj: dict[str, Any]) -> tuple[str, Any]:
    content = obj.get("content")
    if isinstance(content, dict) and content:
        media, value = next(iter(content.items()))
        return str(media), (value or {}).get("schema") if isinstance(value, dict) else None
    return "", None


def schema_summary(spec: Spec, schema: Any, depth: int = 0, seen: frozenset[str] = frozenset()) -> str:
    """A schema in one line: `Pet {id*: integer (int64), name*: string}`; `*` marks required properties.

    Only the top level is expanded: deeper objects and references show their type or name, which keeps a
    passage short and stops recursive schemas.
    """
    if not isinstance(schema, dict):
        return "any"
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name, target = ref.rsplit("/", 1)[-1], _resolve(spec, ref)
        if depth > 0 or ref in seen or not isinstance(target, dict):
            return name
        inner = schema_summary(spec, target, depth, seen | {ref})
        return f"{name} {inner.removeprefix('object ')}" if inner.startswith("object {") else f"{name} ({inner})"
    for key, joiner in (("oneOf", " | "), ("anyOf", " | "), ("allOf", " & ")):
        if isinstance(schema.get(key), list):
            return joiner.join(schema_summary(spec, s, depth + 1, seen) for s in schema[key])
    kind = schema.get("type")
    kind = "/".join(map(str, kind)) if isinstance(kind, list) else kind
    if kind == "array" or "items" in schema:
        return f"array of {schema_summary(spec, schema.get('items'), depth, seen)}"
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        if depth > 0 or not isinstance(props, dict) or not props:
            return "object"
        required = set(schema.get("required") or [])
        fields = ", ".join(
            f"{n}{'*' if n in required else ''}: {schema_summary(spec, p, depth + 1, seen)}" for n, p in props.items()
        )
        return f"object {{{fields}}}"
    text = str(kind or "any")
    if schema.get("format"):
        text += f" ({schema['format']})"
    if isinstance(schema.get("enum"), list):
        text += " one of " + ", ".join(map(str, schema["enum"][:12]))
    return text


def _deref(spec: Spec, obj: Any) -> Any:
    """`obj` with a top-level local `$ref` followed (a few hops, so a cycle cannot hang)."""
    for _ in range(5):
        if not (isinstance(obj, dict) and isinstance(obj.get("$ref"), str)):
            return obj
        obj = _resolve(spec, obj["$ref"])
    return obj


def _resolve(spec: Spec, ref: str) -> Any:
    """A local JSON pointer (`#/components/schemas/Pet`); external references are not fetched."""
    if not ref.startswith("#/"):
        return None
    node: Any = spec
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _slug(text: str) -> str:
    return re.sub(r"[\s]+", "-", re.sub(r"[^\w\s-]", "", text.lower()).strip())
