"""People who log in: creating and disabling them, checking a password, and the sessions a login opens.

Passwords are hashed with argon2id (argon2-cffi, MIT), whose parameters are stored in each hash, so raising them
later only rehashes on the next login. A session is a random token in an HttpOnly cookie; only its SHA-256 is
stored (as with API keys), with the CSRF token its forms must carry. Login attempts are limited per user name and
per client address, so a password cannot be guessed at the speed of the network; the counts are kept in the
database (`core.ratelimit`), so every server process sharing it enforces the same limit.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select

from core import ratelimit
from core.models import ROLES, LoginSession, User
from core.runtime import Runtime
from usecases.permissions import Actor, Permission, require, user_actor

SESSION_LIFETIME = timedelta(hours=12)
"""A working day: a session older than this logs in again."""
MIN_PASSWORD_LENGTH = 12
LOGIN_ATTEMPTS = 5
LOGIN_ATTEMPTS_PER_CLIENT = 20
"""Higher than per user: an office behind one address has several people mistyping."""
LOGIN_WINDOW = timedelta(minutes=5)
"""Failed logins counted: at most `LOGIN_ATTEMPTS` per user name and `LOGIN_ATTEMPTS_PER_CLIENT` per address in a
window that opens at the first failure."""

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a password anyone has")
"""Verified against when the user does not exist, so a wrong name takes as long as a wrong password."""


class UserError(ValueError):
    """A user cannot be created or changed as asked (taken name, unknown role, short password)."""


@dataclass(frozen=True)
class UserInfo:
    id: int
    name: str
    role: str
    created_at: str
    disabled: bool


@dataclass(frozen=True)
class SignedIn:
    """A valid session: who it belongs to and the CSRF token its forms carry."""

    actor: Actor
    user_id: int
    csrf_token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_password() -> str:
    """A password to hand out once (~96 bits), for `docgap users create` without `--password-stdin` and the demo."""
    return secrets.token_urlsafe(16)


def create_user(runtime: Runtime, actor: Actor, name: str, role: str, password: str) -> UserInfo:
    require(actor, Permission.MANAGE_USERS)
    name = name.strip()
    if not name or len(name) > 80 or any(c.isspace() for c in name):
        raise UserError("a user name is 1 to 80 characters without spaces")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}; got {role!r}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    with Session(runtime.engine) as session:
        if session.exec(select(User).where(User.name == name)).first() is not None:
            raise UserError(f"a user named {name!r} exists")
        user = User(name=name, role=role, password_hash=_hasher.hash(password), created_at=runtime.clock())
        session.add(user)
        session.commit()
        session.refresh(user)
        return _info(user)


def _info(user: User) -> UserInfo:
    return UserInfo(user.id or 0, user.name, user.role, user.created_at.isoformat(timespec="seconds"),
                    user.disabled_at is not None)  # fmt: skip


def list_users(runtime: Runtime, actor: Actor) -> list[UserInfo]:
    require(actor, Permission.MANAGE_USERS)
    with Session(runtime.engine) as session:
        return [_info(u) for u in session.exec(select(User).order_by(col(User.name))).all()]


def disable_user(runtime: Runtime, actor: Actor, name: str) -> UserInfo:
    """Disable a user and end their sessions at once (the row stays: who did what keeps a name)."""
    require(actor, Permission.MANAGE_USERS)
    with Session(runtime.engine) as session:
        user = session.exec(select(User).where(User.name == name)).first()
        if user is None:
            raise LookupError(f"no user named {name!r}")
        if actor.kind == "user" and actor.user_id == user.id:
            raise UserError("you cannot disable yourself: another admin has to (or `docgap users disable`)")
        user.disabled_at = user.disabled_at or runtime.clock()
        for s in session.exec(select(LoginSession).where(LoginSession.user_id == user.id)).all():
            session.delete(s)
        session.commit()
        session.refresh(user)
        return _info(user)


class LoginRefused(Exception):
    """Wrong name or password (which one is not said), a disabled user, or too many attempts."""


def log_in(runtime: Runtime, name: str, password: str, client: str) -> tuple[str, SignedIn]:
    """Check the password and open a session: (the cookie's token, the session). Raises `LoginRefused`.

    Every attempt is counted before the password is checked (so concurrent guesses in several processes cannot all
    slip under the limit); a successful one is then given back, and clears the user name's failures.
    """
    engine, now, window = runtime.engine, runtime.clock(), LOGIN_WINDOW.total_seconds()
    by_name = ratelimit.bucket("login-user", name.strip().lower())
    by_client = ratelimit.bucket("login-client", client)
    over = [ratelimit.hit(engine, by_name, LOGIN_ATTEMPTS, window, now),
            ratelimit.hit(engine, by_client, LOGIN_ATTEMPTS_PER_CLIENT, window, now)]  # fmt: skip
    if any(over):
        raise LoginRefused(f"too many failed logins; wait {math.ceil(max(over) / 60)} minutes")
    with Session(runtime.engine) as session:
        user = session.exec(select(User).where(User.name == name.strip())).first()
        try:
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
            ok = user is not None and user.disabled_at is None
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or user is None:
            raise LoginRefused("wrong user name or password")
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = runtime.clock()
        session.add(LoginSession(token_hash=_digest(token), user_id=user.id or 0, csrf_token=csrf, created_at=now,
                                 expires_at=now + SESSION_LIFETIME))  # fmt: skip
        session.commit()
        ratelimit.forget(engine, by_name)
        ratelimit.give_back(engine, by_client)
        return token, SignedIn(user_actor(user.name, user.role, user.id), user.id or 0, csrf)


def signed_in(runtime: Runtime, token: str | None) -> SignedIn | None:
    """The session a cookie token opens, None when unknown, expired or its user disabled."""
    if not token:
        return None
    with Session(runtime.engine) as session:
        row = session.exec(
            select(LoginSession, User)
            .join(User, col(LoginSession.user_id) == col(User.id))
            .where(LoginSession.token_hash == _digest(token))
        ).first()
        if row is None:
            return None
        s, user = row
        if s.expires_at <= runtime.clock() or user.disabled_at is not None:
            session.delete(s)
            session.commit()
            return None
        return SignedIn(user_actor(user.name, user.role, user.id), user.id or 0, s.csrf_token)


def log_out(runtime: Runtime, token: str | None) -> None:
    if not token:
        return
    with Session(runtime.engine) as session:
        for s in session.exec(select(LoginSession).where(LoginSession.token_hash == _digest(token))).all():
            session.delete(s)
        session.commit()


def same_token(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a CSRF token."""
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
