"""Filters of OGC API – Features as SQL over a collection's queryables: CQL2 (Part 3) parsed by
the cql2 package, property equality and `datetime` (Part 1). Spatial predicates and `areaCode`
compile through geo.filters, as GraphQL's SpatialFilter does; anything else is BadInput naming
what is not supported, so that a filter never reaches the database unchecked."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import cql2
from sqlalchemy import ColumnElement, String, and_, false, not_, or_, true
from sqlalchemy.orm import Session

from geo import days
from geo.errors import BadInput, NotFound
from geo.features import AREA_CODE, Collection, Frame, json_schema
from geo.filters import Near, SpatialFilter, compile_filter

MAX_FILTER_CHARS = 8_000
MAX_DEPTH = 32  # nested operators; real filters nest a handful
MAX_ARGUMENTS = 1_000  # members of an IN list, terms of an AND
# cql2 parses recursively in Rust, and overflows an 8 MB stack (SIGSEGV: the whole worker
# dies) at ~1,500 nested parentheses. 8,000 characters nest at most ~4,000 deep, which needs
# ~25 MB: filters are parsed on a thread of their own with this much (address space only).
PARSER_STACK_BYTES = 64 * 1024 * 1024
GEOMETRY = "geometry"
METRES = {"meters": 1.0, "metres": 1.0, "m": 1.0, "kilometers": 1000.0, "km": 1000.0}
COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
SPATIAL = ("s_intersects", "s_within", "s_dwithin")
LANGUAGES = ("cql2-text", "cql2-json")


def parse(text: str, language: str = "cql2-text") -> Any:
    """The filter as CQL2-JSON, or BadInput saying where it does not parse."""
    if language not in LANGUAGES:
        raise BadInput(f"filter-lang must be {' or '.join(LANGUAGES)}, not {language!r}")
    if len(text) > MAX_FILTER_CHARS:
        raise BadInput(f"the filter is {len(text):,} characters; at most {MAX_FILTER_CHARS:,}")
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            parsed = cql2.parse_text(text) if language == "cql2-text" else cql2.parse_json(text)
            result["value"] = parsed.to_json()
        except (cql2.ParseError, cql2.ValidationError, ValueError) as error:
            result["error"] = error

    previous = threading.stack_size(PARSER_STACK_BYTES)
    try:
        parser = threading.Thread(target=work, name="cql2-parser")
        parser.start()
    finally:
        threading.stack_size(previous)
    parser.join()
    if "error" in result:
        raise BadInput(f"the filter is not {language}: {' '.join(str(result['error']).split())}")
    return result["value"]


def compile_cql2(
    session: Session, collection: Collection, expression: Any, frame: Frame
) -> ColumnElement[bool]:
    """A CQL2-JSON expression as one WHERE clause; geometries in it are in `frame`."""
    return _Compiler(session, collection, frame).boolean(expression, 0)


def equality(session: Session, collection: Collection, name: str, text: str) -> ColumnElement[bool]:
    """`?name=value`: a queryable equal to a value written as text."""
    compiler = _Compiler(session, collection, Frame())
    if name == AREA_CODE:
        return compiler.area(text)
    return COMPARISONS["="](compiler.property(name), compiler.value(name, text, from_text=True))


def during(collection: Collection, interval: str) -> ColumnElement[bool]:
    """`datetime`: an instant or an interval (`start/end`, either end `..` or empty: open)."""
    if collection.time is None:
        raise BadInput(f"{collection.id} has no time to filter by; leave out datetime")
    column = collection.extra[collection.time]
    if "/" not in interval:
        start, end = _bounds(interval)
        return and_(column >= start, column < end)
    first, _, last = interval.partition("/")
    clauses = []
    if first not in ("", ".."):
        clauses.append(column >= _bounds(first)[0])
    if last not in ("", ".."):
        clauses.append(column < _bounds(last)[1])
    if not clauses:
        raise BadInput("datetime '../..' bounds nothing; leave it out")
    return and_(*clauses)


def _bounds(text: str) -> tuple[datetime, datetime]:
    """An instant as [it, it], a date as its day in Asia/Shanghai: [start, next midnight)."""
    if len(text) == 10:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise BadInput(f"{text!r} is not a date such as 2020-02-27") from None
        return days.day_bounds(day)
    instant = _instant(text)
    return instant, instant + timedelta(microseconds=1)


def _instant(text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{text!r} is not an RFC 3339 time such as 2020-02-27T08:00:00Z") from None
    if instant.tzinfo is None:
        raise BadInput(f"{text!r} needs an offset, such as Z or +08:00")
    return instant


class _Compiler:
    def __init__(self, session: Session, collection: Collection, frame: Frame) -> None:
        self.session = session
        self.collection = collection
        self.frame = frame

    def boolean(self, node: Any, depth: int) -> ColumnElement[bool]:
        if depth > MAX_DEPTH:
            raise BadInput(f"the filter nests deeper than {MAX_DEPTH} operators")
        if isinstance(node, bool):
            return true() if node else false()
        if not isinstance(node, dict) or not isinstance(node.get("op"), str):
            raise BadInput(f"the filter has {_shown(node)} where a condition belongs")
        op, args = node["op"].lower(), node.get("args")
        if not isinstance(args, list) or len(args) > MAX_ARGUMENTS:
            raise BadInput(f"{op} needs a list of at most {MAX_ARGUMENTS} arguments")
        if op in ("and", "or"):
            parts = [self.boolean(arg, depth + 1) for arg in args]
            return and_(*parts) if op == "and" else or_(*parts)
        if op == "not":
            return not_(self.boolean(_one(op, args), depth + 1))
        if op in SPATIAL:
            return self.spatial(op, args)
        return self.predicate(op, args)

    def predicate(self, op: str, args: list[Any]) -> ColumnElement[bool]:
        name = _property(op, args[0] if args else None)
        if name == AREA_CODE:
            if op != "=" or len(args) != 2 or not isinstance(args[1], str):
                raise BadInput(f"{AREA_CODE} takes = and a code, as in {AREA_CODE} = '350112109'")
            return self.area(args[1])
        column = self.property(name)
        if op in COMPARISONS and len(args) == 2:
            return COMPARISONS[op](column, self.value(name, args[1]))
        if op == "like" and len(args) == 2 and isinstance(args[1], str):
            if json_schema(column)["type"] != "string":
                raise BadInput(f"LIKE compares text; {name} is not text")
            return column.cast(String).like(args[1])
        if op == "isnull" and len(args) == 1:
            return column.is_(None)
        if op == "in" and len(args) == 2 and isinstance(args[1], list):
            return column.in_([self.value(name, value) for value in args[1]])
        if op == "between" and len(args) == 3:
            return column.between(self.value(name, args[1]), self.value(name, args[2]))
        raise BadInput(
            f"{op} is not supported here; filters take =, <>, <, <=, >, >=, LIKE, IN, BETWEEN,"
            f" IS NULL, AND, OR, NOT, {', '.join(s.upper() for s in SPATIAL)}"
        )

    def property(self, name: str) -> ColumnElement[Any]:
        properties = self.collection.properties
        if name not in properties:
            known = ", ".join([*properties, GEOMETRY])
            raise BadInput(f"{name!r} is not a queryable of {self.collection.id}; it has {known}")
        return properties[name]

    def value(self, name: str, value: Any, from_text: bool = False) -> Any:
        """The literal checked against the property's type, so the database never sees a
        value it cannot compare (an unknown enum member would be an SQL error)."""
        schema = json_schema(self.property(name))
        kind = schema["type"]
        if isinstance(value, dict) and set(value) <= {"timestamp", "date"} and len(value) == 1:
            value = next(iter(value.values()))
        if kind == "string" and schema.get("format") == "date-time" and isinstance(value, str):
            return _bounds(value)[0]
        if kind in ("integer", "number"):
            number = _number(value, from_text)
            if kind == "integer" and number != int(number):
                raise BadInput(f"{name} is a whole number, not {value!r}")
            return int(number) if kind == "integer" else number
        if kind == "boolean":
            if from_text and value in ("true", "false"):
                return value == "true"
            if isinstance(value, bool):
                return value
            raise BadInput(f"{name} is true or false, not {_shown(value)}")
        if not isinstance(value, str):
            raise BadInput(f"{name} is text; write the value in quotes, not {_shown(value)}")
        if "enum" in schema and value not in schema["enum"]:
            raise BadInput(f"{name} is one of {', '.join(schema['enum'])}, not {value!r}")
        return value

    def area(self, code: str) -> ColumnElement[bool]:
        try:
            return self._compiled(SpatialFilter(area_code=code))
        except NotFound as error:  # a filter's value, not the resource asked for
            raise BadInput(error.message) from None

    def spatial(self, op: str, args: list[Any]) -> ColumnElement[bool]:
        if len(args) < 2 or _property(op, args[0]) != GEOMETRY:
            raise BadInput(f"{op.upper()} compares the property {GEOMETRY} with a geometry")
        shape, crs = self.geometry(args[1]), self.frame.crs
        if op == "s_intersects" and isinstance(shape, list):
            return self._compiled(SpatialFilter(bbox=shape, crs=crs))
        if isinstance(shape, list):
            raise BadInput(f"{op.upper()} takes a geometry; BBOX(...) only goes with S_INTERSECTS")
        if op == "s_intersects" and len(args) == 2:
            return self._compiled(SpatialFilter(intersects=shape, crs=crs))
        if op == "s_within" and len(args) == 2:
            return self._compiled(SpatialFilter(within=shape, crs=crs))
        if op == "s_dwithin" and len(args) in (3, 4):
            if shape.get("type") != "Point":
                raise BadInput("S_DWITHIN is supported around a POINT; S_INTERSECTS takes any")
            return self._compiled(SpatialFilter(near=Near(shape, self.metres(args)), crs=crs))
        raise BadInput(f"{op.upper()} has the wrong number of arguments")

    def geometry(self, value: Any) -> Any:
        """A GeoJSON geometry (or a BBOX's four numbers) in longitude, latitude order."""
        if isinstance(value, dict) and isinstance(value.get("bbox"), list):
            box = value["bbox"]
            if len(box) != 4 or not all(_is_number(n) for n in box):
                raise BadInput("BBOX takes four numbers")
            return [box[1], box[0], box[3], box[2]] if self.frame.lat_lon else list(box)
        if not isinstance(value, dict) or "type" not in value:
            raise BadInput(f"expected a geometry, such as POINT(119.5 25.9), not {_shown(value)}")
        return _swapped(value) if self.frame.lat_lon else value

    @staticmethod
    def metres(args: list[Any]) -> float:
        distance = args[2]
        if not _is_number(distance):
            raise BadInput("S_DWITHIN's distance must be a number")
        unit = _property("S_DWITHIN", args[3]) if len(args) == 4 else "meters"
        if unit.lower() not in METRES:
            raise BadInput(f"S_DWITHIN's distance is in {' or '.join(METRES)}, not {unit!r}")
        return float(distance) * METRES[unit.lower()]

    def _compiled(self, spatial: SpatialFilter) -> ColumnElement[bool]:
        # Only the clauses: S_DWITHIN filters, and the page keeps its order by id.
        return and_(*compile_filter(self.session, self.collection.layer, spatial).clauses)


def _property(op: str, node: Any) -> str:
    if not isinstance(node, dict) or not isinstance(node.get("property"), str):
        raise BadInput(f"{op} compares a property (a queryable name) first, not {_shown(node)}")
    return node["property"]


def _one(op: str, args: list[Any]) -> Any:
    if len(args) != 1:
        raise BadInput(f"{op} takes one condition")
    return args[0]


def _number(value: Any, from_text: bool) -> float:
    if from_text and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise BadInput(f"{value!r} is not a number") from None
    if not _is_number(value):
        raise BadInput(f"expected a number, not {_shown(value)}")
    return float(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _swapped(geometry: Any) -> Any:
    """GeoJSON written latitude first (EPSG:4326 as OGC API reads it), turned longitude first."""

    def swap(coordinates: Any) -> Any:
        if isinstance(coordinates, list) and coordinates and _is_number(coordinates[0]):
            return [coordinates[1], coordinates[0], *coordinates[2:]]
        return [swap(c) for c in coordinates] if isinstance(coordinates, list) else coordinates

    if geometry.get("type") == "GeometryCollection":
        return {**geometry, "geometries": [_swapped(g) for g in geometry.get("geometries", [])]}
    return {**geometry, "coordinates": swap(geometry.get("coordinates"))}


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
