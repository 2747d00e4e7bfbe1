"""OpenAPI specs (3.x or Swagger 2.0, JSON or YAML) as one document with one passage per operation.

An API reference answers "which endpoint does X, what does it take" one operation at a time, so each operation is
its own passage — method, path and summary first, then its parameters, request body and responses — cited as
`spec#operationId`. Local `$ref`s are followed; schemas are summarised one level deep, enough to answer from.

A spec is data from anywhere: YAML is loaded safely (no tags that build objects), nesting past `MAX_NESTING` and
YAML aliases that expand it past `MAX_YAML_EXPANSION` times its size are refused, and an operation whose fields
have the wrong shape is reported by its method and path while the others are indexed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from ingest.docs import ChunkRecord, DocumentRecord, content_hash
from ingest.records import IngestError, check_shape, loads_json

MAX_YAML_EXPANSION = 10
"""How many times its own size (values + characters) a YAML spec may grow through aliases: shared parameters reuse
anchors a few times, while a "billion laughs" grows a kilobyte into gigabytes."""
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
Spec = dict[str, Any]


def read_openapi(path: Path) -> Iterator[DocumentRecord | IngestError]:
    """The spec at `path` as one document (URL: the file name) whose chunks are its operations."""
    try:
        spec = _load(path)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError, RecursionError) as exc:
        yield IngestError(str(path), "file", f"not a readable OpenAPI spec: {exc or type(exc).__name__}")
        return
    if not isinstance(spec, dict) or not isinstance(spec.get("paths"), dict):
        yield IngestError(str(path), "file", "not an OpenAPI spec (no `paths` object)")
        return
    if not ("openapi" in spec or "swagger" in spec):
        yield IngestError(str(path), "file", "not an OpenAPI spec (no `openapi` or `swagger` version)")
        return
    info = spec.get("info") if isinstance(spec.get("info"), dict) else {}
    title = _text(info.get("title")) or path.stem
    chunks: list[ChunkRecord] = []
    for item in _operations(spec):
        if isinstance(item, IngestError):
            yield IngestError(str(path), item.record, item.message)
        else:
            chunks.append(item)
    if not chunks:
        yield IngestError(str(path), "file", "the spec has no operations")
        return
    intro = "\n\n".join(filter(None, [f"# {title}", _text(info.get("description")).strip()]))
    text = "\n\n".join([intro, *(f"## {c.section}\n\n{c.text}" for c in chunks)])
    digest = content_hash(title, *(f"{c.section}\x1e{c.anchor}\x1e{c.text}" for c in chunks))
    yield DocumentRecord(path.name, title, text, digest, chunks=chunks)


def _load(path: Path) -> Any:
    """The spec's value; raises ValueError (incl. `ShapeError`) or `yaml.YAMLError` for what cannot be a spec."""
    raw = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        return loads_json(raw)
    spec = yaml.safe_load(raw)  # PyYAML's composer recurses: absurd nesting raises RecursionError, caught above
    check_shape(spec, max_size=MAX_YAML_EXPANSION * max(len(raw), 1_000))
    return spec


def _text(value: Any) -> str:
    """A title, summary or description: text or a number as written; anything else (a list, an object) is not one."""
    return str(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else ""


def _operations(spec: Spec) -> Iterator[ChunkRecord | IngestError]:
    """Every operation as a passage, or an error naming it when its fields have shapes no spec gives them."""
    for route, item in spec["paths"].items():
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            section = f"{method.upper()} {route}"
            try:
                yield _chunk(spec, section, op, item.get("parameters"))
            except (TypeError, ValueError, AttributeError, KeyError) as exc:
                yield IngestError("", section, f"malformed operation: {exc}")


def _chunk(spec: Spec, section: str, op: dict[str, Any], shared: Any) -> ChunkRecord:
    anchor = _text(op.get("operationId")) or _slug(section)
    return ChunkRecord(section=section, anchor=anchor, text=_operation_text(spec, section, op, _list(shared)))


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return value


def operation_chunks(spec: Spec) -> Iterator[ChunkRecord]:
    """The passages of a spec's well-formed operations (malformed ones are left out; `read_openapi` reports them)."""
    for item in _operations(spec):
        if isinstance(item, ChunkRecord):
            yield item


def _operation_text(spec: Spec, section: str, op: dict[str, Any], shared: list[Any]) -> str:
    summary = _text(op.get("summary")).strip()
    head = f"{section} — {summary}" if summary else section
    if op.get("deprecated"):
        head += " (deprecated)"
    parts = [head, _text(op.get("description")).strip()]
    if tags := [_text(t) for t in _list(op.get("tags")) if _text(t)]:
        parts.append("Tags: " + ", ".join(tags))
    params = _parameters(spec, shared, _list(op.get("parameters")))
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
    description = " ".join(_text(p.get("description")).split())
    return f"- {p['name']} ({flags}, {kind})" + (f": {description}" if description else "")


def _request_body(spec: Spec, op: dict[str, Any], params: list[dict[str, Any]]) -> str:
    body = _deref(spec, op.get("requestBody"))
    if isinstance(body, dict):
        media, schema = _first_content(body)
        required = ", required" if body.get("required") else ""
        description = " ".join(_text(body.get("description")).split())
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
    description = " ".join(_text(response.get("description")).split())
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
