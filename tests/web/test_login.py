"""Logging in and out over real HTTP: cookies, the login rate limit, safe redirects, disabled users, the CLI (in
this process, but for a password piped to a real subprocess).

A help-center-only instance (no questions needed) with its own server, so failed logins here throttle no other
test's logins.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from core.models import LoginSession, User
from core.runtime import Runtime
from tests.commandline import docgap
from tests.conftest import LiveServer, copy_data, form_token, logged_in
from usecases.permissions import OPERATOR, PermissionDenied, user_actor
from usecases.users import LOGIN_ATTEMPTS, UserError, create_user, disable_user, list_users

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory, embedder, helpcenter_data: Path) -> Runtime:  # type: ignore[no-untyped-def]
    rt = copy_data(helpcenter_data, tmp_path_factory.mktemp("login") / "data", embedder)
    for name, role in (("dana", "docs_writer"), ("mo", "account_manager"), ("gone", "account_manager"),
                       ("guess", "admin")):  # fmt: skip
        create_user(rt, OPERATOR, name, role, PASSWORD)
    return rt


@pytest.fixture(scope="module")
def server(runtime: Runtime) -> Iterator[LiveServer]:
    with LiveServer(runtime) as s:
        yield s


def _post_login(client: httpx.Client, name: str, password: str, next_path: str = "/", **headers: str) -> httpx.Response:
    token = form_token(client.get("/login").text)
    data = {"username": name, "password": password, "csrf_token": token, "next": next_path}
    return client.post("/login", data=data, headers=headers)


def test_a_page_sends_to_login_and_back(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        r = client.get("/accounts?x=1")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Faccounts%3Fx%3D1"
        page = client.get(r.headers["location"])
        assert page.status_code == 200 and 'name="username"' in page.text and 'name="password"' in page.text
        done = _post_login(client, "dana", PASSWORD, "/accounts?x=1")
        assert done.status_code == 303 and done.headers["location"] == "/accounts?x=1"
        assert client.get("/accounts").status_code == 200


def test_session_cookie_flags(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        cookie = _post_login(client, "dana", PASSWORD).headers["set-cookie"]
        assert "docgap_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Secure" not in cookie, "plain http on loopback: a Secure cookie would never come back"
    # Behind a TLS-terminating proxy on loopback (uvicorn trusts X-Forwarded-Proto from 127.0.0.1). The client
    # speaks plain http, so it would not send back Secure cookies by itself: the test hands it on explicitly.
    https = {"X-Forwarded-Proto": "https"}
    form = httpx.get(f"{server.url}/login", headers=https)
    assert "Secure" in form.headers["set-cookie"]
    login_cookie = form.headers["set-cookie"].split(";")[0]
    r = httpx.post(f"{server.url}/login", headers={**https, "Cookie": login_cookie},
                   data={"username": "dana", "password": PASSWORD, "csrf_token": form_token(form.text)})  # fmt: skip
    assert r.status_code == 303
    session = [c for c in r.headers.get_list("set-cookie") if c.startswith("docgap_session=")]
    assert session and "Secure" in session[0] and "HttpOnly" in session[0]


def test_wrong_password_and_unknown_user_read_the_same(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        wrong = _post_login(client, "mo", "not the password")
        unknown = _post_login(client, "nobody-here", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert "wrong user name or password" in wrong.text and "wrong user name or password" in unknown.text
    assert "docgap_session" not in wrong.headers.get("set-cookie", "")


def test_login_is_rate_limited_per_user(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for _ in range(LOGIN_ATTEMPTS):
            assert _post_login(client, "guess", "guessing wrong").status_code == 401
        blocked = _post_login(client, "guess", PASSWORD)
        assert blocked.status_code == 429 and "too many failed logins" in blocked.text
        assert "docgap_session" not in blocked.headers.get("set-cookie", ""), "the right password waits too"
        assert _post_login(client, "dana", PASSWORD).status_code == 303, "other users are not locked out"


def test_login_form_needs_its_token(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        client.get("/login")
        r = client.post("/login", data={"username": "dana", "password": PASSWORD, "csrf_token": "forged"})
        assert r.status_code == 403
        r = client.post("/login", data={"username": "dana", "password": PASSWORD})
        assert r.status_code == 403


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_no_open_redirect_after_login(server: LiveServer, target: str) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        r = _post_login(client, "dana", PASSWORD, target)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_logout_ends_the_session_server_side(server: LiveServer, runtime: Runtime) -> None:
    with logged_in(server.url, "mo", PASSWORD) as (client, csrf):
        stolen = client.cookies.get("docgap_session")
        assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    with httpx.Client(base_url=server.url, timeout=60, cookies={"docgap_session": stolen or ""}) as replay:
        r = replay.get("/")
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), "an old cookie opens nothing"


def test_disabling_a_user_ends_their_sessions(server: LiveServer, runtime: Runtime) -> None:
    with logged_in(server.url, "gone", PASSWORD) as (client, _):
        assert client.get("/chat").status_code == 200
        disable_user(runtime, OPERATOR, "gone")
        assert client.get("/chat").status_code == 303
    with httpx.Client(base_url=server.url, timeout=60) as again:
        assert _post_login(again, "gone", PASSWORD).status_code == 401
    with Session(runtime.engine) as s:
        gone = s.exec(select(User).where(User.name == "gone")).one()
        assert not s.exec(select(LoginSession).where(LoginSession.user_id == gone.id)).all()


def test_passwords_and_tokens_are_stored_hashed(runtime: Runtime, server: LiveServer) -> None:
    with logged_in(server.url, "dana", PASSWORD) as (client, _):
        cookie = client.cookies.get("docgap_session") or ""
    with Session(runtime.engine) as s:
        user = s.exec(select(User).where(User.name == "dana")).one()
        tokens = [x.token_hash for x in s.exec(select(LoginSession)).all()]
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert cookie and cookie not in tokens and len(tokens) >= 1
    for f in Path(runtime.settings.data_dir).rglob("*"):
        if f.is_file():
            assert PASSWORD.encode() not in f.read_bytes(), f"the password in clear in {f}"
            assert cookie.encode() not in f.read_bytes(), f"a session token in clear in {f}"


def test_only_admins_manage_users(runtime: Runtime) -> None:
    with pytest.raises(PermissionDenied):
        create_user(runtime, user_actor("dana", "docs_writer"), "eve", "admin", PASSWORD)
    with pytest.raises(PermissionDenied):
        list_users(runtime, user_actor("mo", "account_manager"))
    with pytest.raises(UserError, match="role"):
        create_user(runtime, OPERATOR, "eve", "superuser", PASSWORD)
    with pytest.raises(UserError, match="at least"):
        create_user(runtime, OPERATOR, "eve", "admin", "short")
    with pytest.raises(UserError, match="exists"):
        create_user(runtime, OPERATOR, "dana", "admin", PASSWORD)


def _piped(args: list[str], data_dir: Path, stdin: str) -> subprocess.CompletedProcess[str]:
    """`docgap` in a real subprocess with `stdin` through a real pipe and a bare environment."""
    env = {"DOCGAP_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin", "HOME": str(data_dir)}
    return subprocess.run([sys.executable, "-m", "cli", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip


def _cli(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    """`docgap` in this process, through the console script's `main` (`tests.commandline`)."""
    return docgap(args, data_dir, check=False)


def test_users_from_the_command_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = _cli(["users", "create", "kim", "--role", "admin"], data)
    assert made.returncode == 0, made.stderr
    generated = made.stdout.strip()
    assert len(generated) >= 16 and "\n" not in generated, "a generated password, alone on stdout"
    piped = _piped(["users", "create", "lee", "--role", "docs_writer", "--password-stdin"], data, PASSWORD + "\n")
    assert piped.returncode == 0 and piped.stdout == "", piped.stderr
    bad = _cli(["users", "create", "max", "--role", "owner"], data)
    assert bad.returncode == 1 and "role must be one of" in bad.stderr
    listed = _cli(["users", "list", "--json"], data)
    assert '"kim"' in listed.stdout and '"docs_writer"' in listed.stdout and "argon2" not in listed.stdout
    assert _cli(["users", "disable", "lee"], data).returncode == 0
    assert '"disabled": true' in _cli(["users", "list", "--json"], data).stdout
