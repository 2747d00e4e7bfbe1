"""Logging for every entry point, with secrets masked in every record before any handler sees it.

Secrets reach log records through libraries we do not control: httpx logs each request's URL at INFO (a Slack
incoming-webhook URL is itself the secret), httpcore logs response headers at DEBUG (`set-cookie`), and an
exception's message may quote a URL with a password in it. So masking cannot be a filter on our own handler: uvicorn
replaces the handlers of its loggers, and an operator may add their own. Instead a log-record factory (installed
once per process, the first time settings are read) rewrites each record as it is made, so every handler, ours or
not, gets the masked text:

- the values of the secret settings (`Settings.secret_values`), by name: `[DOCGAP_SLACK_WEBHOOK_URL]`;
- credentials recognisable by their shape: docgap API keys (`dg_…`), `Authorization`/`X-API-Key`/`Cookie`/
  `Set-Cookie` header values, `Bearer`/`Basic` credentials, and the password in a `scheme://user:password@` URL.

Customer text is not this module's concern: it is redacted before it is stored (`ingest.redact`), so what is logged
of it is already redacted.

Structured logs (`DOCGAP_LOG_FORMAT=json`): one JSON object per line, for a collector to index, with the fields of
the request or job a record was made in (`context`: its id, route, …), so every line of one request or one job can
be found by its id across the api and worker processes.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

MIN_SECRET_LENGTH = 6
"""Shorter configured values are not masked by value (masking a 3-character password would garble every log);
their shapes above still are."""

_HEADERS = r"(?:proxy-)?authorization|x-api-key|(?:set-)?cookie"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # `Authorization: …` as text, and ('authorization', '…') / {'authorization': '…'} as Python shows headers
    (re.compile(rf"(?i)\b({_HEADERS})(\s*[:=]\s*)[^\r\n'\"]+"), r"\1\2***"),
    (re.compile(rf"(?i)(b?['\"](?:{_HEADERS})['\"]\s*[:,]\s*b?['\"])[^'\"]*"), r"\1***"),
    (re.compile(r"\b(Bearer|Basic) [A-Za-z0-9._~+/-]{8,}=*"), r"\1 ***"),
    (re.compile(r"\bdg_[A-Za-z0-9_-]{32}"), "dg_***"),
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]+:)[^@\s/'\"]+(@)", re.I), r"\1***\2"),
]  # fmt: skip

_lock = threading.Lock()
_known: dict[str, str] = {}
"""Secret value → the label it is replaced by."""
_known_re: re.Pattern[str] | None = None
_installed = False


def protect(secrets: Mapping[str, str]) -> None:
    """Mask these values (label → value) in every log record from now on, in this process."""
    global _known_re
    with _lock:
        added = False
        for label, value in secrets.items():
            for form in {value, quote(value, safe="")}:
                if len(form) >= MIN_SECRET_LENGTH and form not in _known:
                    _known[form] = f"[{label}]"
                    added = True
        if added:  # longest first, so a URL is replaced whole rather than the token inside it
            alternatives = sorted(_known, key=len, reverse=True)
            _known_re = re.compile("|".join(re.escape(v) for v in alternatives))
        _install()


def mask(text: str) -> str:
    """`text` with every known secret and credential-shaped string replaced."""
    known = _known_re
    if known is not None:
        text = known.sub(lambda m: _known[m.group(0)], text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class _Masked:
    """An argument of a log call, shown masked whether the message formats it with %s or %r."""

    def __init__(self, as_str: str, as_repr: str) -> None:
        self._str, self._repr = as_str, as_repr

    def __str__(self) -> str:
        return self._str

    def __repr__(self) -> str:
        return self._repr


def _masked_arg(arg: Any) -> Any:
    if arg is None or isinstance(arg, bool | int | float):
        return arg
    if isinstance(arg, str):
        return mask(arg)
    as_str, as_repr = str(arg), repr(arg)
    masked_str, masked_repr = mask(as_str), mask(as_repr)
    return arg if (masked_str, masked_repr) == (as_str, as_repr) else _Masked(masked_str, masked_repr)


def mask_record(record: logging.LogRecord) -> None:
    """Rewrite `record` in place so no handler can format a secret out of it.

    The arguments are masked one by one, keeping their number, since some formatters unpack them (uvicorn's access
    log does); where that is not enough (a secret split between the message and an argument) the record holds the
    masked message with no arguments.
    """
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001  (a broken log call: the handler reports it, as logging always did)
        return
    if mask(message) != message:
        if isinstance(record.msg, str):
            record.msg = mask(record.msg)
        if isinstance(record.args, Mapping):
            record.args = {k: _masked_arg(v) for k, v in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_masked_arg(a) for a in record.args)
        try:
            still = record.getMessage()
        except Exception:  # noqa: BLE001
            still = message
        if mask(still) != still or still == message:
            record.msg, record.args = mask(message), ()
    if record.exc_info and not record.exc_text:
        record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = mask(record.exc_text)
    if record.stack_info:
        record.stack_info = mask(record.stack_info)


def _install() -> None:
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        mask_record(record)
        for name, value in _context.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True


_HANDLER_NAME = "docgap"


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time (a test runner swaps it), like logging's last resort."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


_context: contextvars.ContextVar[dict[str, object]] = contextvars.ContextVar("docgap_log_context", default={})  # noqa: B039  (never mutated: `context` sets a new dict)


@contextmanager
def context(**fields: object) -> Iterator[None]:
    """Every record made in this block (this thread or task) carries these fields: a request's or job's id."""
    token = _context.set({**_context.get(), **fields})
    try:
        yield
    finally:
        _context.reset(token)


class _Json(JsonFormatter):
    """One JSON object per record; a traceback is masked too (the library formats it anew from the exception)."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat()  # ISO 8601 in UTC, to the microsecond

    def formatException(self, ei: Any) -> str:
        return mask(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return mask(super().formatStack(stack_info))


def _formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        return _Json(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],  # uvicorn's copy of the message with terminal colours
            json_ensure_ascii=False,
        )
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


def configure(level: str, fmt: str = "text") -> None:
    """Log at `level` and above to stderr (the CLI, `docgap serve`, the worker), as text or JSON lines.

    Calling it again changes the level and format of the same handler, so a process never logs a line twice.
    """
    root = logging.getLogger()
    handler = next((h for h in root.handlers if h.get_name() == _HANDLER_NAME), None)
    if handler is None:
        handler = _Stderr()
        handler.set_name(_HANDLER_NAME)
        root.addHandler(handler)
    handler.setFormatter(_formatter(fmt))
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # a library's warning is a record too, so a JSON log stays all JSON
    _install()
