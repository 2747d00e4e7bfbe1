"""The lock file and the dependency audit `make test` runs (`tools/audit.py`).

The lock must pin every dependency pyproject.toml declares (runtime and test extras) at a version its specifier
allows, with torch at the CPU build 2.13.0 and no CUDA packages. The audit's verdicts are checked against a local
server speaking PyPI's JSON API: a vulnerability fails it, a reviewed one does not, a withdrawn one is not counted, a
pin that is not the latest release is reported as not audited; an ignore entry without a reason is refused; and with
PyPI unreachable it says the audit was not done and does not fail.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from server.background import free_port

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import audit  # noqa: E402  (tools/ is not a package: the script is run by path)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_lock_pins_every_declared_dependency_within_its_specifier() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]]
    raw = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if m := re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line):
            raw[_norm(m.group(1))] = m.group(2)
    stale = [f"{r} (lock: {raw.get(_norm(r.name), 'missing')})" for r in declared
             if _norm(r.name) not in raw or not r.specifier.contains(raw[_norm(r.name)], prereleases=True)]  # fmt: skip
    assert not stale, f"requirements.lock is stale, run `make lock`: {stale}"
    assert raw["torch"] == "2.13.0+cpu", "torch stays the CPU build of 2.13.0 on this machine's disk"
    assert not [n for n in raw if n.startswith(("nvidia-", "triton"))], "no CUDA wheels in the lock"
    assert audit.read_lock(ROOT / "requirements.lock")["torch"] == "2.13.0", "audited as the upstream release"


def test_every_reviewed_ignore_has_its_reason_and_an_empty_reason_is_refused(tmp_path: Path) -> None:
    entries = audit.read_ignores(ROOT / "audit-ignore.toml")
    assert all(len(e["reason"]) > 40 and re.fullmatch(r"\d{4}-\d\d-\d\d", e["reviewed"]) for e in entries)
    bad = tmp_path / "ignore.toml"
    bad.write_text('[[ignore]]\nid = "CVE-1"\npackage = "x"\nreason = ""\nreviewed = "2026-12-02"\n')
    with pytest.raises(SystemExit, match="lacks reason"):
        audit.read_ignores(bad)


class FakePyPI:
    """PyPI's per-project JSON (`/pypi/NAME/json`) for a few projects; the per-release one answers 404, as here."""

    def __init__(self, projects: dict[str, tuple[str, list[dict[str, Any]]]]) -> None:
        owner = self
        self.requests: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                owner.requests.append(self.path)
                m = re.fullmatch(r"/pypi/([^/]+)/json", self.path)
                if not m or m.group(1) not in projects:
                    self.send_error(404)
                    return
                version, vulns = projects[m.group(1)]
                body = json.dumps({"info": {"name": m.group(1), "version": version}, "vulnerabilities": vulns})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/pypi"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _vuln(ident: str, *aliases: str, withdrawn: str | None = None) -> dict[str, Any]:
    return {"id": ident, "aliases": list(aliases), "fixed_in": ["9.9"], "summary": f"{ident} summary",
            "withdrawn": withdrawn}  # fmt: skip


@pytest.fixture()
def pypi() -> Iterator[FakePyPI]:
    fake = FakePyPI({
        "leaky": ("1.0", [_vuln("GHSA-aaaa", "CVE-2026-1", "PYSEC-1"), _vuln("PYSEC-1", "CVE-2026-1", "GHSA-aaaa")]),
        "oldwithdrawn": ("2.0", [_vuln("GHSA-wwww", withdrawn="2026-01-01")]),
        "clean": ("3.1", []),
        "behind": ("5.0", [_vuln("GHSA-bbbb")]),
    })  # fmt: skip
    yield fake
    fake.close()


def test_verdicts_from_the_latest_release_json(pypi: FakePyPI, capsys: pytest.CaptureFixture[str]) -> None:
    pins = {"leaky": "1.0", "oldwithdrawn": "2.0", "clean": "3.1", "behind": "4.0", "gone": "1.0"}
    skipped = dict.fromkeys(pins, "Dependency not found on PyPI and could not be audited")
    assert audit.report(pins, [], [], skipped, pypi=pypi.url) == 1
    out, err = capsys.readouterr()
    assert out.count("VULNERABLE") == out.count("VULNERABLE leaky 1.0") == 1, "a GHSA and its PYSEC twin are one"
    assert "GHSA-wwww" not in out, "a withdrawn advisory is not counted"
    assert "3 through their latest release's PyPI JSON, 2 not audited; 1 vulnerabilities" in out, out
    assert "behind 4.0 (latest 5.0)" in err and "gone 1.0" in err, "pins that could not be checked are named"
    assert "GHSA-bbbb" not in out, "the latest release's vulnerabilities are not pinned on an older pin"

    reviewed = [{"id": "CVE-2026-1", "package": "leaky", "reason": "not used", "reviewed": "2026-12-02"}]
    assert audit.report(pins, reviewed, [], skipped, pypi=pypi.url) == 0
    assert "0 vulnerabilities, 1 ignored as reviewed" in capsys.readouterr().out
    elsewhere = [{**reviewed[0], "package": "other"}]
    assert audit.report(pins, elsewhere, [], skipped, pypi=pypi.url) == 1, "an ignore names its package"


def test_a_vulnerability_pip_audit_found_fails_the_audit(capsys: pytest.CaptureFixture[str]) -> None:
    found = [audit.Vuln("requests", "2.0.0", "PYSEC-2023-74", ("CVE-2023-32681",), ("2.31.0",), "leaks a header")]
    assert audit.report({"requests": "2.0.0"}, [], found, {}) == 1
    out = capsys.readouterr().out
    assert "1 checked by pip-audit" in out and "VULNERABLE requests 2.0.0: PYSEC-2023-74" in out
    assert "fixed in 2.31.0" in out and "FAILED" in out


def test_pypi_unreachable_says_the_audit_was_not_done_and_does_not_fail(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("requests==2.32.3\n")
    dead = f"http://127.0.0.1:{free_port()}"
    env = {**os.environ, "HTTPS_PROXY": dead, "HTTP_PROXY": dead, "https_proxy": dead, "http_proxy": dead}
    env.pop("NO_PROXY", None)
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "audit.py"), "--lock", str(lock)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "dependency audit NOT done" in done.stderr and "could not query PyPI" in done.stderr, done.stderr
