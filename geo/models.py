"""The tables of fugong. Geometries are WGS84 (SRID 4326); `area_id` is set by the database.

Every table is declared here, those only raw SQL reads and writes too (roads, stored plans, the
tile cache, flag tallies), so that these models and the migrations describe one schema:
`tests/migrations` checks that alembic's autogenerate finds nothing to add or drop.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import cast

from geoalchemy2 import Geometry
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import DATEMULTIRANGE, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates

from geo.credit_code import validate_credit_code
from geo.srid import STORAGE_SRID


class Base(DeclarativeBase):
    pass


def table_of(model: type[Base]) -> Table:
    """A model's table as the Table it is (SQLAlchemy types `__table__` as any FromClause)."""
    return cast(Table, model.__table__)


class AreaLevel(enum.Enum):
    # Declaration order is the database enum's sort order: the finest level sorts last.
    DISTRICT = "DISTRICT"
    TOWN = "TOWN"
    VILLAGE = "VILLAGE"


class ResumptionStatus(enum.Enum):
    NOT_RESUMED = "NOT_RESUMED"
    PARTIAL = "PARTIAL"
    FULL = "FULL"


class FlagColor(enum.Enum):
    GREEN = "GREEN"  # fully back at work and producing
    YELLOW = "YELLOW"  # partly back, problems still open
    RED = "RED"  # not back yet: a key target for help


class FlagSource(enum.Enum):
    RULE = "RULE"  # the rules, from reported facts
    OVERRIDE = "OVERRIDE"  # set by hand, with a reason
    OVERRIDE_CLEARED = "OVERRIDE_CLEARED"  # a hand-set flag lifted: the rules again


# A row written outside geo.flag_writes (raw SQL, an import) flies this flag until its first report.
UNASSESSED_REASON = "no status report yet"


class EnterpriseCategory(enum.Enum):
    INDUSTRIAL = "INDUSTRIAL"
    COMMERCE_SERVICES = "COMMERCE_SERVICES"
    LOGISTICS = "LOGISTICS"
    AGRICULTURAL_COOPERATIVE = "AGRICULTURAL_COOPERATIVE"
    OTHER = "OTHER"


def _geometry(kind: str) -> Geometry:
    return Geometry(kind, srid=STORAGE_SRID, spatial_index=True)


class _Flagged:
    """The stored flag of an enterprise or a site; geo.flag_writes writes it, with its history."""

    flag_color: Mapped[FlagColor] = mapped_column(
        Enum(FlagColor, name="flag_color"), server_default=FlagColor.RED.value
    )
    flag_reason: Mapped[str] = mapped_column(Text, server_default=UNASSESSED_REASON)
    flag_since: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    flag_overridden: Mapped[bool] = mapped_column(Boolean, server_default=false())


def _area_fk() -> Mapped[int | None]:
    # Written by the trigger fugong_derive_area from the row's geometry, never by callers.
    return mapped_column(ForeignKey("area.id", ondelete="SET NULL"), index=True)


class Area(Base):
    __tablename__ = "area"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    name_pinyin: Mapped[str] = mapped_column(String(64))
    level: Mapped[AreaLevel] = mapped_column(Enum(AreaLevel, name="area_level"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"), index=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    boundary = mapped_column(_geometry("MULTIPOLYGON"), nullable=False)

    __table_args__ = (CheckConstraint("code ~ '^[0-9]{6,12}$'", name="area_code_digits"),)


class Enterprise(_Flagged, Base):
    __tablename__ = "enterprise"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    category: Mapped[EnterpriseCategory] = mapped_column(
        Enum(EnterpriseCategory, name="enterprise_category")
    )
    address: Mapped[str] = mapped_column(String(300))
    geom = mapped_column(_geometry("POINT"), nullable=False)
    staff_total: Mapped[int] = mapped_column(Integer, default=0)
    staff_returned: Mapped[int] = mapped_column(Integer, default=0)
    staff_out_of_province: Mapped[int] = mapped_column(Integer, default=0)
    hubei_staff_retained: Mapped[int] = mapped_column(Integer, default=0)
    capacity_pct: Mapped[float | None] = mapped_column(Numeric(5, 1))
    resumption: Mapped[ResumptionStatus] = mapped_column(
        Enum(ResumptionStatus, name="resumption_status"), default=ResumptionStatus.NOT_RESUMED
    )
    problems: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    contact_name: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    has_dormitory: Mapped[bool] = mapped_column(Boolean, default=False)
    # The fever cases of its latest daily health report (geo/health.py): the flag rules read it.
    fever_cases: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    signboard_updated_on: Mapped[date | None] = mapped_column(Date)
    resumption_reported_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    area_id = _area_fk()

    __table_args__ = (
        CheckConstraint(
            "staff_total >= 0 AND staff_returned BETWEEN 0 AND staff_total"
            " AND staff_out_of_province BETWEEN 0 AND staff_total"
            " AND hubei_staff_retained BETWEEN 0 AND staff_total",
            name="enterprise_staff_counts",
        ),
        CheckConstraint("capacity_pct BETWEEN 0 AND 100", name="enterprise_capacity_pct"),
    )

    @validates("credit_code")
    def _check_credit_code(self, _key: str, value: str | None) -> str | None:
        return None if value is None else validate_credit_code(value)


class QuarantineSite(Base):
    __tablename__ = "quarantine_site"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64))
    geom = mapped_column(_geometry("POINT"), nullable=False)
    beds_total: Mapped[int] = mapped_column(Integer)
    beds_occupied: Mapped[int] = mapped_column(Integer, default=0)
    area_id = _area_fk()

    __table_args__ = (
        CheckConstraint("beds_occupied BETWEEN 0 AND beds_total", name="quarantine_beds"),
    )


class RentalProperty(Base):
    __tablename__ = "rental_property"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(300))
    geom = mapped_column(_geometry("POINT"), nullable=False)
    landlord_name: Mapped[str | None] = mapped_column(String(64))
    landlord_phone: Mapped[str | None] = mapped_column(String(20))
    filed: Mapped[bool] = mapped_column(Boolean, default=False)
    filing_number: Mapped[str | None] = mapped_column(String(32))
    tenants_total: Mapped[int] = mapped_column(Integer, default=0)
    tenants_out_of_province: Mapped[int] = mapped_column(Integer, default=0)
    tenants_home_observation: Mapped[int] = mapped_column(Integer, default=0)
    last_inspected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    area_id = _area_fk()
    # The point's coordinates for a zone's box under row-level security (geo/targets.py `box`).
    lon: Mapped[float] = mapped_column(Float, Computed("ST_X(geom)", persisted=True))
    lat: Mapped[float] = mapped_column(Float, Computed("ST_Y(geom)", persisted=True))

    __table_args__ = (
        Index("ix_rental_property_lon_lat", "lon", "lat"),
        CheckConstraint(
            "tenants_total >= 0 AND tenants_out_of_province BETWEEN 0 AND tenants_total"
            " AND tenants_home_observation BETWEEN 0 AND tenants_total",
            name="rental_tenant_counts",
        ),
        CheckConstraint("filed = (filing_number IS NOT NULL)", name="rental_filing_number"),
    )


class ConstructionSite(_Flagged, Base):
    __tablename__ = "construction_site"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64))
    key_project: Mapped[bool] = mapped_column(Boolean, default=False)
    footprint = mapped_column(_geometry("POLYGON"), nullable=False)
    entrance = mapped_column(_geometry("POINT"), nullable=False)
    workers_total: Mapped[int] = mapped_column(Integer, default=0)
    workers_returned: Mapped[int] = mapped_column(Integer, default=0)
    workers_out_of_province: Mapped[int] = mapped_column(Integer, default=0)
    resumption: Mapped[ResumptionStatus] = mapped_column(
        Enum(ResumptionStatus, name="resumption_status"), default=ResumptionStatus.NOT_RESUMED
    )
    quarantine_site_id: Mapped[int | None] = mapped_column(
        ForeignKey("quarantine_site.id", ondelete="SET NULL")
    )
    problems: Mapped[list[str]] = mapped_column(
        ARRAY(Text), default=list, server_default=text("'{}'")
    )
    resumption_reported_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    area_id = _area_fk()

    __table_args__ = (
        CheckConstraint(
            "workers_total >= 0 AND workers_returned BETWEEN 0 AND workers_total"
            " AND workers_out_of_province BETWEEN 0 AND workers_total",
            name="site_worker_counts",
        ),
    )


class PatrolZone(Base):
    __tablename__ = "patrol_zone"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    boundary = mapped_column(_geometry("POLYGON"), nullable=False)
    team_name: Mapped[str] = mapped_column(String(200))
    team_leader: Mapped[str] = mapped_column(String(64))
    base = mapped_column(_geometry("POINT"), nullable=False)
    area_id = _area_fk()


class Inspection(Base):
    __tablename__ = "inspection"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    rental_property_id: Mapped[int | None] = mapped_column(
        ForeignKey("rental_property.id"), index=True
    )
    construction_site_id: Mapped[int | None] = mapped_column(
        ForeignKey("construction_site.id"), index=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    geom = mapped_column(_geometry("POINT"), nullable=False)
    distance_m: Mapped[float] = mapped_column(Float)  # from the target, when recorded
    gps_accuracy_m: Mapped[float | None] = mapped_column(Float)
    findings: Mapped[str] = mapped_column(Text, default="")
    payload_sha256: Mapped[str | None] = mapped_column(Text)  # what the key was first sent with
    area_id = _area_fk()

    __table_args__ = (
        CheckConstraint(
            "num_nonnulls(enterprise_id, rental_property_id, construction_site_id) = 1",
            name="inspection_one_target",
        ),
        # A phone that retries sends the same key: it names one inspection, never two.
        UniqueConstraint("account_id", "idempotency_key", name="inspection_idempotency"),
    )


class Role(enum.Enum):
    DISTRICT_OFFICER = "DISTRICT_OFFICER"  # everything in the district
    TOWN_OFFICER = "TOWN_OFFICER"  # everything in one town
    INSPECTOR = "INSPECTOR"  # the targets of their patrol zones
    ENTERPRISE = "ENTERPRISE"  # one enterprise's own account: its daily reports, nothing more


class Account(Base):
    __tablename__ = "account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, name="account_role"))
    town_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"))
    enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE")
    )
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        CheckConstraint("(role = 'TOWN_OFFICER') = (town_id IS NOT NULL)", name="account_town"),
        CheckConstraint(
            "(role = 'ENTERPRISE') = (enterprise_id IS NOT NULL)", name="account_enterprise"
        ),
    )


class AccountZone(Base):
    """The patrol zones an inspector works in."""

    __tablename__ = "account_zone"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    zone_id: Mapped[int] = mapped_column(
        ForeignKey("patrol_zone.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class AuditEntry(Base):
    """Who read which personal data, and when; written in the request that read it."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(64), index=True)
    fields: Mapped[list[str]] = mapped_column(ARRAY(Text))


class FlagChange(Base):
    """One change of a flag's colour or reason, by the rules or by hand; never rewritten."""

    __tablename__ = "flag_change"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    construction_site_id: Mapped[int | None] = mapped_column(ForeignKey("construction_site.id"))
    from_color: Mapped[FlagColor | None] = mapped_column(Enum(FlagColor, name="flag_color"))
    to_color: Mapped[FlagColor] = mapped_column(Enum(FlagColor, name="flag_color"))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(64))  # a username, or "rules"
    source: Mapped[FlagSource] = mapped_column(Enum(FlagSource, name="flag_source"))

    __table_args__ = (
        CheckConstraint(
            "num_nonnulls(enterprise_id, construction_site_id) = 1", name="flag_change_one_target"
        ),
        # "The last change of each target before a time": one index probe per target.
        Index(
            "ix_flag_change_enterprise_at",
            "enterprise_id",
            text("at DESC"),
            text("id DESC"),
            postgresql_include=["to_color"],
            postgresql_where=text("enterprise_id IS NOT NULL"),
        ),
        Index(
            "ix_flag_change_site_at",
            "construction_site_id",
            text("at DESC"),
            text("id DESC"),
            postgresql_include=["to_color"],
            postgresql_where=text("construction_site_id IS NOT NULL"),
        ),
    )


class Signboard(Base):
    """The days on which an enterprise updated its public signboard (每日更新一面牌子).

    A multirange of dates: consecutive days merge into one range, so a year of daily updates
    is still one short value, and "was it updated on d" is `days @> d`.
    """

    __tablename__ = "signboard"

    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), primary_key=True
    )
    days = mapped_column(DATEMULTIRANGE, nullable=False)


class _HealthCounts:
    """一日一登记: an enterprise's staff health on one day, as counts, never persons."""

    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    revision: Mapped[int] = mapped_column(Integer)  # 1 for the first report of the day
    on_site: Mapped[int] = mapped_column(Integer)
    checked: Mapped[int] = mapped_column(Integer)  # temperature checked
    fever: Mapped[int] = mapped_column(Integer)
    isolated: Mapped[int] = mapped_column(Integer)
    out_of_province: Mapped[int] = mapped_column(Integer)  # under health management
    dormitory_disinfected: Mapped[bool | None] = mapped_column(Boolean)  # None: no dormitory
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reported_by: Mapped[str] = mapped_column(String(64))


class HealthReport(_HealthCounts, Base):
    """The day's report as it stands: a later report of the same day replaces it."""

    __tablename__ = "health_report"
    __table_args__ = (
        # A day's reports across enterprises: the briefing's totals.
        Index("ix_health_report_day", "day", postgresql_include=["fever", "isolated"]),
    )

    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class HealthReportRevision(_HealthCounts, Base):
    """Every version of every day's report, the first included (append-only)."""

    __tablename__ = "health_report_revision"
    __table_args__ = (
        UniqueConstraint(
            "enterprise_id", "day", "revision",
            name="health_report_revision_enterprise_id_day_revision_key",
        ),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class QuarantineOccupancy(Base):
    """Beds occupied at a quarantine site on a day: the history behind beds_occupied."""

    __tablename__ = "quarantine_occupancy"

    quarantine_site_id: Mapped[int] = mapped_column(
        ForeignKey("quarantine_site.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    beds_occupied: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(64))


# Tables written by database triggers or by raw SQL (migrations 0005-0007, migrations/sql/).
# Declared as plain tables: no code maps rows of them to objects.

_FLAG_COLOR = Enum(FlagColor, name="flag_color", create_type=False)

# A vertex is an OSM node where ways meet or end: what targets snap to and routes join at.
ROAD_VERTEX = Table(
    "road_vertex",
    Base.metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("geom", _geometry("POINT"), nullable=False),
)

# An edge in pgRouting's shape: a negative reverse cost is a one-way street.
ROAD = Table(
    "road",
    Base.metadata,
    Column("id", BigInteger, primary_key=True),
    Column("osm_way_id", BigInteger, nullable=False),
    Column("source", BigInteger, ForeignKey("road_vertex.id"), nullable=False, index=True),
    Column("target", BigInteger, ForeignKey("road_vertex.id"), nullable=False, index=True),
    Column("length_m", Float, nullable=False),
    Column("cost_s", Float, nullable=False),
    Column("reverse_cost_s", Float, nullable=False),
    Column("highway", Text, nullable=False),
    Column("geom", _geometry("LINESTRING"), nullable=False),
)

# One row, bumped by a trigger whenever a road or vertex changes: part of a plan's fingerprint.
ROAD_NETWORK = Table("road_network", Base.metadata, Column("version", BigInteger, nullable=False))

ROUTE_PLAN = Table(
    "route_plan",
    Base.metadata,
    Column(
        "zone_id",
        Integer,
        ForeignKey("patrol_zone.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("day", Date, primary_key=True),
    Column("inspectors", Integer, primary_key=True, autoincrement=False),
    Column("shift_minutes", Integer, primary_key=True, autoincrement=False),
    Column("fingerprint", Text, nullable=False),
    Column("plan", JSONB, nullable=False),
    Column("planned_at", DateTime(timezone=True), nullable=False),
    Column("solve_ms", Integer, nullable=False),
    Column("solves", Integer, nullable=False, server_default=text("1")),
    Column("inputs", Text),  # geo/routing/stored.py: what the plan was last checked against
    CheckConstraint("inspectors > 0", name="route_plan_inspectors_check"),
    CheckConstraint("shift_minutes > 0", name="route_plan_shift_minutes_check"),
)

# Flag counts kept by triggers (migrations/sql/flag_tally.sql); `kind` is the target's table.
FLAG_TALLY = Table(
    "flag_tally",
    Base.metadata,
    Column("kind", Text, nullable=False),
    Column("area_id", Integer, nullable=False),
    Column("color", _FLAG_COLOR, nullable=False),
    Column("n", BigInteger, nullable=False),
)

FLAG_TALLY_DAILY = Table(
    "flag_tally_daily",
    Base.metadata,
    Column("kind", Text, nullable=False),
    Column("area_id", Integer, nullable=False),
    Column("day", Date, nullable=False),
    Column("color", _FLAG_COLOR, nullable=False),
    Column("n", BigInteger, nullable=False),
    Index("ix_flag_tally_daily_day", "day", postgresql_include=["kind", "area_id", "color", "n"]),
)

# Tiles kept for every process, dropped by triggers (migrations/sql/tiles.sql).
TILE_CACHE = Table(
    "tile_cache",
    Base.metadata,
    Column("layer", Text, primary_key=True),
    Column("z", SmallInteger, primary_key=True, autoincrement=False),
    Column("x", Integer, primary_key=True, autoincrement=False),
    Column("y", Integer, primary_key=True, autoincrement=False),
    Column("scope", Text, primary_key=True, index=True),
    Column("filters", Text, primary_key=True),
    Column("mvt", LargeBinary, nullable=False),
    Column("etag", Text, nullable=False),
    Column("bounds", _geometry("POLYGON"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# No columns: a lock that orders tile builders against the triggers that drop tiles.
TILE_CACHE_GUARD = Table("tile_cache_guard", Base.metadata)

# A hash chain through flag_change and audit_log, linked at commit (migrations 0015 and 0016,
# migrations/sql/history_chain*.sql); `fugong verify-history` walks it.
HISTORY_CHAIN = Table(
    "history_chain",
    Base.metadata,
    Column("log", Text, primary_key=True),
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("row_id", BigInteger, nullable=False),
    Column("prev", LargeBinary),
    Column("hash", LargeBinary, nullable=False),
    UniqueConstraint("log", "row_id", name="history_chain_log_row_id_key"),
)

# A transaction's log rows waiting for their links, and the transactions that have some: both
# empty outside a transaction (migration 0016).
HISTORY_PENDING = Table(
    "history_pending",
    Base.metadata,
    Column("xact", BigInteger, nullable=False),
    Column("log", Text, nullable=False),
    Column("row_id", BigInteger, nullable=False),
    Index("history_pending_xact", "xact"),
)
HISTORY_DUE = Table(
    "history_due", Base.metadata, Column("xact", BigInteger, primary_key=True, autoincrement=False)
)

# Failed logins per account and per client address (geo/throttle.py, migration 0015).
LOGIN_THROTTLE = Table(
    "login_throttle",
    Base.metadata,
    Column("key", Text, primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure", DateTime(timezone=True), nullable=False),
    Column("blocked_until", DateTime(timezone=True), nullable=False),
)

# `where: {name: …}` finds names by their characters and character pairs (migration 0009).
for _named in (Area, Enterprise, ConstructionSite, QuarantineSite, PatrolZone):
    Index(
        f"idx_{_named.__tablename__}_name_grams",
        func.fugong_name_grams(table_of(_named).c.name),
        postgresql_using="gin",
    )

# A low-zoom tile's points read from these indexes alone (migration 0006).
for _model, _covered in (
    (Enterprise, ("id", "flag_color", "area_id", "geom")),
    (RentalProperty, ("id", "area_id", "geom")),
):
    Index(
        f"ix_{_model.__tablename__}_tile",
        func.fugong_tile_key(table_of(_model).c.geom),
        postgresql_include=list(_covered),
    )
