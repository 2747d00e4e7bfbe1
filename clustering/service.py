"""Keeping topics up to date without moving what writers already work on.

Day to day, `update_topics` is incremental: each new question joins the nearest existing topic when it falls inside
that topic's radius (`clustering.discover.attach_radius`, from its members' own similarities), and only the
leftovers are clustered to find new topics, so an old question never changes topic because new ones arrived.
Every run ends in a fixed point: running again on unchanged data changes no assignment, because the last step of
each run admits every question the next run's first step would, and leftovers are only re-clustered when a
question arrived that no run has seen (`Question.unassigned_reason` marks the ones a run left out, and why).

A full re-cluster (`docgap cluster --full`, or the first run) starts from scratch and is matched to the previous
topics so ids persist; what changed is recorded as lineage (`TopicEvent`). Writers' decisions survive both: labels
and statuses live on the topic row, a merged topic keeps absorbing the clusters it was merged from, and split topics
stay apart (their questions go to the nearest of the split family's centroids).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlmodel import Session, col, func, select

from clustering.crosslingual import MIN_SIMILARITY, group_leftovers, is_foreign, place
from clustering.discover import ATTACH_QUANTILE, Discoverer, attach_radius, centroids_of, nearest_centroid
from clustering.identity import match_clusters
from clustering.labels import class_tfidf_keywords
from clustering.titles import retitle, write_titles
from core.locks import exclusive
from core.models import Question, Topic, TopicEvent
from core.runtime import Runtime
from core.settings import Settings
from core.vectors import QUESTIONS

EXAMPLES = 5


@dataclass(frozen=True)
class ClusterResult:
    mode: str
    """"full" (re-clustered from scratch, matched to the previous topics) or "incremental"."""
    questions: int
    topics: int
    new_topics: int
    kept_topics: int
    retired_topics: int
    unassigned: int
    assigned: int = 0
    """Incremental only: new questions that joined an existing topic."""

    def summary(self) -> str:
        """One line for the CLI and the Jobs page."""
        unassigned = f"{self.unassigned} questions unassigned"
        if self.mode == "incremental":
            return (f"{self.topics} topics over {self.questions} questions: {self.assigned} new questions joined "
                    f"existing topics, {self.new_topics} new topics; {unassigned}")  # fmt: skip
        return (f"full re-cluster: {self.topics} topics over {self.questions} questions ({self.kept_topics} kept, "
                f"{self.new_topics} new, {self.retired_topics} retired); {unassigned}")  # fmt: skip


def discoverer_for(settings: Settings) -> Discoverer:
    return Discoverer(min_size=settings.cluster_min_size)


def update_topics(runtime: Runtime, full: bool = False, discoverer: Discoverer | None = None) -> ClusterResult:
    """Incremental assignment when topics exist; a full re-cluster when asked for or on the first run.

    Topic changes of all processes take turns (`core.locks`); the LLM titles are asked after the change is
    committed and the lock released, so neither a writer's merge nor the database waits on the model.
    """
    discoverer = discoverer or discoverer_for(runtime.settings)
    with exclusive(runtime.engine):
        with Session(runtime.engine) as session:
            has_topics = session.exec(select(Topic.id).where(col(Topic.active).is_(True)).limit(1)).first()
        if full or has_topics is None:
            result = recluster(runtime, discoverer)
        else:
            result = assign_new(runtime, discoverer)
    retitle(runtime)
    return result


def recluster(runtime: Runtime, discoverer: Discoverer | None = None) -> ClusterResult:
    """Cluster every embedded question from scratch; keep ids by overlap with the previous topics."""
    discoverer = discoverer or discoverer_for(runtime.settings)
    with Session(runtime.engine, expire_on_commit=False) as session:
        everything = session.exec(
            select(Question).where(col(Question.embedded).is_(True)).order_by(col(Question.id))
        ).all()
        questions, foreign = _split_languages(runtime, everything)
        vectors = runtime.vectors.get_vectors(QUESTIONS, [str(q.id) for q in questions])
        old_ids = [q.topic_id for q in questions]
        found = discoverer.discover(vectors, previous=_as_indices(old_ids))
        # By id, so the passes below see the topics in the same order on every database (without ORDER BY,
        # PostgreSQL returns rows in storage order, which updates change).
        previous = {
            t.id: t
            for t in session.exec(select(Topic).where(col(Topic.active).is_(True)).order_by(col(Topic.id))).all()
        }
        merged_into = session.exec(select(Topic.merged_into).where(col(Topic.merged_into).is_not(None))).all()
        mapping = match_clusters(found.labels.tolist(), old_ids, shared=set(merged_into) & previous.keys())
        cluster_topic: list[Topic] = []
        for c in range(len(found.centroids)):
            topic = previous.get(mapping.get(c, -1))
            if topic is None:
                topic = Topic(label="")
                session.add(topic)
            cluster_topic.append(topic)
        session.flush()
        assigned = [cluster_topic[c].id if c >= 0 else None for c in found.labels.tolist()]
        assigned = _keep_splits_apart(vectors, assigned, list(previous.values()))
        assigned = _stick(
            vectors, old_ids, assigned, set(previous), discoverer.min_size, runtime.settings.recluster_stickiness
        )
        assigned = _settle(questions, vectors, assigned, {t.id: t for t in cluster_topic} | previous)
        # Questions in other languages keep the topic they were placed in (or a writer split them into); only the
        # others are placed again. A topic survives while either kind of question is in it.
        staying = [q for q in foreign if q.topic_id in previous]
        foreign = [q for q in foreign if q.topic_id not in previous]
        now_ids = {t for t in assigned if t is not None} | {q.topic_id for q in staying}
        for tid, t in previous.items():
            if tid not in now_ids:
                t.active, t.size = False, 0
        for t in cluster_topic:
            t.active = True
        new_ids = {t.id for t in cluster_topic if t.id not in previous}
        _record_recluster_lineage(session, runtime, old_ids, assigned, set(previous), new_ids)
        joined, into_new, born = _place_foreign(session, runtime, foreign, discoverer)
        _explain_unassigned(session, runtime, questions, vectors, discoverer.min_size)
        refresh_topics(session, runtime)
        session.commit()
        kept = len(now_ids & previous.keys())
        return ClusterResult(
            mode="full",
            questions=len(everything),
            topics=len(now_ids) + born,
            new_topics=len(now_ids - previous.keys()) + born,
            kept_topics=kept,
            retired_topics=len(previous) - kept,
            unassigned=sum(1 for t in assigned if t is None) + len(foreign) - joined - into_new,
        )


def assign_new(runtime: Runtime, discoverer: Discoverer | None = None) -> ClusterResult:
    """New and still-unassigned questions join the nearest topic when inside its radius; new ones are clustered.

    Leftovers are clustered only when one of them is new to clustering: questions a previous run left out were
    clustered then, and clustering the same ones again would find nothing that run did not.
    """
    discoverer = discoverer or discoverer_for(runtime.settings)
    with Session(runtime.engine, expire_on_commit=False) as session:
        topics = [
            t
            for t in session.exec(select(Topic).where(col(Topic.active).is_(True)).order_by(col(Topic.id))).all()
            if t.centroid
        ]
        pending, foreign = _split_languages(
            runtime,
            session.exec(
                select(Question)
                .where(col(Question.embedded).is_(True), col(Question.topic_id).is_(None))
                .order_by(col(Question.id))
            ).all(),
        )
        total = session.exec(select(func.count()).select_from(Question).where(col(Question.embedded).is_(True))).one()
        vectors = runtime.vectors.get_vectors(QUESTIONS, [str(q.id) for q in pending])
        joined = _attach(session, topics, pending, vectors)
        rest = np.flatnonzero(~joined)
        fresh = any(pending[i].unassigned_reason is None for i in rest)
        found = discoverer.discover(vectors[rest]) if fresh else discoverer.discover(vectors[:0])
        born = [Topic(label="") for _ in range(len(found.centroids))]
        session.add_all(born)
        session.flush()
        for t, c in zip(born, found.centroids, strict=True):
            t.centroid = [round(float(x), 6) for x in c]
        for j, i in enumerate(rest[: len(found.labels)]):
            c = int(found.labels[j])
            if c >= 0:
                pending[i].topic_id = born[c].id
                pending[i].topic_similarity = round(float(found.similarity[j]), 4)
                pending[i].unassigned_reason = None
        if born:
            # New topics can take in questions that no old topic would; then nothing is left that a re-run admits.
            still = [i for i in rest if pending[i].topic_id is None]
            _attach(session, topics + born, [pending[i] for i in still], vectors[still])
        joined_foreign, into_new, born_foreign = _place_foreign(session, runtime, foreign, discoverer)
        _explain_unassigned(session, runtime, pending, vectors, discoverer.min_size)
        refresh_topics(session, runtime)
        session.commit()
        unassigned = sum(1 for q in pending if q.topic_id is None) + len(foreign) - joined_foreign - into_new
        return ClusterResult(
            mode="incremental",
            questions=total,
            topics=len(topics) + len(born) + born_foreign,
            new_topics=len(born) + born_foreign,
            kept_topics=len(topics),
            retired_topics=0,
            unassigned=unassigned,
            assigned=int(joined.sum()) + joined_foreign,
        )


def _attach(
    session: Session,
    topics: Sequence[Topic],
    pending: Sequence[Question],
    vectors: np.ndarray,
    quantile: float = ATTACH_QUANTILE,
) -> np.ndarray:
    """Each pending question joins its nearest topic when inside that topic's radius, until none does.

    The radius is the members' `quantile` similarity to the centroid: their farthest by default (`quantile` 0).

    The radius comes from the members' stored similarities and the centroid as stored, exactly what the next run
    reads, so when this returns no run on the same data would let another question in. Returns who joined.
    """
    joined = np.zeros(len(pending), dtype=bool)
    topics = [t for t in topics if t.centroid]
    if not topics or not len(pending):
        return joined
    session.flush()
    for _ in range(20):
        waiting = np.flatnonzero(~joined)
        if not len(waiting):
            break
        radius = _radii(session, topics, quantile)
        centroids = np.asarray([t.centroid for t in topics], dtype=np.float32)
        best, sim = nearest_centroid(vectors[waiting], centroids)
        ok = sim >= radius[best]
        if not ok.any():
            break
        _grow_centroids(topics, vectors[waiting], best, ok)
        for i, b, s in zip(waiting[ok], best[ok], sim[ok], strict=True):
            pending[i].topic_id = topics[int(b)].id
            pending[i].topic_similarity = round(float(s), 4)
            pending[i].unassigned_reason = None
        joined[waiting[ok]] = True
        session.flush()
    return joined


def _radii(session: Session, topics: Sequence[Topic], quantile: float = ATTACH_QUANTILE) -> np.ndarray:
    """Each topic's `attach_radius`, from its members' similarities as stored (what the next run will read)."""
    sims: dict[int, list[float]] = defaultdict(list)
    for tid, sim in session.exec(
        select(Question.topic_id, Question.topic_similarity).where(col(Question.topic_id).is_not(None))
    ).all():
        sims[tid].append(sim or 0.0)
    return np.array([attach_radius(np.asarray(sims.get(t.id or 0, [])), quantile) for t in topics])


def _explain_unassigned(
    session: Session, runtime: Runtime, questions: Sequence[Question], vectors: np.ndarray, min_size: int
) -> None:
    """Why each question left out of every topic is there: its nearest topic, its cosine and that topic's radius."""
    out = [i for i, q in enumerate(questions) if q.topic_id is None]
    if not out:
        return
    session.flush()
    topics = [
        t
        for t in session.exec(select(Topic).where(col(Topic.active).is_(True)).order_by(col(Topic.id))).all()
        if t.centroid
    ]
    if not topics:
        for i in out:
            questions[i].unassigned_reason = f"no topic yet: fewer than {min_size} similar questions"
        return
    radius = _radii(session, topics)
    centroids = np.asarray([t.centroid for t in topics], dtype=np.float32)
    best, sim = nearest_centroid(vectors[out], centroids)
    for i, b, s in zip(out, best, sim, strict=True):
        t = topics[int(b)]
        questions[i].unassigned_reason = (
            f"fewer than {min_size} similar questions; nearest topic #{t.id} at cosine {float(s):.2f}, "
            f"which takes questions from {radius[int(b)]:.2f}"
        )


def _split_languages(runtime: Runtime, questions: Sequence[Question]) -> tuple[list[Question], list[Question]]:
    """(clustered with the main model, placed by the multilingual one); all in the first without cross-lingual."""
    if runtime.crosslingual is None:
        return list(questions), []
    main = [q for q in questions if not is_foreign(q.language)]
    return main, [q for q in questions if is_foreign(q.language)]


def _place_foreign(
    session: Session, runtime: Runtime, foreign: Sequence[Question], discoverer: Discoverer
) -> tuple[int, int, int]:
    """Put foreign-language questions into topics (see `clustering.crosslingual`): where both models agree.

    1. A question inside a topic's radius under the main model (as close to its centroid as its farthest member,
       the rule for English questions) joins it, unless the multilingual model rejects that topic (below
       `MIN_SIMILARITY`) while accepting another. The language detector reads ~1% of short English questions
       ("Linq Join Question", "Bash alias query") as another language; the English model reads those as well as
       any other, and the multilingual one scatters them among similar topics (of 190 demo questions marked
       French, it moved 25 into a neighbouring topic). Misread English that the multilingual model places
       nowhere still joins its topic rather than being clustered apart: on StackOverflow titles, clustering those
       among themselves made 2.8x the true number of topics instead of 1.15x. The multilingual check is what
       keeps real French, Spanish or German text out: the English-only main model puts all of it in one loose
       region, where a broad topic's edge took all 30 of the demo's foreign questions when the main model alone
       decided.
    2. The others are placed with the multilingual model, in the topic whose central English questions they are
       closest to.
    3. What is left is clustered among itself with the multilingual model, so a subject only asked about in French
       still becomes a topic.

    Returns (joined an existing topic, went into a new one, new topics).
    """
    if not foreign or runtime.crosslingual is None:
        return 0, 0, 0
    session.flush()
    topics = [
        t
        for t in session.exec(select(Topic).where(col(Topic.active).is_(True)).order_by(col(Topic.id))).all()
        if t.centroid
    ]
    vectors = runtime.vectors.get_vectors(QUESTIONS, [str(q.id) for q in foreign])
    rows = session.exec(
        select(Question.topic_id, Question.text, Question.topic_similarity, Question.language).where(
            col(Question.topic_id).is_not(None)
        )
    ).all()
    central: dict[int, list[tuple[float, str]]] = defaultdict(list)
    for tid, text, sim, language in rows:
        if not is_foreign(language):
            central[tid].append((-(sim or 0.0), text))
    texts = [[t for _, t in sorted(central.get(t.id or 0, []))] for t in topics]
    p = place(runtime.crosslingual, [q.text for q in foreign], texts)
    left: list[int] = []
    if topics:
        radius = _radii(session, topics)
        main, main_sim = nearest_centroid(vectors, np.asarray([t.centroid for t in topics], dtype=np.float32))
    for i, q in enumerate(foreign):
        m = int(main[i]) if topics else -1
        if m >= 0 and main_sim[i] >= radius[m] and (p.scores[i, m] >= MIN_SIMILARITY or p.topic[i] is None):
            q.topic_id, q.topic_similarity = topics[m].id, round(float(main_sim[i]), 4)
        elif p.topic[i] is not None:
            q.topic_id, q.topic_similarity = topics[p.topic[i]].id, p.similarity[i]
        else:
            left.append(i)
            continue
        q.unassigned_reason = None
    fresh = any(foreign[i].unassigned_reason is None for i in left)
    groups = group_leftovers(discoverer, p.vectors[left]) if fresh else [-1] * len(left)
    born = {g: Topic(label="") for g in sorted(set(groups) - {-1})}
    session.add_all(born.values())
    session.flush()
    for i, g in zip(left, groups, strict=True):
        q = foreign[i]
        q.topic_id = born[g].id if g >= 0 else None
        q.topic_similarity = None
        q.unassigned_reason = (
            None
            if g >= 0
            else f"in another language: no topic's questions close enough (best cosine {p.similarity[i]:.2f} with "
            "the multilingual model), and too few like it to make a topic"
        )
    for g, t in born.items():
        members = [i for i, gg in zip(left, groups, strict=True) if gg == g]
        block = vectors[members].astype(np.float64).sum(axis=0)
        centre = block / max(float(np.linalg.norm(block)), 1e-12)
        t.centroid = [round(float(x), 6) for x in centre]
        for i in members:  # under the main model, like every stored similarity that a topic's radius is read from
            foreign[i].topic_similarity = round(float(vectors[i] @ centre), 4)
    into_new = sum(1 for g in groups if g >= 0)
    return len(foreign) - len(left), into_new, len(born)


def refresh_topics(session: Session, runtime: Runtime) -> None:
    """Recompute what follows from membership (size, accounts, dates, keywords, examples, label) for all topics.

    Keywords are class-based TF-IDF, relative to the other topics, so they are recomputed for all of them
    together. A topic left without questions is retired (inactive), never deleted: its id and decisions remain.
    """
    topics = session.exec(select(Topic).where(col(Topic.active).is_(True)).order_by(col(Topic.id))).all()
    rows = session.exec(
        select(
            Question.topic_id,
            Question.text,
            Question.account_id,
            Question.created_at,
            Question.topic_similarity,
            Question.language,
        ).where(col(Question.topic_id).is_not(None))
    ).all()
    members: dict[int, list] = defaultdict(list)
    for row in rows:
        members[row[0]].append(row)
    languages = {row[5] for row in rows if row[5]}
    live = [t for t in topics if members.get(t.id or 0)]
    for t in topics:
        if not members.get(t.id or 0):
            t.active, t.size = False, 0
    keywords = class_tfidf_keywords([[r[1] for r in members[t.id or 0]] for t in live], languages=sorted(languages))
    for t, words in zip(live, keywords, strict=True):
        rows_t = members[t.id or 0]
        t.keywords = words
        t.size = len(rows_t)
        t.account_count = len({r[2] for r in rows_t if r[2]})
        t.first_seen = min(r[3] for r in rows_t)
        t.last_seen = max(r[3] for r in rows_t)
        closest = sorted(rows_t, key=lambda r: -(r[4] or 0.0))
        t.examples = diverse_examples([r[1] for r in closest])
    write_titles(live)


def _assign(
    questions: Sequence[Question], vectors: np.ndarray, assigned: list[int | None], topics: dict[int | None, Topic]
) -> None:
    """Set each question's topic and its similarity to that topic's (recomputed) centroid."""
    index = defaultdict(list)
    for i, tid in enumerate(assigned):
        if tid is not None:
            index[tid].append(i)
    for tid, idx in index.items():
        block = vectors[idx].astype(np.float64)
        centroid = block.sum(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
        topics[tid].centroid = [round(float(x), 6) for x in centroid]
        sims = block @ centroid
        for i, s in zip(idx, sims, strict=True):
            questions[i].topic_id = tid
            questions[i].topic_similarity = round(float(s), 4)
            questions[i].unassigned_reason = None
    for i, tid in enumerate(assigned):
        if tid is None:
            questions[i].topic_id, questions[i].topic_similarity = None, None


def _settle(
    questions: Sequence[Question], vectors: np.ndarray, assigned: list[int | None], topics: dict[int | None, Topic]
) -> list[int | None]:
    """Assign, then let left-out questions join the topics whose radius they fall in, until none does.

    Centroids and similarities are recomputed exactly from the members each round and stored as they are, so the
    next run (incremental or full) starts from the state this one checked: nothing it could let in is left out.
    """
    assigned = list(assigned)
    for _ in range(20):
        _assign(questions, vectors, assigned, topics)
        left = [i for i, t in enumerate(assigned) if t is None]
        live = sorted({t for t in assigned if t is not None})
        if not left or not live:
            break
        sims: dict[int | None, list[float]] = defaultdict(list)
        for q in questions:
            if q.topic_id is not None:
                sims[q.topic_id].append(q.topic_similarity or 0.0)
        radius = np.array([attach_radius(np.asarray(sims[t])) for t in live])
        centroids = np.asarray([topics[t].centroid for t in live], dtype=np.float32)
        best, sim = nearest_centroid(vectors[left], centroids)
        join = sim >= radius[best]
        if not join.any():
            break
        for i, b in zip(np.asarray(left)[join], best[join], strict=True):
            assigned[int(i)] = live[int(b)]
    return assigned


def _as_indices(topic_ids: Sequence[int | None]) -> np.ndarray:
    """Topic ids as 0..k-1 per question (-1 for none), for comparing partitions."""
    known = {t: i for i, t in enumerate(sorted({t for t in topic_ids if t is not None}))}
    return np.array([known[t] if t is not None else -1 for t in topic_ids], dtype=np.int64)


def _grow_centroids(topics: Sequence[Topic], vectors: np.ndarray, best: np.ndarray, joined: np.ndarray) -> None:
    """Move each topic's centroid by its newcomers, weighted against the members it already had."""
    for j in np.unique(best[joined]):
        t = topics[int(j)]
        add = vectors[joined & (best == j)].astype(np.float64).sum(axis=0)
        c = np.asarray(t.centroid, dtype=np.float64) * max(t.size, 1) + add
        c /= max(float(np.linalg.norm(c)), 1e-12)
        t.centroid = [round(float(x), 6) for x in c]


def _stick(
    vectors: np.ndarray,
    old_ids: Sequence[int | None],
    assigned: list[int | None],
    previous: set[int | None],
    min_size: int,
    margin: float,
) -> list[int | None]:
    """Keep a question in its previous topic unless the new one is clearly closer (by more than `margin`).

    A full re-cluster otherwise moves questions that sit between two topics back and forth, and gathers
    fragments of several topics into new ones; writers would see their topics change for no real reason.
    New topics that fall below `min_size` once their borrowed questions return are dissolved.
    """
    ids = sorted({t for t in assigned if t is not None})
    if not ids:
        return assigned
    pos = {t: k for k, t in enumerate(ids)}
    labels = np.array([pos[t] if t is not None else -1 for t in assigned])
    centroids = centroids_of(vectors, labels, len(ids))
    old = np.array([pos.get(o, -1) if o is not None else -1 for o in old_ids])
    movable = (old >= 0) & (old != labels)
    idx = np.flatnonzero(movable)
    to_old = np.einsum("ij,ij->i", vectors[idx], centroids[old[idx]])
    to_new = np.where(
        labels[idx] >= 0, np.einsum("ij,ij->i", vectors[idx], centroids[np.maximum(labels[idx], 0)]), -np.inf
    )
    out = list(assigned)
    for i in idx[to_old >= to_new - margin]:
        out[i] = old_ids[i]
    sizes = Counter(out)
    small = {t for t, n in sizes.items() if t is not None and t not in previous and n < min_size}
    for i, t in enumerate(out):
        if t in small:
            out[i] = old_ids[i] if old_ids[i] in pos and old_ids[i] not in small else None
    return out


def _families(topics: Sequence[Topic]) -> dict[int, list[Topic]]:
    """Topic id → every active topic in its split family (the original and what was split out of it)."""
    by_id = {t.id: t for t in topics}

    def root(t: Topic) -> int:
        seen = set()
        while t.split_from in by_id and t.id not in seen:
            seen.add(t.id)
            t = by_id[t.split_from]
        return t.id or 0

    groups: dict[int, list[Topic]] = defaultdict(list)
    for t in topics:
        groups[root(t)].append(t)
    return {t.id or 0: g for g in groups.values() if len(g) > 1 for t in g}


def _keep_splits_apart(vectors: np.ndarray, assigned: list[int | None], previous: Sequence[Topic]) -> list[int | None]:
    """A question matched into a split family goes to the family member whose centroid is nearest."""
    families = _families([t for t in previous if t.centroid])
    if not families:
        return assigned
    out = list(assigned)
    for i, tid in enumerate(assigned):
        family = families.get(tid or 0)
        if family:
            sims = [float(np.dot(vectors[i], t.centroid)) for t in family]
            out[i] = family[int(np.argmax(sims))].id
    return out


def _record_recluster_lineage(
    session: Session,
    runtime: Runtime,
    old_ids: Sequence[int | None],
    new_ids: Sequence[int | None],
    previous: set[int | None],
    born: set[int | None],
) -> None:
    """Where a retired topic's questions went (a merge) and where a new topic's came from (a split)."""
    went: dict[int, Counter] = defaultdict(Counter)
    came: dict[int, Counter] = defaultdict(Counter)
    for old, new in zip(old_ids, new_ids, strict=True):
        if old is not None:
            went[old][new] += 1
        if new is not None and old is not None:
            came[new][old] += 1
    now = runtime.clock()
    kept = set(new_ids) & previous
    for old, dest in went.items():
        if old in kept:
            continue
        target, n = dest.most_common(1)[0]
        kind = "merge" if target is not None else "retire"
        detail = {"questions": sum(dest.values()), "moved": n}
        session.add(
            TopicEvent(at=now, kind=kind, topic_id=old, other_topic_id=target, actor="recluster", detail=detail)
        )
    for new in born:
        if new is None or not came.get(new):
            continue
        source, n = came[new].most_common(1)[0]
        if source in kept:
            detail = {"questions": n}
            session.add(
                TopicEvent(at=now, kind="split", topic_id=source, other_topic_id=new, actor="recluster", detail=detail)
            )


def diverse_examples(texts_by_closeness: list[str], overlap: float = 0.6) -> list[str]:
    """The most central questions, skipping any that shares most of its words with one already picked.

    Central first (they say what the topic is), then word-overlap (Jaccard) filtering so five examples show five
    phrasings instead of one question repeated with small variations.
    """
    out: list[str] = []
    picked: list[set[str]] = []
    for t in texts_by_closeness:
        words = set(re.findall(r"\w+", t.lower()))
        if all(len(words & p) / max(len(words | p), 1) < overlap for p in picked):
            out.append(t)
            picked.append(words)
        if len(out) == EXAMPLES:
            break
    return out
