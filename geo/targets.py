"""What an inspector visits, and everything that differs by kind of target, in one place.

A target's global id is its GraphQL type name and its row id, `Enterprise:42`: built here in
Python (`Target.__str__`) and in SQL (`global_id`, `target_id`), and parsed here (`parse`,
`parse_target`), with one error message for every caller. A new kind of target is a member
of `TargetKind` and a `Kind` in `KINDS` here, its foreign key in `inspection` (geo/models.py
and a migration), and its GraphQL type in the `InspectionTarget` union (schema/types.py).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, String, Table, literal

from geo.errors import BadInput
from geo.models import ConstructionSite, Enterprise, RentalProperty, table_of


class TargetKind(enum.Enum):
    """The values are the GraphQL type names, which prefix the ids ("Enterprise:42")."""

    ENTERPRISE = "Enterprise"
    CONSTRUCTION_SITE = "ConstructionSite"
    RENTAL_PROPERTY = "RentalProperty"


@dataclass(frozen=True)
class Kind:
    """Where a kind of target lives, how a visit to it is fenced, and what the day's due list
    reads of it. SQL fragments are over the target's table aliased `t`."""

    table: Table
    column: str  # its foreign key in inspection, and in flag_change when it flies a flag
    flagged: bool  # flies a green/yellow/red flag (flag_* columns, history in flag_change)
    place: str  # the geometry a visit is fenced to: near a point, or inside a polygon
    point: str  # SQL: where an inspector goes, and routes stop
    service_minutes: int  # how long a visit takes, unless the due rules say otherwise
    name: str = "t.name"  # SQL: how a route names it (never personal data)
    in_zone: tuple[str, ...] = ("t.geom",)  # geometries of which one must touch the zone
    # SQL per Candidate field the kind has (geo/due.py): the others read as their default.
    facts: Mapping[str, str] = field(default_factory=dict)
    visited_at: str | None = None  # a column keeping the last visit on the row itself, if any
    # Columns of the point's lon and lat, for a table whose reads row-level security filters:
    # PostGIS operators are not LEAKPROOF, so under a policy the planner may not take them into
    # an index scan, and a zone's targets would be a scan of the whole table; comparisons of
    # floats are LEAKPROOF, and a btree on these gives the zone's box instead.
    box: tuple[str, str] | None = None

    @property
    def fenced_inside(self) -> bool:
        """A polygon is visited inside it; a point, within the geofence of it."""
        return "POLYGON" in self.table.c[self.place].type.geometry_type  # type: ignore[attr-defined]


_FLAG_FACTS = {"flag_color": "t.flag_color::text", "flag_reason": "t.flag_reason"}
# An enterprise's fever cases in its daily health report of the day before (geo/health.py).
_FEVER = (
    "coalesce((SELECT h.fever FROM health_report h"
    " WHERE h.enterprise_id = t.id AND h.day = :day_before), 0)"
)

KINDS: dict[TargetKind, Kind] = {
    TargetKind.ENTERPRISE: Kind(
        table_of(Enterprise),
        "enterprise_id",
        flagged=True,
        place="geom",
        point="t.geom",
        service_minutes=20,
        facts={**_FLAG_FACTS, "fever_cases": _FEVER},
    ),
    TargetKind.CONSTRUCTION_SITE: Kind(
        table_of(ConstructionSite),
        "construction_site_id",
        flagged=True,
        place="footprint",
        point="t.entrance",
        service_minutes=30,
        in_zone=("t.footprint", "t.entrance"),
        facts={**_FLAG_FACTS, "key_project": "t.key_project"},
    ),
    TargetKind.RENTAL_PROPERTY: Kind(
        table_of(RentalProperty),
        "rental_property_id",
        flagged=False,
        place="geom",
        point="t.geom",
        service_minutes=10,
        name="'rental property #' || t.id",  # never its address: that is personal data
        facts={"filed": "t.filed", "tenants_out_of_province": "t.tenants_out_of_province"},
        visited_at="last_inspected_at",
        box=("t.lon", "t.lat"),
    ),
}
FLAGGED = tuple(kind for kind, spec in KINDS.items() if spec.flagged)  # what flies a flag


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    id: int

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}"


def parse(value: str, type_names: Sequence[str], what: str) -> tuple[str, int]:
    """A global id of one of `type_names` as (type name, row id), or BadInput saying what an id
    of `what` reads like."""
    type_name, _, number = value.partition(":")
    if type_name not in type_names or not (number.isascii() and number.isdigit()):
        raise BadInput(
            f"{value!r} is not the id of {what}: ids read like {type_names[0]}:42"
            f" ({', '.join(type_names)})"
        )
    return type_name, int(number)


def parse_target(
    value: str, kinds: Sequence[TargetKind] = tuple(TargetKind), what: str = "an inspection target"
) -> Target:
    """A target of one of `kinds` by its global id, or BadInput."""
    type_name, row_id = parse(value, [kind.value for kind in kinds], what)
    return Target(TargetKind(type_name), row_id)


def of_row(row: Mapping[Any, Any]) -> Target:
    """The target of a row of `inspection` or `flag_change` (one foreign key is set)."""
    for kind, spec in KINDS.items():
        if row.get(spec.column) is not None:
            return Target(kind, row[spec.column])
    raise ValueError("the row names no target")


def global_id(type_name: str, id_column: ColumnElement[Any]) -> ColumnElement[str]:
    """The id clients see, Enterprise:42, built in SQL."""
    return literal(f"{type_name}:") + id_column.cast(String)


def inspected_id(alias: str) -> str:
    """SQL: the global id of the target of `alias`, a row of inspection."""
    terms = ", ".join(f"'{k.value}:' || {alias}.{s.column}" for k, s in KINDS.items())
    return f"coalesce({terms})"
