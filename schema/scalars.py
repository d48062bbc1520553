"""Scalars at the edge: GeoJSON as JSON, and dates and times checked on the way in and written
one way on the way out (Asia/Shanghai, +08:00, in every answer: queries, mutations, events)."""

from datetime import date, datetime
from typing import Any, NewType

import strawberry

from geo.days import TIMEZONE
from geo.errors import BadInput

GeoJSON = NewType("GeoJSON", object)

# Every date and time a caller sends lies in these years: a phone with its clock in the year
# 10000 (or 1) is refused here, before PostgreSQL stores what Python cannot read back.
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


def _identity(value: Any) -> Any:
    return value


def _in_range(day: date, text: str) -> None:
    if not EARLIEST <= day <= LATEST:
        raise BadInput(
            f"{text!r} is out of range: dates and times lie in {EARLIEST.year}–{LATEST.year}"
        )


def parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise BadInput(
            f"a DateTime is an ISO 8601 string such as 2020-02-28T09:30:00+08:00, not {value!r}"
        )
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadInput(
            f"{value!r} is not an ISO 8601 time such as 2020-02-28T09:30:00+08:00"
        ) from None
    if parsed.tzinfo is None:
        raise BadInput(f"{value!r} needs a UTC offset, such as 2020-02-28T09:30:00+08:00")
    _in_range(parsed.date(), value)
    return parsed


def parse_date(value: Any) -> date:
    if not isinstance(value, str):
        raise BadInput(f"a Date is an ISO 8601 string such as 2020-02-28, not {value!r}")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{value!r} is not a date such as 2020-02-28") from None
    _in_range(parsed, value)
    return parsed


def serialize_datetime(value: datetime) -> str:
    return value.astimezone(TIMEZONE).isoformat()


SCALARS = {
    GeoJSON: strawberry.scalar(
        name="GeoJSON",
        description="A GeoJSON object (RFC 7946) as JSON: a geometry, Feature or FeatureCollection",
        specified_by_url="https://www.rfc-editor.org/rfc/rfc7946",
        serialize=_identity,
        parse_value=_identity,
    ),
    datetime: strawberry.scalar(
        name="DateTime",
        description="ISO 8601 with its UTC offset; answered in Asia/Shanghai (+08:00)",
        serialize=serialize_datetime,
        parse_value=parse_datetime,
    ),
    date: strawberry.scalar(
        name="Date",
        description=f"ISO 8601, between {EARLIEST.isoformat()} and {LATEST.isoformat()}",
        serialize=date.isoformat,
        parse_value=parse_date,
    ),
}
