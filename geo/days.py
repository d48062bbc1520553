"""The district's day: Asia/Shanghai, whatever the server's clock says. What happened "on" a
day happened between its midnight and the next, +08:00."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from geo.errors import BadInput

TIMEZONE = ZoneInfo("Asia/Shanghai")


def today() -> date:
    return datetime.now(TIMEZONE).date()


def end_of(day: date) -> datetime:
    """The next midnight in Asia/Shanghai: what was true at the end of `day` came before it."""
    return datetime.combine(day + timedelta(days=1), time(), TIMEZONE)


def cutoff(day: date | None) -> datetime | None:
    """None to read the stored flags (no day, or today); the end of a past day otherwise."""
    if day is None or day == today():
        return None
    if day > today():
        raise BadInput(f"{day.isoformat()} is in the future; flags are known up to today")
    return end_of(day)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The day's first instant and the next day's, in Asia/Shanghai."""
    return datetime.combine(day, time(), TIMEZONE), end_of(day)
