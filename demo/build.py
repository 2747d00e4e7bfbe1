"""Build the demo data set reproducibly from files the repository carries.

Fernpay is a fictional business-payments SaaS. Its customers' questions are real online-banking questions from
BANKING77 (Casanueva et al. 2020, CC BY 4.0; see `demo/banking77/SOURCE.md`), spread over 15 accounts and 26
weeks and written out the way the real tools export them: a Zendesk incremental-export JSON document (tickets
with comments, side-loaded users and organizations) and a Slack workspace export zip (Slack Connect channels,
threads, staff replies, joins, bot posts and "thanks!" noise). `demo/intents.json` records which intents the help
center documents fully, partly or not at all (the planted gaps). One account, Brightline Logistics, files a
steadily rising number of "my transfer never arrived" tickets over the last ten weeks (45 in all). Staff
answer the biggest gaps' questions with intent-specific replies (`demo/staff_replies.json`), the rest with generic
case-handling lines; `planted.json` beside the exports records what was planted.

Run: `python -m demo.build OUT_DIR [--end YYYY-MM-DD] [--seed N]` (or `docgap demo`, which also ingests it).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from demo import DEMO_DIR

WEEKS = 26
TARGET_QUESTIONS = 2000
RISING_ACCOUNT = "Brightline Logistics"
RISING_INTENT = "transfer_not_received_by_recipient"
RISING_PER_WEEK = [0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 4, 5, 7, 9, 11]  # 45, nearly all in the last 10 weeks
STAFF_DOMAIN = "fernpay.com"
CHATTER = "(chatter)"
"""The intent recorded in truth.csv for channel messages that ask nothing."""

ACCOUNTS = [
    # name, domain, zendesk org id, slack channel id (or ""), owner, segment, ARR, weight
    ("Brightline Logistics", "brightline-logistics.com", "360001", "C05BRIGHT", "Maya Okafor", "mid-market", 84000, 9),
    ("Harbor & Pine Studio", "harborandpine.co", "360002", "", "Maya Okafor", "smb", 12000, 3),
    ("Northgate Retail Group", "northgate-retail.com", "360003", "C05NORTH", "Tom Lindqvist", "enterprise", 310000, 14),
    ("Quayside Foods", "quaysidefoods.co.uk", "360004", "", "Tom Lindqvist", "mid-market", 56000, 6),
    ("Altura Travel", "alturatravel.com", "360005", "C05ALTURA", "Priya Shah", "enterprise", 245000, 12),
    ("Kestrel Engineering", "kestrel-eng.com", "360006", "", "Priya Shah", "mid-market", 61000, 5),
    ("Bluebell Nurseries", "bluebellnurseries.co.uk", "360007", "", "Maya Okafor", "smb", 9000, 2),
    ("Meridian Health Partners", "meridianhp.org", "360008", "C05MERID", "Daniel Brooks", "enterprise", 190000, 10),
    ("Copperleaf Coffee", "copperleaf.coffee", "360009", "", "Daniel Brooks", "smb", 15000, 3),
    ("Ironbridge Construction", "ironbridge-build.com", "360010", "C05IRONB", "Tom Lindqvist", "mid-market", 72000, 7),
    ("Solstice Events", "solstice-events.com", "360011", "", "Priya Shah", "smb", 18000, 4),
    ("Tidewater Analytics", "tidewater.ai", "360012", "C05TIDEW", "Daniel Brooks", "mid-market", 66000, 6),
    ("Orchard Lane Schools", "orchardlane.org.uk", "360013", "", "Maya Okafor", "mid-market", 38000, 5),
    ("Vantage Media", "vantagemedia.io", "360014", "C05VANTA", "Priya Shah", "enterprise", 150000, 8),
    ("Pelican Freight", "pelicanfreight.com", "360015", "C05PELIC", "Tom Lindqvist", "mid-market", 47000, 6),
]
FIRST_NAMES = ["Alex", "Sam", "Jordan", "Chris", "Priya", "Lena", "Marco", "Aisha", "Tom", "Yuki", "Olu", "Sofia"]
LAST_NAMES = ["Reed", "Patel", "Nguyen", "Kowalski", "Haddad", "Moreau", "Silva", "Byrne", "Lund", "Osei"]
STAFF = [("Ellie Marsh", "ellie"), ("Ravi Kumar", "ravi"), ("Jonas Weber", "jonas")]
GREETINGS = ["Hi team,", "Hello,", "Hi Fernpay support,", "Good morning,", "Hey there,"]
SIGNOFFS = ["Thanks,", "Kind regards,", "Best,", "Cheers,", "Many thanks,"]
STAFF_REPLIES = [
    "Thanks for getting in touch. I've looked into this for you and sent the details to your inbox.",
    "Sorry for the trouble! I've checked your account and this is now sorted. Let us know if anything else comes up.",
    "Thanks for flagging this. I've escalated it to our payments team and will update you within one working day.",
]
"""What staff answer an intent's questions without `staff_replies.json` lines of its own: case work, which no page
would say (so a doc ticket's outline drawn from them falls back to the questions)."""
FOLLOW_UPS = ["Thanks, that worked!", "Any update on this? It's still not resolved.", "+1", "Thank you so much!"]


@dataclass
class Item:
    """One generated customer question before it is written in a source's format."""

    n: int
    text: str
    intent: str
    account: int
    created: datetime
    user: int
    channel: str  # "zendesk" or "slack"
    staff_reply: str | None
    follow_up: str | None
    language: str = "en"
    external_id: str = field(init=False, default="")


def _load_questions() -> dict[str, list[str]]:
    by_intent: dict[str, list[str]] = defaultdict(list)
    with (DEMO_DIR / "banking77" / "train.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            by_intent[row["category"]].append(row["text"].strip())
    return by_intent


def _load_staff_replies() -> dict[str, list[str]]:
    return json.loads((DEMO_DIR / "staff_replies.json").read_text(encoding="utf-8"))["replies"]


def _intent_counts(intents: list[str], rng: random.Random) -> dict[str, int]:
    """Uneven popularity (a few big topics, a long tail), every intent at least 10 questions."""
    weights = {i: rng.lognormvariate(0, 0.6) for i in intents}
    total = sum(weights.values())
    spare = TARGET_QUESTIONS - sum(RISING_PER_WEEK) - 10 * len(intents)
    return {i: 10 + round(spare * w / total) for i, w in weights.items()}


def generate(end: date, seed: int = 7) -> list[Item]:
    rng = random.Random(seed)
    pool = _load_questions()
    for texts in pool.values():
        rng.shuffle(texts)
    counts = _intent_counts(sorted(pool), rng)
    start = end - timedelta(weeks=WEEKS)
    acc_weights = [a[7] for a in ACCOUNTS]
    own_replies = _load_staff_replies()
    replied: dict[str, int] = defaultdict(int)
    items: list[Item] = []

    def when(day_offset: float) -> datetime:
        d = start + timedelta(days=int(day_offset))
        return datetime.combine(d, time(8)) + timedelta(minutes=rng.randrange(0, 10 * 60))

    def staff_reply(intent: str) -> str | None:
        """About 45% of questions get a staff reply: an intent's own lines in turn, else a generic one.

        The generic draw is made either way, so the random sequence (and every other question) is what it was
        before any intent had replies of its own.
        """
        if rng.random() >= 0.45 or intent == CHATTER:
            return None
        generic = rng.choice(STAFF_REPLIES)
        own = own_replies.get(intent)
        if not own:
            return generic
        replied[intent] += 1
        return own[(replied[intent] - 1) % len(own)]

    def add(
        text: str, intent: str, account: int, created: datetime, slack: bool | None = None, lang: str = "en"
    ) -> None:
        if slack is None:
            slack = bool(ACCOUNTS[account][3]) and rng.random() < 0.5
        items.append(
            Item(
                n=len(items),
                text=text,
                intent=intent,
                account=account,
                created=created,
                user=rng.randrange(4),
                channel="slack" if slack else "zendesk",
                staff_reply=staff_reply(intent),
                follow_up=rng.choice(FOLLOW_UPS) if rng.random() < 0.15 and intent != CHATTER else None,
                language=lang,
            )
        )

    used: dict[str, int] = defaultdict(int)
    for intent, n in sorted(counts.items()):
        for _ in range(n):
            text = pool[intent][used[intent] % len(pool[intent])]
            used[intent] += 1
            account = rng.choices(range(len(ACCOUNTS)), weights=acc_weights)[0]
            # Volume grows gently over the half year: later days are likelier.
            day = WEEKS * 7 * (rng.random() ** 0.85)
            add(text, intent, account, when(day))
    rising = [a[0] for a in ACCOUNTS].index(RISING_ACCOUNT)
    first_week = WEEKS - len(RISING_PER_WEEK)
    for w, k in enumerate(RISING_PER_WEEK):
        for _ in range(k):
            text = pool[RISING_INTENT][used[RISING_INTENT] % len(pool[RISING_INTENT])]
            used[RISING_INTENT] += 1
            add(text, RISING_INTENT, rising, when((first_week + w) * 7 + rng.random() * 5))
    # Shared channels also carry questions in other languages and chatter that asks nothing (for question
    # detection and multilingual grouping).
    slack_accounts = [i for i, a in enumerate(ACCOUNTS) if a[3]]
    for name, recent_weeks in (("multilingual.csv", 10), ("chatter.csv", WEEKS)):
        with (DEMO_DIR / name).open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                day = WEEKS * 7 - recent_weeks * 7 * rng.random()
                add(
                    row["text"],
                    row.get("intent") or CHATTER,
                    rng.choice(slack_accounts),
                    when(day),
                    True,
                    row["language"],
                )
    items.sort(key=lambda it: it.created)
    for i, it in enumerate(items):
        it.n = i
    return items


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _user_email(account: int, user: int) -> tuple[str, str]:
    first = FIRST_NAMES[(account * 5 + user) % len(FIRST_NAMES)]
    last = LAST_NAMES[(account * 3 + user * 7) % len(LAST_NAMES)]
    return f"{first} {last}", f"{first.lower()}.{last.lower()}@{ACCOUNTS[account][1]}"


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_accounts(items: list[Item], out: Path, end: date) -> None:
    with (out / "accounts.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["name", "domains", "zendesk_org_ids", "slack_channel_ids", "owner", "segment", "arr", "renewal_date"]
        )
        for i, (name, domain, org, channel, owner, segment, arr, _) in enumerate(ACCOUNTS):
            renewal = end + timedelta(days=30 + 23 * i)
            w.writerow([name, domain, org, channel, owner, segment, arr, renewal.isoformat()])


DEPARTMENTS = ("Finance", "Operations", "Payroll", "Procurement")
"""The customers' own teams, as the Zendesk user field `department` (`DOCGAP_ZENDESK_TEAM_FIELD=department`): a
person's department follows from who they are, so the random draws (and the demo's questions) stay as they were."""


def write_zendesk(items: list[Item], out: Path, rng: random.Random) -> int:
    users: dict[int, dict] = {}
    for k, (name, handle) in enumerate(STAFF):
        users[900 + k] = {"id": 900 + k, "name": name, "email": f"{handle}@{STAFF_DOMAIN}", "role": "agent"}
    tickets = []
    for it in (i for i in items if i.channel == "zendesk"):
        uid = 1000 + it.account * 10 + it.user
        name, email = _user_email(it.account, it.user)
        users[uid] = {
            "id": uid,
            "name": name,
            "email": email,
            "role": "end-user",
            "organization_id": int(ACCOUNTS[it.account][2]),
            "user_fields": {"department": DEPARTMENTS[(it.account + it.user // 2) % len(DEPARTMENTS)]},  # two a team
        }
        subject = it.text if len(it.text) <= 60 else it.text[:57].rstrip() + "..."
        body = it.text
        if rng.random() < 0.6:
            body = f"{rng.choice(GREETINGS)}\n\n{body}"
        if rng.random() < 0.5:
            body = f"{body}\n\n{rng.choice(SIGNOFFS)}\n{name.split()[0]}\n{ACCOUNTS[it.account][0]}"
        tid = 52000 + it.n
        it.external_id = str(tid)
        comments = [{"id": tid * 10, "author_id": uid, "body": body, "public": True, "created_at": _iso(it.created)}]
        t = it.created
        if it.staff_reply:
            t += timedelta(hours=rng.randrange(1, 20))
            agent = 900 + rng.randrange(len(STAFF))
            comments.append(
                {"id": tid * 10 + 1, "author_id": agent, "body": it.staff_reply, "public": True, "created_at": _iso(t)}
            )
        if it.follow_up:
            t += timedelta(hours=rng.randrange(1, 30))
            quoted = "\n".join(f"> {line}" for line in comments[-1]["body"].splitlines())
            comments.append(
                {
                    "id": tid * 10 + 2,
                    "author_id": uid,
                    "public": True,
                    "created_at": _iso(t),
                    "body": f"{it.follow_up}\n\nOn {it.created:%a, %d %b %Y} Fernpay Support wrote:\n{quoted}",
                }
            )
        tickets.append(
            {
                "id": tid,
                "url": f"https://fernpay.zendesk.com/api/v2/tickets/{tid}.json",
                "subject": subject,
                "description": body,
                "status": "solved" if it.staff_reply else "open",
                "priority": rng.choice(["low", "normal", "normal", "high"]),
                "requester_id": uid,
                "submitter_id": uid,
                "organization_id": int(ACCOUNTS[it.account][2]),
                "via": {"channel": rng.choice(["email", "web"])},
                "tags": [],
                "created_at": _iso(it.created),
                "updated_at": _iso(t),
                "comments": comments,
            }
        )
    orgs = [{"id": int(a[2]), "name": a[0], "domain_names": [a[1]]} for a in ACCOUNTS]
    doc = {
        "tickets": tickets,
        "users": sorted(users.values(), key=lambda u: u["id"]),
        "organizations": orgs,
        "after_cursor": None,
        "end_of_stream": True,
        "count": len(tickets),
    }
    (out / "zendesk").mkdir(parents=True, exist_ok=True)
    (out / "zendesk" / "tickets.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return len(tickets)


def write_slack(items: list[Item], out: Path, rng: random.Random) -> int:
    users = [
        {
            "id": f"UST{k}",
            "name": handle,
            "real_name": name,
            "is_bot": False,
            "team_id": "TFERNPAY",
            "profile": {"real_name": name, "email": f"{handle}@{STAFF_DOMAIN}"},
        }
        for k, (name, handle) in enumerate(STAFF)
    ]
    users.append(
        {
            "id": "UBOTDEPLOY",
            "name": "statusbot",
            "is_bot": True,
            "team_id": "TFERNPAY",
            "profile": {"real_name": "Status Bot"},
        }
    )
    channels, days = [], defaultdict(list)
    for a, acc in enumerate(ACCOUNTS):
        if not acc[3]:
            continue
        cname = f"ext-{_slug(acc[0])}"
        members = []
        for u in range(4):
            name, email = _user_email(a, u)
            uid = f"U{a:02d}{u}{acc[3][-4:]}"
            members.append(uid)
            users.append(
                {
                    "id": uid,
                    "name": email.split("@")[0],
                    "real_name": name,
                    "is_bot": False,
                    "team_id": f"T{acc[3][3:]}",
                    "profile": {"real_name": name, "email": email},
                }
            )
        channels.append(
            {
                "id": acc[3],
                "name": cname,
                "created": 1_690_000_000,
                "is_shared": True,
                "members": members + [u["id"] for u in users[:3]],
                "topic": {"value": f"{acc[0]} × Fernpay"},
            }
        )
        join_day = min(i.created for i in items) - timedelta(days=1)
        days[(cname, join_day.date())].append(
            {
                "type": "message",
                "subtype": "channel_join",
                "user": members[0],
                "text": f"<@{members[0]}> has joined the channel",
                "ts": f"{join_day.replace(tzinfo=UTC).timestamp():.6f}",
            }
        )
    n = 0
    for it in (i for i in items if i.channel == "slack"):
        acc = ACCOUNTS[it.account]
        cname = f"ext-{_slug(acc[0])}"
        uid = f"U{it.account:02d}{it.user}{acc[3][-4:]}"
        ts = it.created.replace(tzinfo=UTC).timestamp() + it.n * 1e-6
        parent = {"type": "message", "user": uid, "text": it.text, "ts": f"{ts:.6f}"}
        it.external_id = f"{acc[3]}:{parent['ts']}"
        days[(cname, it.created.date())].append(parent)
        replies = []
        t = ts
        if it.staff_reply:
            t += rng.randrange(600, 40000)
            replies.append({"user": f"UST{rng.randrange(len(STAFF))}", "text": it.staff_reply})
        if it.follow_up:
            t += rng.randrange(600, 40000)
            replies.append({"user": uid, "text": it.follow_up})
        if replies:
            parent.update({"thread_ts": parent["ts"], "reply_count": len(replies), "replies": []})
            for k, r in enumerate(replies):
                rts = f"{t + k:.6f}"
                parent["replies"].append({"user": r["user"], "ts": rts})
                day = datetime.fromtimestamp(float(rts), UTC).date()
                days[(cname, day)].append(
                    {
                        "type": "message",
                        "user": r["user"],
                        "text": r["text"],
                        "ts": rts,
                        "thread_ts": parent["ts"],
                        "parent_user_id": uid,
                    }
                )
        n += 1
        if rng.random() < 0.03:
            days[(cname, it.created.date())].append(
                {
                    "type": "message",
                    "subtype": "bot_message",
                    "bot_id": "BSTATUS",
                    "username": "statusbot",
                    "text": "All systems operational.",
                    "ts": f"{ts + 5:.6f}",
                }
            )
    (out / "slack").mkdir(parents=True, exist_ok=True)
    stamp = (2026, 1, 1, 0, 0, 0)  # fixed entry times: the same inputs give a byte-identical zip

    def put(zf: zipfile.ZipFile, name: str, value: object) -> None:
        zf.writestr(zipfile.ZipInfo(name, stamp), json.dumps(value, indent=1), zipfile.ZIP_DEFLATED)

    with zipfile.ZipFile(out / "slack" / "fernpay-slack-export.zip", "w") as zf:
        put(zf, "channels.json", channels)
        put(zf, "users.json", users)
        for (cname, day), msgs in sorted(days.items()):
            msgs.sort(key=lambda m: float(m["ts"]))
            put(zf, f"{cname}/{day.isoformat()}.json", msgs)
    return n


def write_truth(items: list[Item], out: Path) -> None:
    """Ground truth for evaluation: each generated question's intent, source and external id."""
    with (out / "truth.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["source", "external_id", "account", "intent", "language", "text"])
        for it in items:
            w.writerow([it.channel, it.external_id, ACCOUNTS[it.account][0], it.intent, it.language, it.text])


def write_planted(out: Path) -> None:
    """What was planted beyond the intents' coverage (`demo/intents.json`), for the demo and the tests to read."""
    planted = {"rising": {"account": RISING_ACCOUNT, "intent": RISING_INTENT, "per_week": RISING_PER_WEEK}}
    (out / "planted.json").write_text(json.dumps(planted, indent=1) + "\n", encoding="utf-8")


def build(out: Path, end: date, seed: int = 7) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    items = generate(end, seed)
    rng = random.Random(seed + 1)
    write_accounts(items, out, end)
    zendesk = write_zendesk(items, out, rng)
    slack = write_slack(items, out, rng)
    write_truth(items, out)
    write_planted(out)
    return {"questions": len(items), "zendesk_tickets": zendesk, "slack_threads": slack, "accounts": len(ACCOUNTS)}


def default_end(today: date | None = None) -> date:
    """The Monday of the current week, so the demo's last full week is last week."""
    today = today or datetime.now(UTC).date()
    return today - timedelta(days=today.weekday())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write the exports into")
    parser.add_argument("--end", type=date.fromisoformat, default=None, help="last day of data (default: this Monday)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(json.dumps(build(args.out, args.end or default_end(), args.seed)))


if __name__ == "__main__":
    main()
