"""Ingest: one module per source format, each yielding normalized records; shared cleaning and storage.

Parsers never raise on a bad record: they yield an `IngestError` naming the file and record, and go on, so one
malformed ticket never costs the rest of the batch.
"""

from ingest.records import AccountHint, IngestError, IngestResult, QuestionRecord

__all__ = ["AccountHint", "IngestError", "IngestResult", "QuestionRecord"]
