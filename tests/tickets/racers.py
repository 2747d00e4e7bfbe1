"""What each process of the concurrent ticket test runs (a module of its own: a spawned process imports little)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

T0 = datetime(2026, 11, 24, 9, 0)


def create_in_a_process(data_dir: str, database_url: str, topic: int, barrier: Any, out: Any) -> None:
    """Open the instance, wait at the start line with the others, then create the topic's ticket; report on `out`."""
    from core.runtime import Runtime
    from core.settings import Settings
    from usecases.permissions import OPERATOR
    from usecases.tickets import create_ticket

    extra = {"database_url": database_url} if database_url else {}
    rt = Runtime(Settings(data_dir=Path(data_dir), _env_file=None, **extra), clock=lambda: T0)  # type: ignore[call-arg]
    rt.engine.connect().close()  # tables checked and a connection made before the start line
    barrier.wait(timeout=120)
    try:
        view, created = create_ticket(rt, OPERATOR, topic)
        out.put((view.id, created))
    except Exception as exc:  # noqa: BLE001  (reported to the test, which fails on it)
        out.put(repr(exc))
