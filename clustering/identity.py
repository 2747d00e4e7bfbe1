"""Matching a fresh clustering to the previous topics so topic ids survive re-clustering.

Each new cluster takes the id of the previous topic that holds most of its members, provided that topic holds
at least half of the members that had one and was not already taken by a larger overlap. What a writer decided
(label, status, notes) lives on the topic row, so it survives with the id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence


def match_clusters(
    new_labels: Sequence[int], old_topic_ids: Sequence[int | None], min_share: float = 0.5
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
    for (new, old), n in sorted(overlaps.items(), key=lambda kv: -kv[1]):
        if new in mapping or old in taken or n < min_share * had_topic[new]:
            continue
        mapping[new] = old
        taken.add(old)
    return mapping
