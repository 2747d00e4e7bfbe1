"""Timestamps as sources write them (ISO 8601 with `Z`, Slack's epoch strings), as naive UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_timestamp(value: object) -> datetime:
    """Parse ISO 8601 or epoch seconds into naive UTC; raises ValueError with the offending value."""
    if isinstance(value, int | float) or (isinstance(value, str) and value.replace(".", "", 1).isdigit()):
        return datetime.fromtimestamp(float(value), UTC).replace(tzinfo=None)  # type: ignore[arg-type]
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a timestamp: {value!r}")
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt.astimezone(UTC).replace(tzinfo=None) if dt.tzinfo else dt
