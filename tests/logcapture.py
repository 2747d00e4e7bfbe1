"""Every log record, from every logger a test names, kept as a log file at those levels would hold it."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager


class LogCapture(logging.Handler):
    """Keeps every record of the given loggers, formatted with its traceback (what a log file would hold)."""

    def __init__(self, levels: dict[str, int]) -> None:
        super().__init__(logging.DEBUG)
        self.levels = levels
        self.text = io.StringIO()
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.text.write(self.format(record) + "\n")

    def attach(self) -> None:
        """Hook onto every logger at its level; again once uvicorn runs, as its logging config replaces handlers."""
        for name, level in self.levels.items():
            logger = logging.getLogger(name)
            if self not in logger.handlers:
                logger.addHandler(self)
            logger.setLevel(level)


@contextmanager
def capturing(levels: dict[str, int]) -> Iterator[LogCapture]:
    """A `LogCapture` attached for the block; each logger's level is put back and the handler removed after."""
    handler = LogCapture(levels)
    before = {name: logging.getLogger(name).level for name in levels}
    handler.attach()
    try:
        yield handler
    finally:
        for name, level in before.items():
            logging.getLogger(name).removeHandler(handler)
            logging.getLogger(name).setLevel(level)
