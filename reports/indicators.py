"""The leading indicators behind the risk flags, computed per account over one snapshot of the database.

Each indicator returns `Finding`s: a condition that holds now, with its evidence. `reports.risk` turns findings
into stored flags (raised, kept, cleared). Thresholds are module constants, documented in the README ("Risk
flags"); they are stated relative to something (a ratio to the portfolio, a statistical test, a minimum count)
so that they mean the same on a small instance and a large one, not tuned to the demo.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from clustering.labels import keyword_label
from clustering.titles import representative_question
from clustering.trends import TRAILING_WEEKS, AccountTrend, account_trends, data_end, week_start
from core.models import Account, ChatTurn, Question, Topic
from core.runtime import Runtime
from reports.sentiment import SCORED_LANGUAGES, question_text, score_text

MAX_EVIDENCE_QUESTIONS = 25
"""Question ids kept as a flag's evidence (newest first): enough to read, small enough to store on every check."""

# Question velocity: `clustering.trends` decides (RISING_ALPHA, RISING_MIN_GROWTH, RISING_MIN_RECENT); the flag
# reuses it as is.

REPEAT_WINDOW_DAYS = 28
"""Repeats are counted over the last four weeks: a person asking the same thing again soon after is a sign the
first answer did not help; over a quarter, asking twice is ordinary."""
REPEAT_MIN_REPEATS = 4
"""At least this many asks-again (a person's second, third … question on one topic) before a flag…"""
REPEAT_MIN_PEOPLE = 2
"""…from at least this many people, so one person's habit is no account risk…"""
REPEAT_PORTFOLIO_RATIO = 2.0
"""…and the account's repeat share (asks-again / its questions with a topic) at least twice the other accounts':
how often people repeat by chance depends on how many contacts an account has and how its questions spread over
topics, so an account stands out only against the rest of the portfolio…"""
MAX_P_VALUE = 0.01
"""…and so many repeats (or unanswered questions) are unlikely by chance at the other accounts' rate (one-sided
binomial test): a small account with 3 repeats out of 10 questions is noise, not a 30% signal. At 1%, a
portfolio of 100 steady accounts sees about one false flag per indicator."""

SENTIMENT_RECENT_WEEKS = 4
SENTIMENT_PREVIOUS_WEEKS = 8
SENTIMENT_MIN_RECENT = 10
SENTIMENT_MIN_PREVIOUS = 15
"""Scored (English) questions needed in each window: below that a mean is too noisy to compare."""
SENTIMENT_MIN_DROP = 0.1
"""The drop in mean VADER compound (scale -1…1) that matters: a tenth of the scale."""
SENTIMENT_MIN_Z = 2.33
"""…and the drop is at least 2.33 standard errors (Welch; one-sided 1%, like `MAX_P_VALUE`), so noise in small
windows does not fire."""

UNANSWERED_WINDOW_DAYS = 28
UNANSWERED_MIN = 8
"""Unanswered questions (in a gap topic or no topic, plus chat turns the docs did not cover) in the window."""
UNANSWERED_PORTFOLIO_RATIO = 1.5
"""The account's unanswered share must be at least this multiple of the other accounts' (and pass the binomial
test, `MAX_P_VALUE`): when the docs miss what everyone asks, that is a docs problem (the gap board), not a risk
on one account; an account that runs into the gaps much more than the others is."""
GAP_KINDS = frozenset({"missing", "partial"})
"""Gap kinds where the docs do not answer the question (findability: they do, it is just hard to find)."""
CLOSED_STATUSES = frozenset({"documented", "verified", "dismissed"})
"""A writer decided these topics: documented or not a docs matter, so their questions are no longer open."""


@dataclass(frozen=True)
class Quote:
    """A topic a flag's text names: its id, the title as quoted (between “ and ”) and the topic's label then.

    Stored with the evidence so that the pages, the API and the alerts show the topic's current title once a
    writer renames it (`reports.risk` swaps it in), rather than the title the topic had when the flag was raised.
    """

    topic_id: int
    title: str
    label: str


@dataclass(frozen=True)
class Evidence:
    text: str
    question_ids: list[int]
    weeks: list[date]
    links: list[str]
    quotes: list[Quote] = field(default_factory=list)
    """The topics `text` quotes by title, in the order it quotes them (the summary quotes a prefix of them)."""


@dataclass(frozen=True)
class Finding:
    account_id: int
    kind: str
    severity: float
    """How far past its threshold the indicator is (1.0 = just at it, 2.0 = twice as far): comparable across kinds."""
    summary: str
    evidence: Evidence


@dataclass(frozen=True)
class _Q:
    id: int
    account_id: int
    created_at: datetime
    topic_id: int | None
    author: str | None
    channel: str | None
    source: str
    language: str | None
    text: str
    follow_ups: list[str]
    priority: str | None
    unassigned: bool


@dataclass
class Snapshot:
    """What every indicator reads, loaded once per check."""

    now: datetime
    accounts: dict[int, str]
    questions: list[_Q]
    topics: dict[int, Topic]
    turns: list[tuple[int, int, bool]]
    """(account id, chat turn id, covered) in the unanswered window."""


def load_snapshot(runtime: Runtime, now: datetime | None = None) -> Snapshot:
    """The trailing 13 weeks of questions (ending where the data does, like the trends), topics and chat turns."""
    with Session(runtime.engine) as session:
        end = data_end(session, now or runtime.clock())
        since = end - timedelta(days=7 * TRAILING_WEEKS)
        accounts = {a.id: a.name for a in session.exec(select(Account)).all() if a.id is not None}
        rows = session.exec(
            select(Question).where(
                Question.created_at >= since, Question.created_at <= end, col(Question.account_id).is_not(None)
            )
        ).all()
        topics = {t.id: t for t in session.exec(select(Topic).where(col(Topic.active).is_(True))).all() if t.id}
        turns = session.exec(
            select(ChatTurn.account_id, ChatTurn.id, ChatTurn.covered).where(
                col(ChatTurn.account_id).is_not(None),
                ChatTurn.asked_at >= end - timedelta(days=UNANSWERED_WINDOW_DAYS),
                ChatTurn.asked_at <= end,
            )
        ).all()
    questions = [
        _Q(q.id, q.account_id, q.created_at, q.topic_id, q.author_hash, q.channel, q.source, q.language, q.text,  # type: ignore[arg-type]
           q.follow_ups or [], q.priority, q.topic_id is None and q.unassigned_reason is not None)
        for q in rows
    ]  # fmt: skip
    return Snapshot(end, accounts, questions, topics, [(a, i, c) for a, i, c in turns if a is not None and i])


def find_all(snap: Snapshot) -> list[Finding]:
    return [*velocity(snap), *repeats(snap), *sentiment_drop(snap), *unanswered(snap)]


def _links(account_id: int, topic_ids: list[int], page: str = "timeline") -> list[str]:
    account = f"/accounts/{account_id}/{page}" if page else f"/accounts/{account_id}"
    return [*(f"/topics/{t}" for t in topic_ids), account]


def _weeks(times: list[datetime]) -> list[date]:
    return sorted({week_start(t) for t in times})


def _newest(qs: list[_Q]) -> list[int]:
    return [q.id for q in sorted(qs, key=lambda q: (q.created_at, q.id), reverse=True)[:MAX_EVIDENCE_QUESTIONS]]


def _quote(snap: Snapshot, topic_id: int, account_id: int) -> Quote:
    """The topic as one account's flag quotes it (`_label`), with the label it had, to spot a later rename."""
    t = snap.topics.get(topic_id)
    return Quote(topic_id, _label(snap, topic_id, account_id), t.label if t is not None else "")


def _label(snap: Snapshot, topic_id: int, account_id: int) -> str:
    """The topic's title as quoted in one account's flag: never another customer's question.

    A title that is a real question ("question") is replaced by one of this account's own questions in the topic,
    or the keyword label (as `clustering.titles.title_for_account` does for the brief, over the snapshot's rows).
    """
    t = snap.topics.get(topic_id)
    if t is None:
        return f"topic {topic_id}"
    if t.label_source != "question":
        return " ".join(t.label.split())
    own = [q.text for q in snap.questions if q.account_id == account_id and q.topic_id == topic_id]
    return " ".join((representative_question(own) or keyword_label(t.keywords)).split())


# --- question velocity -------------------------------------------------------------------------------------------


def account_velocity(snap: Snapshot) -> list[AccountTrend]:
    rows = [(q.account_id, q.created_at, q.priority, q.topic_id) for q in snap.questions]
    centroids = {tid: t.centroid for tid, t in snap.topics.items() if t.centroid}
    return account_trends(rows, snap.accounts, centroids, snap.now)


def velocity(snap: Snapshot) -> list[Finding]:
    """`AccountTrend.rising`: one subject's questions moved towards recent weeks more than chance explains.

    The strength is how far the p-value is past the threshold on a log scale (1 at `RISING_ALPHA`, 2 at its
    square), so a sure rise outranks a marginal one whatever the subject's size.
    """
    from clustering.trends import CRITICAL_PRIORITIES, RISING_ALPHA

    out = []
    for t in account_velocity(snap):
        if not t.rising:
            continue
        focus = set(t.focus_topics)
        qs = [q for q in snap.questions if q.account_id == t.account_id and q.topic_id in focus
              and (q.priority or "").lower() not in CRITICAL_PRIORITIES]  # fmt: skip
        recent = [q for q in qs if q.created_at >= snap.now - timedelta(days=28)]
        main = Counter(q.topic_id for q in qs).most_common()
        topics = [tid for tid, _ in main if tid is not None]
        quotes = [_quote(snap, topics[0], t.account_id)] if topics else []
        subject = quotes[0].title if quotes else "one subject"
        weekly = ", ".join(str(n) for n in t.focus_weekly[-4:])
        before = sum(t.focus_weekly[:-4]) / max(len(t.focus_weekly) - 4, 1)
        text = (
            f"Questions about “{subject}” came at {weekly} a week over the last four weeks, from {before:.1f} a "
            f"week before; 90-day trend {t.focus_growth:+.1f}. Shuffling the account's own weeks put a subject "
            f"this far towards recent weeks in {t.focus_p:.1%} of tries (flag at {RISING_ALPHA:.0%} or less)."
        )
        summary = f"“{subject}” rising: {sum(t.focus_weekly[-4:])} questions in 4 weeks, trend {t.focus_growth:+.1f}"
        ev = Evidence(text, _newest(qs), _weeks([q.created_at for q in recent]), _links(t.account_id, topics[:3]),
                      quotes)  # fmt: skip
        strength = math.log(max(t.focus_p, 1e-6)) / math.log(RISING_ALPHA)
        out.append(Finding(t.account_id, "velocity", round(strength, 2), summary, ev))
    return out


# --- repeat requesters and teams ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepeatGroup:
    """Questions on one topic from one person (or, for a team, one Slack channel) in a window."""

    account_id: int
    topic_id: int
    who: str
    """The author hash (people) or channel id (teams)."""
    question_ids: list[int]
    people: int
    times: list[datetime]


def repeat_groups(snap: Snapshot, since: datetime, team: bool = False) -> list[RepeatGroup]:
    """Topics a person asked about more than once since `since` (team=True: that two people of a team asked).

    Teams are Slack channels: a shared channel is usually one customer team. Zendesk's via-channel ("email",
    "web") names a medium, not a team, and Zendesk groups are not stored at ingest, so tickets count only per person.
    """
    groups: dict[tuple[int, int, str], list[_Q]] = defaultdict(list)
    for q in snap.questions:
        if q.created_at < since or q.topic_id is None:
            continue
        who = q.channel if team else q.author
        if who is None or (team and q.source != "slack"):
            continue
        groups[(q.account_id, q.topic_id, who)].append(q)
    out = []
    for (aid, tid, who), qs in groups.items():
        people = len({q.author for q in qs if q.author})
        if len(qs) < 2 or (team and people < 2):
            continue
        qs.sort(key=lambda q: (q.created_at, q.id))
        out.append(RepeatGroup(aid, tid, who, [q.id for q in qs], people, [q.created_at for q in qs]))
    return sorted(out, key=lambda g: (-len(g.question_ids), g.account_id, g.topic_id, g.who))


def repeats(snap: Snapshot) -> list[Finding]:
    """Enough people asking the same topic again within four weeks, far more often than at the other accounts."""
    since = snap.now - timedelta(days=REPEAT_WINDOW_DAYS)
    people = repeat_groups(snap, since)
    teams = repeat_groups(snap, since, team=True)
    with_topic = Counter(q.account_id for q in snap.questions if q.created_at >= since and q.topic_id is not None)
    asks_again = Counter[int]()
    for g in people:
        asks_again[g.account_id] += len(g.question_ids) - 1
    out = []
    for aid, n in asks_again.items():
        mine = [g for g in people if g.account_id == aid]
        test = ShareTest.of(n, with_topic[aid], asks_again.total() - n, with_topic.total() - with_topic[aid],
                            REPEAT_PORTFOLIO_RATIO)  # fmt: skip
        if n < REPEAT_MIN_REPEATS or len({g.who for g in mine}) < REPEAT_MIN_PEOPLE or not test.fires:
            continue
        who = len({g.who for g in mine})
        top = mine[0]
        quotes = [_quote(snap, top.topic_id, aid)]
        text = (
            f"{who} people asked again about a topic they had asked about in the last four weeks ({n} repeat "
            f"questions, {test.share:.0%} of the account's questions; other accounts {test.base:.0%}); most: "
            f"“{quotes[0].title}”, {len(top.question_ids)} times by one person"
        )
        repeated = {g.topic_id for g in mine}
        my_teams = sorted((g for g in teams if g.account_id == aid), key=lambda g: g.topic_id not in repeated)
        if my_teams:
            t = my_teams[0]
            quotes.append(_quote(snap, t.topic_id, aid))
            text += f"; in Slack channel {t.who}, {t.people} people asked “{quotes[-1].title}”"
        ids = sorted({i for g in mine for i in g.question_ids}, reverse=True)[:MAX_EVIDENCE_QUESTIONS]
        summary = f"{who} people asking again ({n} repeats, {test.share:.0%} of questions in 4 weeks)"
        topics = list(dict.fromkeys(g.topic_id for g in mine))[:3]
        ev = Evidence(text + ".", ids, _weeks([t for g in mine for t in g.times]), _links(aid, topics), quotes)
        out.append(Finding(aid, "repeat_requesters", test.severity, summary, ev))
    return out


@dataclass(frozen=True)
class ShareTest:
    """An account's share (k of n) against the other accounts' rate: a ratio and a one-sided binomial test."""

    share: float
    base: float
    p_value: float
    ratio: float

    @classmethod
    def of(cls, k: int, n: int, others_k: int, others_n: int, ratio: float) -> ShareTest:
        base = others_k / others_n if others_n else 0.0
        return cls(k / n if n else 0.0, base, binomial_tail(k, n, base), ratio)

    @property
    def fires(self) -> bool:
        return self.share >= self.ratio * self.base and self.p_value <= MAX_P_VALUE and self.share > 0

    @property
    def severity(self) -> float:
        """The share over the share that would fire (`ratio` × the others'), capped at `MAX_SEVERITY`."""
        need = self.ratio * self.base
        return round(min(self.share / need, MAX_SEVERITY) if need > 0 else MAX_SEVERITY, 2)


MAX_SEVERITY = 5.0
"""Severities are capped so that one indicator far off the scale cannot bury every other flag."""


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X ≥ k) for X ~ Binomial(n, p), summed in log space (n may be in the thousands)."""
    if k <= 0:
        return 1.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    logs = [math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * math.log(p)
            + (n - i) * math.log1p(-p) for i in range(k, n + 1)]  # fmt: skip
    top = max(logs)
    return min(1.0, math.exp(top) * sum(math.exp(x - top) for x in logs))


# --- sentiment drop ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentimentShift:
    account_id: int
    recent_mean: float
    recent_n: int
    previous_mean: float
    previous_n: int
    z: float
    skipped_language: int
    most_negative: list[tuple[int, datetime]]


def sentiment_shifts(snap: Snapshot) -> list[SentimentShift]:
    """Per account: mean VADER compound of English questions, last 4 weeks vs the 8 before (Welch z of the drop)."""
    split = snap.now - timedelta(weeks=SENTIMENT_RECENT_WEEKS)
    start = split - timedelta(weeks=SENTIMENT_PREVIOUS_WEEKS)
    recent: dict[int, list[tuple[float, int, datetime]]] = defaultdict(list)
    previous: dict[int, list[float]] = defaultdict(list)
    skipped = Counter[int]()
    for q in snap.questions:
        if q.created_at < start:
            continue
        if (q.language or "").lower() not in SCORED_LANGUAGES:
            skipped[q.account_id] += 1
            continue
        s = score_text(question_text(q.text, q.follow_ups))
        if q.created_at >= split:
            recent[q.account_id].append((s, q.id, q.created_at))
        else:
            previous[q.account_id].append(s)
    out = []
    for aid in snap.accounts:
        r, p = [s for s, _, _ in recent.get(aid, [])], previous.get(aid, [])
        if not r or not p:
            continue
        se = math.sqrt(_var(r) / len(r) + _var(p) / len(p))
        drop = _mean(p) - _mean(r)
        negative = sorted((s, -i, t) for s, i, t in recent[aid] if s < 0)
        out.append(SentimentShift(aid, round(_mean(r), 4), len(r), round(_mean(p), 4), len(p),
                                  round(drop / se, 2) if se > 0 else 0.0, skipped[aid],
                                  [(-i, t) for _, i, t in negative]))  # fmt: skip
    return out


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def _var(xs: list[float]) -> float:
    if len(xs) < 2:
        return 0.0
    m = _mean(xs)
    return sum((x - m) ** 2 for x in xs) / (len(xs) - 1)


def sentiment_drop(snap: Snapshot) -> list[Finding]:
    out = []
    for s in sentiment_shifts(snap):
        drop = s.previous_mean - s.recent_mean
        if (s.recent_n < SENTIMENT_MIN_RECENT or s.previous_n < SENTIMENT_MIN_PREVIOUS or drop < SENTIMENT_MIN_DROP
                or s.z < SENTIMENT_MIN_Z):  # fmt: skip
            continue
        text = (f"Mean sentiment of the last four weeks' questions fell to {s.recent_mean:+.2f} (n={s.recent_n}) from "
                f"{s.previous_mean:+.2f} (n={s.previous_n}) in the eight weeks before ({s.z:.1f} standard errors; "
                f"VADER, English only: {s.skipped_language} questions in other languages not scored).")  # fmt: skip
        summary = f"sentiment down {drop:.2f} (to {s.recent_mean:+.2f}) in the last 4 weeks"
        ids = [i for i, _ in s.most_negative[:MAX_EVIDENCE_QUESTIONS]]
        ev = Evidence(text, ids, _weeks([t for _, t in s.most_negative]), _links(s.account_id, []))
        severity = min(drop / SENTIMENT_MIN_DROP, s.z / SENTIMENT_MIN_Z)
        out.append(Finding(s.account_id, "sentiment_drop", round(severity, 2), summary, ev))
    return out


# --- unanswered questions ----------------------------------------------------------------------------------------


def is_unanswered(snap: Snapshot, q: _Q) -> bool:
    """In no topic (clustering left it out), or in an open topic whose docs miss or only partly answer it."""
    if q.topic_id is None:
        return q.unassigned
    t = snap.topics.get(q.topic_id)
    return t is not None and t.gap_kind in GAP_KINDS and t.status not in CLOSED_STATUSES


def unanswered(snap: Snapshot) -> list[Finding]:
    """A share of recent questions the docs do not answer far above the other accounts'."""
    since = snap.now - timedelta(days=UNANSWERED_WINDOW_DAYS)
    asked, open_ = Counter[int](), defaultdict(list)
    for q in snap.questions:
        if q.created_at >= since:
            asked[q.account_id] += 1
            if is_unanswered(snap, q):
                open_[q.account_id].append(q)
    missed = Counter[int]()
    for aid, _, covered in snap.turns:
        asked[aid] += 1
        missed[aid] += not covered
    all_open = sum(len(v) for v in open_.values()) + missed.total()
    out = []
    for aid in snap.accounts:
        n, of = len(open_.get(aid, [])) + missed[aid], asked[aid]
        test = ShareTest.of(n, of, all_open - n, asked.total() - of, UNANSWERED_PORTFOLIO_RATIO)
        if n < UNANSWERED_MIN or not test.fires:
            continue
        gaps = Counter(q.topic_id for q in open_[aid] if q.topic_id is not None).most_common(3)
        quotes = [_quote(snap, tid, aid) for tid, _ in gaps]
        named = ", ".join(f"“{q.title}” ({k})" for q, (_, k) in zip(quotes, gaps, strict=True))
        text = (
            f"{n} of {of} questions in the last four weeks ({test.share:.0%}; other accounts {test.base:.0%}) "
            "are ones the docs do not answer" + (f"; most in the gaps {named}" if named else "")
        )
        if missed[aid]:
            text += f"; {missed[aid]} chat answers about the account said the docs do not cover it"
        summary = f"{test.share:.0%} of questions in 4 weeks unanswered by the docs ({n} of {of})"
        ev = Evidence(text + ".", _newest(open_[aid]), _weeks([q.created_at for q in open_[aid]]),
                      _links(aid, [tid for tid, _ in gaps], page=""), quotes)  # fmt: skip
        out.append(Finding(aid, "unanswered", test.severity, summary, ev))
    return out
