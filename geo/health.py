"""Daily health registration (一日一登记): per enterprise and day, counts of staff, never persons.

One report per enterprise and day; a later report of the same day corrects it, and every
version is kept in health_report_revision. The counts must hold together:
fever ≤ checked ≤ on site ≤ staff total; isolated and out of province ≤ staff total. The fever
cases of an enterprise's latest report are a fact of its flag (geo/flag_rules.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

from sqlalchemy import RowMapping, func, insert, select
from sqlalchemy.dialects.postgresql import insert as upsert

from geo import flag_writes as flags
from geo.days import today
from geo.db import Executor
from geo.errors import BadInput, InconsistentCounts, NotFound
from geo.flag_rules import DEFAULT_THRESHOLDS, Thresholds
from geo.models import Enterprise, HealthReport, HealthReportRevision, table_of

ENTERPRISE = table_of(Enterprise)
REPORT = table_of(HealthReport)
REVISION = table_of(HealthReportRevision)
MAX_COUNT = 1_000_000


@dataclass(frozen=True)
class HealthCounts:
    on_site: int
    checked: int  # temperature checked
    fever: int
    isolated: int
    out_of_province: int  # from out of province, under health management
    dormitory_disinfected: bool | None  # None: the enterprise has no dormitory


@dataclass(frozen=True)
class Recorded:
    """One version of an enterprise's report of a day."""

    enterprise_id: int
    day: date
    revision: int  # 1 for the day's first report, 2 for its first correction, …
    counts: HealthCounts
    reported_at: datetime
    reported_by: str  # a username


def check_counts(counts: HealthCounts, staff_total: int, has_dormitory: bool) -> None:
    """InconsistentCounts naming the first pair of counts that cannot both be true."""
    for name, value in asdict(counts).items():
        if isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= MAX_COUNT:
            raise InconsistentCounts(f"{name} must be between 0 and {MAX_COUNT}, not {value}")
    order = [
        ("fever", counts.fever, "checked", counts.checked),
        ("checked", counts.checked, "onSite", counts.on_site),
        ("onSite", counts.on_site, "staffTotal", staff_total),
        ("isolated", counts.isolated, "staffTotal", staff_total),
        ("outOfProvince", counts.out_of_province, "staffTotal", staff_total),
    ]
    for small, small_value, large, large_value in order:
        if small_value > large_value:
            raise InconsistentCounts(
                f"{small} ({small_value}) cannot exceed {large} ({large_value}):"
                " fever ≤ checked ≤ onSite ≤ staffTotal, and isolated, outOfProvince ≤ staffTotal"
            )
    if has_dormitory and counts.dormitory_disinfected is None:
        raise BadInput("this enterprise has a dormitory: say whether it was disinfected")
    if not has_dormitory and counts.dormitory_disinfected is not None:
        raise BadInput("this enterprise has no dormitory to disinfect")


def record_health(
    session: Executor,
    enterprise_id: int,
    day: date,
    counts: HealthCounts,
    actor: str,
    at: datetime,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Recorded:
    """Store the day's report (or correct it), keep the version, and when it is the latest day
    reported, give its fever cases to the flag rules; in the caller's transaction."""
    if day > today():
        raise BadInput(f"{day.isoformat()} is in the future: health is registered on the day")
    # Locked: two reports of one enterprise and day number their revisions one after the other.
    found = session.execute(
        select(ENTERPRISE.c.staff_total, ENTERPRISE.c.has_dormitory)
        .where(ENTERPRISE.c.id == enterprise_id)
        .with_for_update()
    ).first()
    if found is None:
        raise NotFound(f"no enterprise has the id Enterprise:{enterprise_id}")
    check_counts(counts, found.staff_total, found.has_dormitory)
    revision = (
        1
        + session.execute(
            select(func.coalesce(func.max(REVISION.c.revision), 0)).where(
                REVISION.c.enterprise_id == enterprise_id, REVISION.c.day == day
            )
        ).scalar_one()
    )
    values = {**asdict(counts), "reported_at": at, "reported_by": actor, "revision": revision}
    statement = upsert(REPORT).values(enterprise_id=enterprise_id, day=day, **values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[REPORT.c.enterprise_id, REPORT.c.day], set_=values
        )
    )
    session.execute(insert(REVISION).values(enterprise_id=enterprise_id, day=day, **values))
    latest = session.execute(
        select(func.max(REPORT.c.day)).where(REPORT.c.enterprise_id == enterprise_id)
    ).scalar_one()
    if day == latest:
        flags.apply_fever_cases(session, enterprise_id, counts.fever, actor, at, thresholds)
    return Recorded(enterprise_id, day, revision, counts, at, actor)


def revisions(session: Executor, enterprise_id: int, day: date) -> list[Recorded]:
    """Every version of the enterprise's report of `day`, the first first."""
    rows = session.execute(
        select(REVISION)
        .where(REVISION.c.enterprise_id == enterprise_id, REVISION.c.day == day)
        .order_by(REVISION.c.revision)
    ).mappings()
    return [recorded(row) for row in rows]


def recorded(row: RowMapping) -> Recorded:
    counts = HealthCounts(**{name: row[name] for name in HealthCounts.__dataclass_fields__})
    return Recorded(
        row["enterprise_id"], row["day"], row["revision"], counts, row["reported_at"],
        row["reported_by"],
    )  # fmt: skip
