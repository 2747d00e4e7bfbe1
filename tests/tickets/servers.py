"""Local HTTP servers that speak the issue trackers' real APIs, for the exporters to talk to.

Each checks what the real service checks and docgap could get wrong (method, path, auth header, the payload's
shape) and answers as the real service does: GitHub Issues (REST, `application/vnd.github+json`), Jira Cloud REST
v3 (basic auth, the description as an Atlassian Document Format document), Linear (GraphQL `issueCreate` /
`issueUpdate` with their input types) and Asana (REST, `{"data": …}` envelopes, `html_notes` rich text). They keep
the issues they hold, so an update is checked against what was created, and record every request. `fail_next`
queues error replies (a 429 with `Retry-After`, a 5xx) for the next requests.

Each also has the status side of its API: reading an issue's status (GitHub `state`/`state_reason`, a Jira issue's
`status` with its `statusCategory`, a Linear issue's workflow `state` with its `type`, an Asana task's
`completed`) and changing it the tracker's way (GitHub `state`, Jira transitions, Linear `stateId`, Asana
`completed`). `move(issue, status)` changes an issue's status as a person working in the tracker would.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Reply = tuple[int, Any, dict[str, str]]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeTracker:
    token: str = "secret-token"
    requests: list[Seen] = field(default_factory=list)
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_next: list[Reply] = field(default_factory=list)

    def __post_init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                owner.requests.append(seen)
                status, payload, headers = owner.fail_next.pop(0) if owner.fail_next else owner.handle(seen)
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                for k, v in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def handle(self, r: Seen) -> Reply:
        raise NotImplementedError

    def __enter__(self) -> FakeTracker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class FakeGitHub(FakeTracker):
    repo = "acme/docs"

    def handle(self, r: Seen) -> Reply:
        if r.headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"message": "Bad credentials"}, {}
        if r.headers.get("accept") != "application/vnd.github+json" or not r.headers.get("x-github-api-version"):
            return 415, {"message": "Unsupported media type"}, {}
        if r.method == "POST" and r.path == f"/repos/{self.repo}/issues":
            if problem := _github_shape(r.body, create=True):
                return 422, {"message": "Validation Failed", "errors": [problem]}, {}
            number = str(len(self.issues) + 1)
            self.issues[number] = {**r.body, "state": "open", "state_reason": None}
            return 201, self._issue(number), {}
        m = re.fullmatch(rf"/repos/{self.repo}/issues/(\d+)", r.path)
        if m and m.group(1) not in self.issues:
            return 404, {"message": "Not Found"}, {}
        if r.method == "GET" and m:
            return 200, self._issue(m.group(1)), {}
        if r.method == "PATCH" and m:
            if problem := _github_shape(r.body, create=False):
                return 422, {"message": "Validation Failed", "errors": [problem]}, {}
            issue = self.issues[m.group(1)]
            was = issue["state"]
            issue.update(r.body)
            if issue["state"] == "closed" and "state_reason" not in r.body:
                issue["state_reason"] = "completed"  # GitHub's default reason for closing
            if issue["state"] == "open":
                issue["state_reason"] = "reopened" if was == "closed" else issue.get("state_reason")
            return 200, self._issue(m.group(1)), {}
        return 404, {"message": "Not Found"}, {}

    def move(self, number: str, state: str, reason: str | None = None) -> None:
        """Close (as `reason`: completed, not_planned) or reopen the issue, as a person on GitHub would."""
        self.issues[number].update(state=state, state_reason=reason if state == "closed" else "reopened")

    def _issue(self, number: str) -> dict[str, Any]:
        issue = self.issues[number]
        return {"id": 1000 + int(number), "number": int(number), "title": issue["title"], "body": issue["body"],
                "state": issue["state"], "state_reason": issue.get("state_reason"),
                "html_url": f"https://github.example/{self.repo}/issues/{number}"}  # fmt: skip


def _github_shape(body: Any, create: bool) -> dict[str, str] | None:
    if not isinstance(body, dict):
        return {"resource": "Issue", "code": "invalid", "message": "body is not a JSON object"}
    if create and not (isinstance(body.get("title"), str) and body["title"].strip()):
        return {"resource": "Issue", "field": "title", "code": "missing_field"}
    if "body" in body and not isinstance(body["body"], str):
        return {"resource": "Issue", "field": "body", "code": "invalid"}
    if "state" in body and body["state"] not in ("open", "closed"):
        return {"resource": "Issue", "field": "state", "code": "invalid"}
    if "state_reason" in body and body["state_reason"] not in ("completed", "not_planned", "reopened", None):
        return {"resource": "Issue", "field": "state_reason", "code": "invalid"}
    unknown = set(body) - {"title", "body", "labels", "state", "state_reason", "assignees", "milestone"}
    return {"resource": "Issue", "field": sorted(unknown)[0], "code": "invalid"} if unknown else None


ADF_BLOCKS = {"paragraph", "heading", "bulletList", "orderedList", "rule", "codeBlock", "blockquote"}


def adf_problem(node: Any, top: bool = True) -> str | None:
    """Why `node` is not a valid ADF document for the node types docgap uses (None when it is)."""
    if top:
        if not isinstance(node, dict) or node.get("type") != "doc" or node.get("version") != 1:
            return "description must be an ADF doc with version 1"
        return next((p for c in node.get("content", []) if (p := _block(c))), None)
    return _block(node)


def _block(n: Any) -> str | None:
    if not isinstance(n, dict) or n.get("type") not in ADF_BLOCKS:
        return f"unsupported block node {n!r:.80}"
    kind = n["type"]
    if kind == "rule":
        return None
    if kind == "heading" and not 1 <= int((n.get("attrs") or {}).get("level", 0)) <= 6:
        return "heading needs attrs.level 1-6"
    if kind in ("bulletList", "orderedList"):
        items = n.get("content") or []
        if not items or any(i.get("type") != "listItem" or not i.get("content") for i in items):
            return "a list holds non-empty listItem nodes"
        return next((p for i in items for c in i["content"] if (p := _block(c))), None)
    for t in n.get("content") or []:
        if t.get("type") != "text" or not isinstance(t.get("text"), str) or not t["text"]:
            return "inline content must be non-empty text nodes"
    return None


JIRA_WORKFLOW = [("11", "To Do", "new"), ("21", "In Progress", "indeterminate"), ("31", "In Review", "indeterminate"),
                 ("41", "Done", "done")]  # fmt: skip
"""(transition id, status, status category) of a simplified workflow: any status can move to any other."""
JIRA_CATEGORY_NAMES = {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}


class FakeJira(FakeTracker):
    email = "writer@acme.example"
    project = "DOC"
    workflow = JIRA_WORKFLOW

    def handle(self, r: Seen) -> Reply:
        expected = "Basic " + base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        if r.headers.get("authorization") != expected:
            return 401, {"errorMessages": ["You are not authenticated."], "errors": {}}, {}
        url = urlsplit(r.path)
        if r.method == "POST" and url.path == "/rest/api/3/issue":
            fields = (r.body or {}).get("fields") or {}
            if (fields.get("project") or {}).get("key") != self.project:
                return 400, {"errorMessages": [], "errors": {"project": "valid project is required"}}, {}
            if (fields.get("issuetype") or {}).get("name") != "Task":
                return 400, {"errorMessages": [], "errors": {"issuetype": "valid issue type is required"}}, {}
            if problem := self._content(fields, create=True):
                return 400, {"errorMessages": [], "errors": problem}, {}
            key = f"{self.project}-{len(self.issues) + 1}"
            self.issues[key] = {**fields, "status": self.workflow[0][1]}
            made = {"id": str(10000 + len(self.issues)), "key": key, "self": f"{self.url}/rest/api/3/issue/{key}"}
            return 201, made, {}
        m = re.fullmatch(r"/rest/api/3/issue/([A-Z]+-\d+)(/transitions)?", url.path)
        if m and m.group(1) not in self.issues:
            return 404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."],
                         "errors": {}}, {}  # fmt: skip
        if m and m.group(2):
            return self._transitions(r, m.group(1))
        if r.method == "GET" and m:
            return 200, self._issue(m.group(1), parse_qs(url.query).get("fields", ["*all"])[0].split(",")), {}
        if r.method == "PUT" and m:
            fields = (r.body or {}).get("fields") or {}
            if "status" in fields:
                return 400, {"errorMessages": [], "errors": {"status": "Field 'status' cannot be set. It is not "
                             "on the appropriate screen, or unknown."}}, {}  # fmt: skip
            if problem := self._content(fields, create=False):
                return 400, {"errorMessages": [], "errors": problem}, {}
            self.issues[m.group(1)].update(fields)
            return 204, None, {}
        return 404, {"errorMessages": ["not found"], "errors": {}}, {}

    def move(self, key: str, status: str) -> None:
        """Move the issue to a status of the workflow, as a person on the Jira board would."""
        assert status in {name for _, name, _ in self.workflow}, status
        self.issues[key]["status"] = status

    def _status(self, name: str) -> dict[str, Any]:
        category = next(c for _, n, c in self.workflow if n == name)
        return {"self": f"{self.url}/rest/api/3/status/{name}", "name": name, "id": str(10000 + len(name)),
                "statusCategory": {"key": category, "name": JIRA_CATEGORY_NAMES[category]}}  # fmt: skip

    def _issue(self, key: str, wanted: list[str]) -> dict[str, Any]:
        held = self.issues[key]
        fields = {"status": self._status(held["status"]), **{k: v for k, v in held.items() if k != "status"}}
        if wanted != ["*all"]:
            fields = {k: v for k, v in fields.items() if k in wanted}
        return {"id": str(10000 + list(self.issues).index(key) + 1), "key": key, "fields": fields}

    def _transitions(self, r: Seen, key: str) -> Reply:
        here = self.issues[key]["status"]
        offered = [(i, name) for i, name, _ in self.workflow if name != here]
        if r.method == "GET":
            return 200, {"expand": "transitions", "transitions": [
                {"id": i, "name": name, "to": self._status(name), "hasScreen": False, "isGlobal": True}
                for i, name in offered]}, {}  # fmt: skip
        if r.method == "POST":
            wanted = str(((r.body or {}).get("transition") or {}).get("id") or "")
            target = next((name for i, name in offered if i == wanted), None)
            if target is None:
                return 400, {"errorMessages": [f"Transition id '{wanted}' is not valid for this issue."],
                             "errors": {}}, {}  # fmt: skip
            self.issues[key]["status"] = target
            return 204, None, {}
        return 405, None, {}

    def _content(self, fields: dict[str, Any], create: bool) -> dict[str, str] | None:
        summary = fields.get("summary")
        if (create or "summary" in fields) and not (isinstance(summary, str) and summary and "\n" not in summary):
            return {"summary": "You must specify a summary of the issue."}
        if isinstance(summary, str) and len(summary) > 255:
            return {"summary": "Summary must be less than 255 characters."}
        if "description" in fields and (p := adf_problem(fields["description"])):
            return {"description": f"Operation value must be an Atlassian Document (see the Atlassian Document "
                                   f"Format): {p}"}  # fmt: skip
        return None


LINEAR_STATES = [("st-backlog", "Backlog", "backlog"), ("st-todo", "Todo", "unstarted"),
                 ("st-progress", "In Progress", "started"), ("st-review", "In Review", "started"),
                 ("st-done", "Done", "completed"), ("st-canceled", "Canceled", "canceled")]  # fmt: skip
"""The team's workflow states (id, name, type), in board order (their `position`)."""


class FakeLinear(FakeTracker):
    team = "team-3f2a"

    def handle(self, r: Seen) -> Reply:
        if r.method != "POST" or r.path != "/graphql":
            return 404, None, {}
        if r.headers.get("authorization") != self.token:  # a personal API key, without "Bearer"
            return 400, {"errors": [{"message": "Authentication required, not authenticated",
                                     "extensions": {"code": "AUTHENTICATION_ERROR"}}]}, {}  # fmt: skip
        body = r.body if isinstance(r.body, dict) else {}
        query, variables = str(body.get("query") or ""), body.get("variables") or {}
        if re.search(r"mutation \w*\(\$input: IssueCreateInput!\)\s*\{\s*issueCreate\(input: \$input\)", query):
            i = variables.get("input") or {}
            if i.get("teamId") != self.team or not i.get("title") or not isinstance(i.get("description"), str):
                return 200, {"errors": [{"message": "Argument Validation Error"}], "data": None}, {}
            issue_id = f"a1b2c3d4-0000-4000-8000-{len(self.issues) + 1:012d}"
            self.issues[issue_id] = {"title": i["title"], "description": i["description"],
                                     "identifier": f"DOC-{len(self.issues) + 1}", "stateId": "st-todo"}  # fmt: skip
            return 200, {"data": {"issueCreate": {"success": True, "issue": self._issue(issue_id, query)}}}, {}
        if re.search(r"\$id: String!, \$input: IssueUpdateInput!\)\s*\{\s*issueUpdate\(id: \$id, input: \$input\)",
                     query):  # fmt: skip
            issue_id, i = variables.get("id"), variables.get("input") or {}
            if issue_id not in self.issues:
                return 200, {"errors": [{"message": "Entity not found: Issue"}], "data": None}, {}
            if "teamId" in i or not isinstance(i.get("description"), str):
                return 200, {"errors": [{"message": "Argument Validation Error"}], "data": None}, {}
            if "stateId" in i and i["stateId"] not in {sid for sid, _, _ in LINEAR_STATES}:
                return 200, {"errors": [{"message": "Entity not found: WorkflowState"}], "data": None}, {}
            self.issues[issue_id].update(i)
            return 200, {"data": {"issueUpdate": {"success": True, "issue": self._issue(issue_id, query)}}}, {}
        if re.search(r"query \w*\(\$id: String!\)\s*\{\s*issue\(id: \$id\)", query):
            if variables.get("id") not in self.issues:
                return 200, {"errors": [{"message": "Entity not found: Issue"}], "data": None}, {}
            return 200, {"data": {"issue": self._issue(variables["id"], query)}}, {}
        if re.search(r"query \w*\(\$team: ID!, \$type: String!\)\s*\{\s*workflowStates\(filter: "
                     r"\{ team: \{ id: \{ eq: \$team \} \}, type: \{ eq: \$type \} \}\)", query):  # fmt: skip
            nodes = [{"id": sid, "name": name, "type": kind, "position": float(n)}
                     for n, (sid, name, kind) in enumerate(LINEAR_STATES)
                     if variables.get("team") == self.team and kind == variables.get("type")]  # fmt: skip
            return 200, {"data": {"workflowStates": {"nodes": nodes}}}, {}
        return 200, {"errors": [{"message": f"Cannot parse the query: {query[:60]}"}]}, {}

    def move(self, issue_id: str, state: str) -> None:
        """Move the issue to the team's state named `state`, as a person on the Linear board would."""
        self.issues[issue_id]["stateId"] = next(sid for sid, name, _ in LINEAR_STATES if name == state)

    def state_of(self, issue_id: str) -> str:
        return next(name for sid, name, _ in LINEAR_STATES if sid == self.issues[issue_id]["stateId"])

    def _issue(self, issue_id: str, query: str) -> dict[str, Any]:
        """The issue with what the query selects of it (GraphQL answers only what was asked)."""
        held = self.issues[issue_id]
        ident = held["identifier"]
        out = {"id": issue_id, "identifier": ident, "url": f"https://linear.example/acme/issue/{ident}"}
        if "state {" in query:
            _, name, kind = next(s for s in LINEAR_STATES if s[0] == held["stateId"])
            out["state"] = {"name": name, "type": kind}
        return out


ASANA_TAGS = {"body", "h1", "h2", "strong", "em", "u", "s", "code", "ol", "ul", "li", "a", "blockquote", "pre", "hr"}


def asana_notes_problem(notes: Any) -> str | None:
    """Why `html_notes` would be refused: not well-formed XML in a <body>, or a tag Asana does not take."""
    if not isinstance(notes, str) or not notes.startswith("<body>") or not notes.endswith("</body>"):
        return "html_notes must be wrapped in <body>"
    try:
        root = ET.fromstring(notes)
    except ET.ParseError as exc:
        return f"XML is invalid: {exc}"
    bad = {e.tag for e in root.iter()} - ASANA_TAGS
    return f"unsupported tags {sorted(bad)}" if bad else None


class FakeAsana(FakeTracker):
    project = "1209000000000001"

    def handle(self, r: Seen) -> Reply:
        if r.headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"errors": [{"message": "Not Authorized"}]}, {}
        url = urlsplit(r.path)
        path, fields = url.path, parse_qs(url.query).get("opt_fields", [""])[0].split(",")
        data = (r.body or {}).get("data") if isinstance(r.body, dict) else None
        if r.method == "POST" and path == "/api/1.0/tasks":
            if not isinstance(data, dict) or data.get("projects") != [self.project] or not data.get("name"):
                return 400, {"errors": [{"message": "data: Missing input"}]}, {}
            if problem := asana_notes_problem(data.get("html_notes")):
                return 400, {"errors": [{"message": f"html_notes: {problem}"}]}, {}
            gid = str(1209000000000100 + len(self.issues))
            self.issues[gid] = {**data, "completed": False}
            return 201, {"data": self._task(gid, fields)}, {}
        m = re.fullmatch(r"/api/1\.0/tasks/(\d+)", path)
        if m and m.group(1) not in self.issues:
            return 404, {"errors": [{"message": f"task: Unknown object: {m.group(1)}"}]}, {}
        if r.method == "GET" and m:
            return 200, {"data": self._task(m.group(1), fields)}, {}
        if r.method == "PUT" and m:
            if not isinstance(data, dict) or "projects" in data:
                return 400, {"errors": [{"message": "projects: Cannot write this property"}]}, {}
            if "html_notes" in data and (problem := asana_notes_problem(data["html_notes"])):
                return 400, {"errors": [{"message": f"html_notes: {problem}"}]}, {}
            if "completed" in data and not isinstance(data["completed"], bool):
                return 400, {"errors": [{"message": "completed: Not a boolean"}]}, {}
            self.issues[m.group(1)].update(data)
            return 200, {"data": self._task(m.group(1), fields)}, {}
        return 404, {"errors": [{"message": "No matching route for request"}]}, {}

    def move(self, gid: str, completed: bool) -> None:
        """Mark the task complete or incomplete, as a person in Asana would."""
        self.issues[gid]["completed"] = completed

    def _task(self, gid: str, fields: list[str]) -> dict[str, Any]:
        """The task compact (gid, name) plus the `opt_fields` asked for, as Asana answers."""
        task = self.issues[gid]
        full = {"gid": gid, "name": task["name"], "completed": task["completed"],
                "permalink_url": f"https://app.asana.example/0/{self.project}/{gid}"}  # fmt: skip
        return {k: v for k, v in full.items() if k in ("gid", "name") or k in fields}
