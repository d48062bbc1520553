"""A stored plan's routes and unvisited targets as the JSON a client's selection asks for, built
by PostgreSQL from the plan `route_plan` stores (codec.py's JSON): the answer to a repeated pull
is cut from what was stored, with no Python per stop. A shape names, in the client's order,
each response key and the field of the plan it reads; what a shape cannot name (a target's
other columns, navigation links) is answered by the resolvers instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from geo.due import Priority
from geo.targets import TargetKind

# A route's, a stop's and a target's fields by their GraphQL names, as SQL over the stored JSON
# (r: a route, s: a stop, n: its place in the route, x: a stop or an unvisited target).
ROUTE_FIELDS = {
    "distanceMeters": "r->'distance_m'",
    "durationMinutes": "r->'duration_min'",
    "geometry": "json_build_object('type', 'LineString', 'coordinates', r->'line')",
}
_PRIORITIES = " ".join(f"WHEN {int(p)} THEN '{p.name}'" for p in Priority)
STOP_FIELDS = {
    "sequence": "to_json(n)",
    "reason": "s->'reason'",
    "priority": f"to_json(CASE CAST(s->>'priority' AS int) {_PRIORITIES} END)",
    "plannedArrival": "s->'arrival'",
    "visited": "to_json(concat(s->>'kind', ':', s->>'id') = ANY(seen.ids))",
}
TARGET_FIELDS = {
    "id": "to_json(concat(x->>'kind', ':', x->>'id'))",
    "__typename": "x->'kind'",  # a kind's value is its GraphQL type name
}
NAMED = (TargetKind.ENTERPRISE, TargetKind.CONSTRUCTION_SITE)  # whose `name` a plan holds
NAME = "x->'name'"

Fields = tuple[tuple[str, str], ...]  # (response key, SQL)


@dataclass(frozen=True)
class TargetShape:
    by_kind: tuple[tuple[TargetKind, Fields], ...]  # each kind's fields, as its fragments ask


@dataclass(frozen=True)
class StopShape:
    fields: Fields
    target: tuple[str, TargetShape] | None  # its response key and shape, if asked for


@dataclass(frozen=True)
class RouteShape:
    fields: Fields
    stops: tuple[str, StopShape] | None


@dataclass(frozen=True)
class Shape:
    routes: RouteShape | None
    unvisited: TargetShape | None


def _object(fields: Fields, *nested: tuple[str, str]) -> str:
    pairs = [*fields, *nested]
    # Response keys are GraphQL names ([_A-Za-z][_0-9A-Za-z]*): safe between quotes.
    return "json_build_object(" + ", ".join(f"'{key}', {sql}" for key, sql in pairs) + ")"


def _target(shape: TargetShape, source: str) -> str:
    cases = " ".join(
        f"WHEN '{kind.value}' THEN {_object(fields)}" for kind, fields in shape.by_kind
    )
    return f"(SELECT CASE x->>'kind' {cases} END FROM (SELECT {source} AS x) AS one)"  # noqa: S608


def _list(elements: str, item: str, alias: str) -> str:
    return (
        f"(SELECT coalesce(json_agg({item} ORDER BY n), '[]') FROM"  # noqa: S608 (constants)
        f" jsonb_array_elements({elements}) WITH ORDINALITY AS {alias}({alias[0]}, n))"
    )


def _stop(shape: StopShape) -> str:
    nested = [] if shape.target is None else [(shape.target[0], _target(shape.target[1], "s"))]
    return _object(shape.fields, *nested)


def routes_sql(shape: RouteShape) -> str:
    nested = []
    if shape.stops is not None:
        key, stop = shape.stops
        nested.append((key, _list("r->'stops'", _stop(stop), "stop")))
    return _list("p.plan->'routes'", _object(shape.fields, *nested), "route")


def unvisited_sql(shape: TargetShape) -> str:
    return _list("p.plan->'unvisited'", _target(shape, "u"), "unvisited")
