"""A selection of fields as JSON built by PostgreSQL: what a client asked of each row, compiled
into json_build_object, so a page of rows never becomes Python objects on its way out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    DateTime,
    Table,
    Time,
    func,
    literal,
    select,
)

from geo.crs import Crs, as_geojson
from geo.layers import Layer
from geo.scope import Caller, visible

MAX_KEYS = 50  # json_build_object takes at most 100 arguments: 50 keys and their values


@dataclass(frozen=True)
class Column:
    name: str


@dataclass(frozen=True)
class Constant:
    value: str  # such as a __typename


@dataclass(frozen=True)
class NodeId:
    """The global id, Enterprise:42."""


@dataclass(frozen=True)
class Cursor:
    """The row's keyset cursor (see queries.cursor_of)."""


@dataclass(frozen=True)
class Distance:
    """Metres from the `near` point; null without one."""


@dataclass(frozen=True)
class Geometry:
    column: str | None = None  # None: the one the layer is drawn as
    crs: Crs = Crs.WGS84


@dataclass(frozen=True)
class Sql:
    """Any SQL expression over the row's table, such as a door's own view of a column."""

    expression: ColumnElement[Any]


@dataclass(frozen=True)
class Nested:
    """An object made of the same row's columns, such as an enterprise's flag."""

    fields: Fields


@dataclass(frozen=True)
class Related:
    """The row of `layer` that this row's `key` column points to, or null."""

    layer: Layer
    key: str
    fields: Fields = ()


Part = Column | Constant | NodeId | Cursor | Distance | Geometry | Sql | Nested | Related
Fields = tuple[tuple[str, Part], ...]  # response keys and their parts, in the order asked


def plain(table: Table, name: str) -> bool:
    """Whether PostgreSQL's JSON of the column is what GraphQL answers: not for timestamps,
    which GraphQL writes in ISO 8601 with the caller's offset."""
    return name in table.c and not isinstance(table.c[name].type, DateTime | Date | Time)


def fixed(fields: Fields) -> bool:
    """Whether a selection can be kept with its statement (geo.prepared): no part of it is
    SQL built for one request (Sql), which would make every statement new."""
    return all(_fixed(part) for _, part in fields)


def _fixed(part: Part) -> bool:
    match part:
        case Sql():
            return False
        case Nested(fields) | Related(_, _, fields):
            return fixed(fields)
    return True


@dataclass(frozen=True)
class Row:
    """What the parts of one row are read from."""

    layer: Layer
    caller: Caller
    distance: ColumnElement[float] | None = None
    cursor: ColumnElement[str] | None = None


def json_object(row: Row, fields: Fields) -> ColumnElement[Any]:
    if len(fields) > MAX_KEYS:
        raise ValueError(f"a compiled object holds at most {MAX_KEYS} keys")
    pairs = [part for key, value in fields for part in (literal(key), _value(row, value))]
    return func.json_build_object(*pairs)


def _value(row: Row, part: Part) -> ColumnElement[Any]:
    table = row.layer.table
    match part:
        case Column(name):
            return table.c[name]
        case Constant(value):
            return literal(value)
        case NodeId():
            return row.layer.global_id(table.c.id)
        case Cursor():
            assert row.cursor is not None, "a cursor is read from a page"
            return row.cursor
        case Distance():
            return literal(None) if row.distance is None else row.distance
        case Geometry(column, crs):
            drawn = table.c[column or row.layer.geometry_column]
            return as_geojson(drawn, crs).cast(JSON)
        case Sql(expression):
            return expression
        case Nested(fields):
            return json_object(row, fields)
        case Related(layer, key, fields):
            # Correlated: one index lookup per row, in the same statement.
            scope = visible(layer, row.caller)
            one = select(json_object(Row(layer, row.caller), fields)).where(
                layer.table.c.id == table.c[key], *([] if scope is None else [scope])
            )
            return one.scalar_subquery()
    raise TypeError(f"not a part of a selection: {part!r}")
