"""`docgap demo`: build the demo data set into the data dir and run the whole pipeline on it."""

from __future__ import annotations

import csv
import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from clustering.topics import TopicFilter, list_topics
from clustering.trends import week_start
from core.models import Question, Topic
from core.runtime import Runtime
from demo import DEMO_DIR, HELPCENTER_DIR
from demo.build import STAFF_DOMAIN, build, default_end
from ingest.slack import read_slack_export
from ingest.zendesk import read_zendesk
from reports.impact import WINDOW_WEEKS
from reports.weekly import WeeklyReport, build_weekly_report, save_report
from usecases.alerts import check_alerts
from usecases.apikeys import create_key
from usecases.permissions import OPERATOR
from usecases.pipeline import Progress, analyse, import_accounts, import_docs, import_questions
from usecases.tickets import create_ticket
from usecases.topics import change_topic
from usecases.users import create_user, list_users, new_password

DEMO_USERS = (("am", "account_manager"), ("writer", "docs_writer"), ("admin", "admin"))
DEMO_TICKETS = 3
"""Doc tickets the demo writes, for its biggest gaps (re-running refreshes them)."""
DEMO_DOCUMENTED = 2
"""Topics the demo marks documented, so that the topic page and the weekly report show doc impact."""
DOCUMENTED_MIN_SHARE = 0.75
"""A topic is answered by one help-center page when at least three in four of its questions are of one intent that
`demo/intents.json` records as documented: that intent's page is the page that answers the topic."""
SHIPPED_WEEKDAY = 2
"""The demo's page ships on a Wednesday, mid-week, as a writer's would (that week is left out of the comparison)."""


@dataclass(frozen=True)
class DocumentedTopic:
    """A topic the demo marked documented, and why this page: how many of its questions are the page's intent."""

    topic_id: int
    label: str
    intent: str
    questions: int
    of_intent: int
    page: str
    shipped: date | None = None
    """The day the page shipped, once marked (None: a candidate `answered_topics` found)."""
    already: bool = False
    """It was documented with this page by an earlier run (re-running the demo changes nothing)."""

    @property
    def share(self) -> float:
        return self.of_intent / self.questions


def shipping_day(end: date) -> date:
    """The Wednesday of the week `WINDOW_WEEKS + 1` weeks before `end`'s: a few weeks before the demo's end.

    The report covers the week before `end`'s week, so by its end `WINDOW_WEEKS` full weeks have passed since the
    shipping week: the most doc impact compares, against as many weeks before.
    """
    return week_start(end) - timedelta(weeks=WINDOW_WEEKS + 1) + timedelta(days=SHIPPED_WEEKDAY)


def answered_topics(runtime: Runtime, truth: Path, n: int = DEMO_DOCUMENTED) -> list[DocumentedTopic]:
    """The `n` biggest active topics that one documented help-center page answers (`DOCUMENTED_MIN_SHARE`).

    The demo knows what docgap does not: each question's BANKING77 intent (`truth.csv` beside the exports) and
    which page documents it (`demo/intents.json`). Biggest by questions in the topic (ties: the lower id); one
    topic per page.
    """
    intents = json.loads((DEMO_DIR / "intents.json").read_text())["intents"]
    with truth.open(newline="") as f:
        intent_of = {(r["source"], r["external_id"]): r["intent"] for r in csv.DictReader(f)}
    with Session(runtime.engine) as session:
        labels = {t.id: t.label for t in session.exec(select(Topic).where(col(Topic.active).is_(True))).all()}
        rows = session.exec(
            select(Question.source, Question.external_id, Question.topic_id).where(
                col(Question.topic_id).in_(list(labels))
            )
        ).all()
    asked: dict[int, Counter[str]] = defaultdict(Counter)
    for source, external_id, topic_id in rows:
        if topic_id is not None:
            asked[topic_id][intent_of.get((source, external_id), "")] += 1
    out: list[DocumentedTopic] = []
    for topic_id, counts in sorted(asked.items(), key=lambda kv: (-kv[1].total(), kv[0])):
        intent, k = counts.most_common(1)[0]
        doc = intents.get(intent, {})
        if doc.get("status") != "documented" or k < DOCUMENTED_MIN_SHARE * counts.total():
            continue
        if doc["page"] in {d.page for d in out}:
            continue
        out.append(DocumentedTopic(topic_id, labels[topic_id], intent, counts.total(), k, doc["page"]))
        if len(out) == n:
            break
    return out


def document_answered_topics(runtime: Runtime, truth: Path, end: date) -> list[DocumentedTopic]:
    """Mark `answered_topics` documented with their page, shipped on `shipping_day(end)`, as a writer would.

    Through the writer's own use case (`change_topic`), so the topic's lineage, page and date are what a writer's
    move leaves; the impact shown is then counted from the questions like any other. The move is made as of
    `runtime`'s clock (after the shipping day: a writer often marks a topic after the fact).
    """
    shipped = shipping_day(end)
    done = []
    for d in answered_topics(runtime, truth):
        with Session(runtime.engine) as session:
            t = session.get(Topic, d.topic_id)
            already = t is not None and t.status == "documented" and t.documented_url == d.page
        if not already:
            change_topic(runtime, OPERATOR, d.topic_id, "documented", doc_url=d.page, documented_on=shipped)
        done.append(replace(d, shipped=shipped, already=already))
    return done


def report_and_act(runtime: Runtime, sources: Path, end: date, log: Callable[[str], None] = print) -> WeeklyReport:
    """The demo's steps after the analysis: doc impact, the weekly report, risk flags and doc tickets.

    All as of `end` (the Monday after the demo's data): the report covers the demo's last full week whatever
    today's date is, and the topics are marked documented before it is built so that its doc impact shows them.
    """
    report_clock = datetime.combine(end, datetime.min.time()) + timedelta(hours=9)
    as_of_report = Runtime(runtime.settings, clock=lambda: report_clock, embedder_override=runtime.embedder)
    for d in document_answered_topics(as_of_report, sources / "truth.csv", end):
        state = "already documented" if d.already else "marked documented"
        log(f"doc impact: topic #{d.topic_id} “{d.label}” {state} with {d.page}, shipped {d.shipped} "
            f"({d.of_intent} of its {d.questions} questions are the page's intent {d.intent})")  # fmt: skip
    report = build_weekly_report(as_of_report, None)
    save_report(runtime, report)
    for impact in report.doc_impact:
        log(f"weekly report {report.week_start}, doc impact of topic #{impact.topic_id}: {impact.sentence}")
    # Risk flags as of the same day, so the briefs show them at once (serving re-checks them hourly).
    for flag in check_alerts(as_of_report, OPERATOR).open:
        log(f"risk flag: {flag.account}: {flag.title}")
    for t in list_topics(runtime, TopicFilter(coverage="gaps"), limit=DEMO_TICKETS):
        ticket, _ = create_ticket(runtime, OPERATOR, t.id)
        log(f"doc ticket #{ticket.id} for topic #{t.id}: {ticket.title}")
    return report


def demo_users(runtime: Runtime) -> list[tuple[str, str, str]]:
    """One user per role with a fresh random password: (name, password, role).

    The demo prints them once; only hashes are stored. Re-running the demo disables none and creates none twice:
    a user who already exists keeps the password printed the first time, and is listed with "(unchanged)".
    """
    have = {u.name for u in list_users(runtime, OPERATOR)}
    made = []
    for name, role in DEMO_USERS:
        if name in have:
            made.append((name, "(unchanged: printed when the demo first ran)", role))
            continue
        password = new_password()
        create_user(runtime, OPERATOR, name, role, password)
        made.append((name, password, role))
    return made


def run_demo(runtime: Runtime, end: date | None, progress: Progress, log: Callable[[str], None] = print) -> str:
    started = time.monotonic()
    out = runtime.settings.data_dir / "demo-sources"
    # The demo stays anchored to the week it was first built in: re-running it later re-imports the same
    # questions (a no-op) instead of adding a second, shifted copy.
    anchor = out / "end-date.txt"
    end = end or (date.fromisoformat(anchor.read_text().strip()) if anchor.exists() else default_end())
    out.mkdir(parents=True, exist_ok=True)
    anchor.write_text(end.isoformat())
    if not runtime.settings.staff_domains:
        runtime.settings.staff_domains = STAFF_DOMAIN
    team_field = runtime.settings.zendesk_team_field or "department"  # the demo's requesters carry one
    counts = build(out, end)
    log(f"built the demo data set in {out}: {counts}")
    staff = runtime.settings.staff_domain_list
    log(f"docs: {import_docs(runtime, HELPCENTER_DIR, 'fernpay-helpcenter', progress).summary()}")
    log(f"accounts: {import_accounts(runtime, out / 'accounts.csv')[0].summary()}")
    tickets, export = out / "zendesk" / "tickets.json", out / "slack" / "fernpay-slack-export.zip"
    zd = import_questions(runtime, read_zendesk(tickets, staff, team_field), progress, location=str(tickets))
    log(f"zendesk: {zd.summary()}")
    sl = import_questions(runtime, read_slack_export(export, staff), progress, location=str(export))
    log(f"slack: {sl.summary()}")
    res = analyse(runtime)
    c = res.clustering
    log(f"topics: {c.topics} over {c.questions} questions, {c.unassigned} unassigned")
    report = report_and_act(runtime, out, end, log)
    # A key for trying the API (README's curl examples); a new one each run, since only hashes are stored.
    key = create_key(runtime, ["answers:read", "questions:write"], name="demo")
    log(f"API key for the demo (answers:read, questions:write), shown once: {key.secret}")
    for name, password, role in demo_users(runtime):
        log(f"log in as {name} ({role.replace('_', ' ')}), password shown once: {password}")
    return f"demo ready in {time.monotonic() - started:.0f}s: {c.topics} topics, weekly report for {report.week_start}"
