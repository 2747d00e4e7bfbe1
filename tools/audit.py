"""The dependency audit `make test` runs before the tests: known vulnerabilities in every package of requirements.lock.

    python tools/audit.py [--lock requirements.lock] [--ignore audit-ignore.toml]

pip-audit (Apache-2.0) checks each pin against PyPI's vulnerability data (`/pypi/NAME/VERSION/json`). Where that
per-release endpoint cannot be reached but the per-project one can (`/pypi/NAME/json`, whose `vulnerabilities` are
those of the latest release), a pin that *is* the latest release is checked from it instead; older pins are then
listed as not audited. What happens:

- a vulnerability not in the reviewed ignore list: printed, and exit 1 (the build fails);
- PyPI unreachable, or pins that could not be checked: a clear line saying the audit was not done, or for which
  packages, and exit 0: an outage of PyPI does not fail the build, and says so;
- otherwise a one-line summary, exit 0.

Local version labels are dropped for the lookup (`torch==2.13.0+cpu` is audited as torch 2.13.0: the CPU build is
the same release). The ignore list (`audit-ignore.toml`) names each vulnerability by any of its ids or aliases, with
the package, why it does not apply to docgap, and when it was reviewed; an entry without a reason is an error.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYPI = "https://pypi.org/pypi"
TIMEOUT = 60.0


@dataclass(frozen=True)
class Vuln:
    package: str
    version: str
    id: str
    aliases: tuple[str, ...]
    fixed_in: tuple[str, ...]
    summary: str

    @property
    def names(self) -> set[str]:
        return {self.id, *self.aliases}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> dict[str, str]:
    """Each `name==version` line of the lock as name → version, the local label dropped."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#\\]+)", line)
        if m:
            pins[_norm(m.group(1))] = m.group(2).split("+")[0]
    return pins


def read_ignores(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    entries = tomllib.loads(path.read_text()).get("ignore", [])
    for e in entries:
        missing = [k for k in ("id", "package", "reason", "reviewed") if not str(e.get(k, "")).strip()]
        if missing:
            raise SystemExit(f"audit: {path.name}: entry {e.get('id', '?')} lacks {', '.join(missing)}")
    return entries


def pip_audit(pins: dict[str, str]) -> tuple[list[Vuln], dict[str, str]] | None:
    """(vulnerabilities, skipped package → reason) from pip-audit; None when it failed outright (no network)."""
    with tempfile.TemporaryDirectory() as tmp:
        reqs, report = Path(tmp) / "requirements.txt", Path(tmp) / "report.json"
        reqs.write_text("".join(f"{n}=={v}\n" for n, v in sorted(pins.items())))
        done = subprocess.run(
            [sys.executable, "-m", "pip_audit", "-r", str(reqs), "--no-deps", "--disable-pip",
             "--progress-spinner", "off", "--format", "json", "--output", str(report), "--timeout", "30"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if not report.exists() or not report.read_text().strip():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"audit: pip-audit could not query PyPI: {last[:300]}", file=sys.stderr)
            return None
        data = json.loads(report.read_text())
    vulns, skipped = [], {}
    for dep in data.get("dependencies", []):
        name = _norm(dep["name"])
        if dep.get("skip_reason"):
            skipped[name] = dep["skip_reason"]
        for v in dep.get("vulns", []):
            vulns.append(Vuln(name, dep.get("version", pins.get(name, "")), v["id"], tuple(v.get("aliases", [])),
                              tuple(v.get("fix_versions", [])), (v.get("description") or "")[:200]))  # fmt: skip
    return vulns, skipped


def latest_release(client: httpx.Client, pypi: str, name: str) -> tuple[str, list[dict[str, Any]]] | None:
    """(latest version, its vulnerabilities) from the per-project JSON; None when it cannot be read."""
    try:
        r = client.get(f"{pypi}/{name}/json")
    except httpx.HTTPError:
        return None
    if r.status_code != 200:
        return None
    data = r.json()
    return str(data["info"]["version"]), [v for v in data.get("vulnerabilities") or [] if not v.get("withdrawn")]


def from_latest(pins: dict[str, str], names: list[str], pypi: str = PYPI) -> tuple[list[Vuln], list[str], list[str]]:
    """Check `names` through the per-project JSON: (vulnerabilities, audited names, names not auditable here)."""
    with httpx.Client(timeout=TIMEOUT, follow_redirects=True) as client, ThreadPoolExecutor(8) as pool:
        answers = dict(zip(names, pool.map(lambda n: latest_release(client, pypi, n), names), strict=True))
    vulns, audited, not_audited = [], [], []
    for name, answer in answers.items():
        if answer is None or answer[0] != pins[name]:
            not_audited.append(f"{name} {pins[name]}" + (f" (latest {answer[0]})" if answer else ""))
            continue
        audited.append(name)
        for v in answer[1]:
            vulns.append(Vuln(name, pins[name], v["id"], tuple(v.get("aliases") or []), tuple(v.get("fixed_in") or []),
                              (v.get("summary") or v.get("details") or "")[:200]))  # fmt: skip
    return vulns, audited, not_audited


def report(
    pins: dict[str, str],
    ignores: list[dict[str, str]],
    vulns: list[Vuln],
    skipped: dict[str, str],
    lock: str = "requirements.lock",
    ignore_file: str = "audit-ignore.toml",
    pypi: str = PYPI,
) -> int:
    """Check what pip-audit skipped through the latest releases, print the verdict, and return the exit code."""
    fallback: list[str] = []
    not_audited: list[str] = []
    if skipped:
        more, fallback, not_audited = from_latest(pins, sorted(skipped), pypi)
        vulns = vulns + more
    unique = list({(v.package, min(v.names)): v for v in vulns}.values())  # PyPI lists a GHSA and its PYSEC twin
    ignored = [v for v in unique if any(e["package"] == v.package and e["id"] in v.names for e in ignores)]
    found = [v for v in unique if v not in ignored]
    audited = len(pins) - len(skipped) + len(fallback)
    print(f"audit: {len(pins)} pinned packages in {lock}: {len(pins) - len(skipped)} checked by pip-audit, "
          f"{len(fallback)} through their latest release's PyPI JSON, {len(not_audited)} not audited; "
          f"{len(found)} vulnerabilities, {len(ignored)} ignored as reviewed ({ignore_file})")  # fmt: skip
    if not_audited:
        print(f"audit: {'dependency audit NOT done: ' if not audited else ''}not audited here (PyPI's per-release "
              f"JSON was not reachable and the pin is not the latest release): {', '.join(not_audited)}",
              file=sys.stderr)  # fmt: skip
    for v in sorted(found, key=lambda v: (v.package, v.id)):
        fix = f"fixed in {', '.join(v.fixed_in)}" if v.fixed_in else "no fixed release"
        print(f"VULNERABLE {v.package} {v.version}: {v.id} ({', '.join(v.aliases)}; {fix}) {v.summary}")
    if found:
        print(f"audit: FAILED: {len(found)} known vulnerabilities; upgrade (`make lock LOCK_FLAGS=--upgrade`) or, "
              f"after review, list them in {ignore_file} with the reason they do not apply")  # fmt: skip
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock")
    parser.add_argument("--ignore", type=Path, default=ROOT / "audit-ignore.toml")
    args = parser.parse_args(argv)
    pins, ignores = read_lock(args.lock), read_ignores(args.ignore)
    first = pip_audit(pins)
    if first is None:
        print("audit: dependency audit NOT done: PyPI's vulnerability data could not be reached (see above); "
              "re-run `make audit` when it can", file=sys.stderr)  # fmt: skip
        return 0
    return report(pins, ignores, *first, lock=args.lock.name, ignore_file=args.ignore.name)


if __name__ == "__main__":
    sys.exit(main())
