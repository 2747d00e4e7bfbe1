"""`docgap demo`: build the demo data set into the data dir and run the whole pipeline on it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta

from clustering.topics import TopicFilter, list_topics
from core.runtime import Runtime
from demo import HELPCENTER_DIR
from demo.build import STAFF_DOMAIN, build, default_end
from ingest.slack import read_slack_export
from ingest.zendesk import read_zendesk
from reports.weekly import build_weekly_report, save_report
from usecases.alerts import check_alerts
from usecases.apikeys import create_key
from usecases.permissions import OPERATOR
from usecases.pipeline import Progress, analyse, import_accounts, import_docs, import_questions
from usecases.tickets import create_ticket
from usecases.users import create_user, list_users, new_password

DEMO_USERS = (("am", "account_manager"), ("writer", "docs_writer"), ("admin", "admin"))
DEMO_TICKETS = 3
"""Doc tickets the demo writes, for its biggest gaps (re-running refreshes them)."""


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
    # The report covers the demo's last full week, whatever today's date is.
    report_clock = datetime.combine(end, datetime.min.time()) + timedelta(hours=9)
    as_of_report = Runtime(runtime.settings, clock=lambda: report_clock, embedder_override=runtime.embedder)
    report = build_weekly_report(as_of_report, None)
    save_report(runtime, report)
    # Risk flags as of the same day, so the briefs show them at once (serving re-checks them hourly).
    for flag in check_alerts(as_of_report, OPERATOR).open:
        log(f"risk flag: {flag.account}: {flag.title}")
    for t in list_topics(runtime, TopicFilter(coverage="gaps"), limit=DEMO_TICKETS):
        ticket, _ = create_ticket(runtime, OPERATOR, t.id)
        log(f"doc ticket #{ticket.id} for topic #{t.id}: {ticket.title}")
    # A key for trying the API (README's curl examples); a new one each run, since only hashes are stored.
    key = create_key(runtime, ["answers:read", "questions:write"], name="demo")
    log(f"API key for the demo (answers:read, questions:write), shown once: {key.secret}")
    for name, password, role in demo_users(runtime):
        log(f"log in as {name} ({role.replace('_', ' ')}), password shown once: {password}")
    return f"demo ready in {time.monotonic() - started:.0f}s: {c.topics} topics, weekly report for {report.week_start}"
