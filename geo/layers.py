"""The map layers: which table each is, how it is drawn, and what it shows to anyone."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Table

from geo import targets
from geo.models import (
    Area,
    ConstructionSite,
    Enterprise,
    Inspection,
    PatrolZone,
    QuarantineSite,
    RentalProperty,
    table_of,
)


@dataclass(frozen=True, eq=False)  # one of each: compared and hashed by identity
class Layer:
    type_name: str  # the GraphQL type, and the prefix of its ids
    table: Table
    geometry_column: str  # drawn as, and tested by spatial filters
    public: dict[str, ColumnElement[Any]]  # feature properties: never personal data

    @property
    def plural(self) -> str:
        """enterprises, construction_sites, …: the name of its tiles (/tiles/{plural}/…)."""
        return next(name for name, layer in BY_PLURAL.items() if layer is self)

    @property
    def geometry(self) -> ColumnElement[Any]:
        return self.table.c[self.geometry_column]

    @property
    def has_flag(self) -> bool:
        return self.type_name in {kind.value for kind in targets.FLAGGED}

    def global_id(self, id_column: ColumnElement[Any]) -> ColumnElement[str]:
        return targets.global_id(self.type_name, id_column)

    @property
    def area_column(self) -> ColumnElement[Any]:
        """The area a row lies in: an area lies in itself."""
        return self.table.c.id if self.table.name == "area" else self.table.c.area_id


def field_types(layer: Layer) -> dict[str, str]:
    """Each public property's type as TileJSON's vector_layers name it: String, Number,
    Boolean (enums travel as their names)."""
    found = {}
    for name, value in layer.public.items():
        try:
            python_type = value.type.python_type
        except NotImplementedError:
            python_type = str
        if python_type is bool:
            found[name] = "Boolean"
        elif issubclass(python_type, int | float | Decimal):
            found[name] = "Number"
        else:
            found[name] = "String"
    return found


_area, _enterprise, _rental, _site, _zone, _quarantine = (
    table_of(m)
    for m in (Area, Enterprise, RentalProperty, ConstructionSite, PatrolZone, QuarantineSite)
)

AREAS = Layer(
    "Area",
    _area,
    "boundary",
    {"code": _area.c.code, "name": _area.c.name, "level": _area.c.level},
)
ENTERPRISES = Layer(
    "Enterprise",
    _enterprise,
    "geom",
    {
        "name": _enterprise.c.name,
        "category": _enterprise.c.category,
        "resumption": _enterprise.c.resumption,
        "flag": _enterprise.c.flag_color,
        "staffTotal": _enterprise.c.staff_total,
        "staffReturned": _enterprise.c.staff_returned,
        "capacityPct": _enterprise.c.capacity_pct,
    },
)
RENTAL_PROPERTIES = Layer(
    "RentalProperty",
    _rental,
    "geom",
    {"filed": _rental.c.filed, "tenantsTotal": _rental.c.tenants_total},
)
CONSTRUCTION_SITES = Layer(
    "ConstructionSite",
    _site,
    "footprint",
    {
        "name": _site.c.name,
        "kind": _site.c.kind,
        "keyProject": _site.c.key_project,
        "resumption": _site.c.resumption,
        "flag": _site.c.flag_color,
        "workersTotal": _site.c.workers_total,
        "workersReturned": _site.c.workers_returned,
    },
)
PATROL_ZONES = Layer(
    "PatrolZone",
    _zone,
    "boundary",
    {"name": _zone.c.name, "team": _zone.c.team_name},
)
QUARANTINE_SITES = Layer(
    "QuarantineSite",
    _quarantine,
    "geom",
    {
        "name": _quarantine.c.name,
        "kind": _quarantine.c.kind,
        "bedsTotal": _quarantine.c.beds_total,
        "bedsOccupied": _quarantine.c.beds_occupied,
    },
)

INSPECTIONS = Layer("Inspection", table_of(Inspection), "geom", {})

BY_PLURAL = {
    "areas": AREAS,
    "enterprises": ENTERPRISES,
    "rental_properties": RENTAL_PROPERTIES,
    "construction_sites": CONSTRUCTION_SITES,
    "patrol_zones": PATROL_ZONES,
    "quarantine_sites": QUARANTINE_SITES,
}

BY_TYPE_NAME = {
    layer.type_name: layer
    for layer in (
        AREAS,
        ENTERPRISES,
        RENTAL_PROPERTIES,
        CONSTRUCTION_SITES,
        PATROL_ZONES,
        QUARANTINE_SITES,
        INSPECTIONS,
    )
}
