"""Matching a fresh clustering to the previous topics so topic ids survive re-clustering.

Each new cluster takes the id of the previous topic that holds most of its members, provided that topic holds
at least half of the members that had one and was not already taken by a larger overlap. What a writer decided
(label, status, notes) lives on the topic row, so it survives with the id.

A topic a writer merged others into is `shared`: every cluster whose members mostly come from it keeps its id,
so the clustering cannot undo the merge by finding the merged parts apart again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence


def match_clusters(
    new_labels: Sequence[int],
    old_topic_ids: Sequence[int | None],
    min_share: float = 0.5,
    shared: Collection[int] = (),
) -> dict[int, int]:
    """Map new cluster index → previous topic id for the clusters that continue one."""
    overlaps: Counter[tuple[int, int]] = Counter()
    had_topic: Counter[int] = Counter()
    for new, old in zip(new_labels, old_topic_ids, strict=True):
        if new < 0 or old is None:
            continue
        overlaps[(new, old)] += 1
        had_topic[new] += 1
    mapping: dict[int, int] = {}
    taken: set[int] = set()
    for (new, old), n in sorted(overlaps.items(), key=lambda kv: (-kv[1], kv[0])):
        if new in mapping or (old in taken and old not in shared) or n < min_share * had_topic[new]:
            continue
        mapping[new] = old
        taken.add(old)
    return mapping
