"""API keys: creation, lookup, listing and revocation, shared by the CLI, the demo and the API's auth dependency.

A key is `dg_` + 32 URL-safe random characters. It is shown once, when created; the database keeps only its
SHA-256. A hash (not a slow password hash) is right here: the secret has ~190 bits of randomness, so it cannot be
guessed offline, and a plain digest allows an indexed lookup on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from core.models import ApiKey
from core.runtime import Runtime
from usecases.permissions import Actor, Permission, require

KEY_PREFIX = "dg_"
SHOWN_PREFIX_CHARS = 10
"""How much of a key lists show: `dg_` and 7 random characters, enough to tell keys apart, useless to log in."""
SCOPES = ("answers:read", "questions:write", "topics:write", "metrics:read", "admin")
"""`admin` implies every other scope."""
LAST_USED_RESOLUTION = timedelta(seconds=60)
"""`last_used_at` is written at most this often per key, so a busy key does not turn every read into a write."""


@dataclass(frozen=True)
class CreatedKey:
    """A new key: `secret` is the only copy anywhere and must be handed to the user now."""

    id: int
    secret: str
    prefix: str
    scopes: list[str]


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown about a key: never its secret nor its hash."""

    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: str
    last_used_at: str | None
    revoked_at: str | None
    rate_limit_per_minute: int | None


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(runtime: Runtime, scopes: list[str], name: str = "", rate_limit: int | None = None) -> CreatedKey:
    """Store a new key's hash and return the key (the only time it exists in clear)."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if not scopes or unknown:
        raise ValueError(f"scopes must be some of {', '.join(SCOPES)}; got {', '.join(unknown) or 'none'}")
    if rate_limit is not None and rate_limit < 1:
        raise ValueError("a key's rate limit must be at least 1 request per minute")
    secret = KEY_PREFIX + secrets.token_urlsafe(24)  # 24 bytes → 32 URL-safe characters
    row = ApiKey(
        name=name,
        prefix=secret[:SHOWN_PREFIX_CHARS],
        key_hash=hash_key(secret),
        scopes=sorted(set(scopes)),
        created_at=runtime.clock(),
        rate_limit_per_minute=rate_limit,
    )
    with Session(runtime.engine, expire_on_commit=False) as session:
        session.add(row)
        session.commit()
    assert row.id is not None
    return CreatedKey(row.id, secret, row.prefix, row.scopes)


def find_key(runtime: Runtime, secret: str) -> ApiKey | None:
    """The active key with this secret, or None (unknown or revoked); marks it used."""
    digest = hash_key(secret)
    with Session(runtime.engine, expire_on_commit=False) as session:
        row = session.exec(select(ApiKey).where(ApiKey.key_hash == digest)).first()
        if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, digest):
            return None
        now = runtime.clock()
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
            row.last_used_at = now
            session.add(row)
            session.commit()
    return row


def list_keys(runtime: Runtime) -> list[KeyInfo]:
    with Session(runtime.engine) as session:
        rows = session.exec(select(ApiKey).order_by(col(ApiKey.id))).all()
    return [
        KeyInfo(
            r.id or 0,
            r.name,
            r.prefix,
            list(r.scopes),
            _iso(r.created_at) or "",
            _iso(r.last_used_at),
            _iso(r.revoked_at),
            r.rate_limit_per_minute,
        )
        for r in rows
    ]


def revoke_key(runtime: Runtime, id_or_prefix: str) -> KeyInfo:
    """Revoke one key by id or by its shown prefix (or the whole key); ambiguous or unknown → LookupError."""
    with Session(runtime.engine, expire_on_commit=False) as session:
        if id_or_prefix.isdigit():
            rows = [r for r in [session.get(ApiKey, int(id_or_prefix))] if r is not None]
        else:
            wanted = id_or_prefix[:SHOWN_PREFIX_CHARS]
            rows = [
                r
                for r in session.exec(select(ApiKey).where(ApiKey.prefix == wanted)).all()
                if len(id_or_prefix) <= SHOWN_PREFIX_CHARS or hmac.compare_digest(r.key_hash, hash_key(id_or_prefix))
            ]
        if not rows:
            raise LookupError(f"no API key {id_or_prefix!r}")
        if len(rows) > 1:
            raise LookupError(f"{len(rows)} keys start with {id_or_prefix!r}; revoke by id")
        row = rows[0]
        if row.revoked_at is None:
            row.revoked_at = runtime.clock()
            session.add(row)
            session.commit()
    return next(k for k in list_keys(runtime) if k.id == row.id)


def list_keys_as(runtime: Runtime, actor: Actor) -> list[KeyInfo]:
    """`list_keys` for someone who must hold `MANAGE_KEYS` (the API keys page)."""
    require(actor, Permission.MANAGE_KEYS)
    return list_keys(runtime)


def create_key_as(runtime: Runtime, actor: Actor, scopes: list[str], name: str = "") -> CreatedKey:
    """`create_key` for someone who must hold `MANAGE_KEYS`; a bad scope or none raises ValueError."""
    require(actor, Permission.MANAGE_KEYS)
    return create_key(runtime, scopes, name=name.strip()[:200])


def revoke_key_as(runtime: Runtime, actor: Actor, key_id: int) -> KeyInfo:
    """`revoke_key` by id for someone who must hold `MANAGE_KEYS`; an unknown id raises LookupError."""
    require(actor, Permission.MANAGE_KEYS)
    return revoke_key(runtime, str(key_id))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None
