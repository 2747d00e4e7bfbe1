"""Pages of a long list: every list page shows `PAGE_SIZE` rows and clamps an out-of-range page."""

from __future__ import annotations

PAGE_SIZE = 50


def paging(total: int, page: int) -> tuple[int, int]:
    """(page count, the asked page clamped into 1..count): an out-of-range ?page= shows the nearest page."""
    pages = max(1, -(-total // PAGE_SIZE))
    return pages, min(max(page, 1), pages)
