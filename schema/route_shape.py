"""The selection of `inspectionRoute`'s routes and unvisited targets as a geo answer shape
(geo/routing/answer.py), so that a repeated pull is cut from the stored plan by PostgreSQL; None
where the selection asks for what the stored plan does not hold (a target's other fields,
navigation links, a geometry in another CRS), or where GraphQL would merge or skip."""

from __future__ import annotations

from typing import Any

from graphql import FieldNode, SelectionSetNode

from geo.routing import answer
from geo.targets import TargetKind
from schema import framework, selections


class _NotCut(Exception):
    pass


def route_shape(info: Any) -> answer.Shape | None:
    raw = framework.raw_info(info)
    if len(raw.field_nodes) != 1:
        return None
    try:
        fields = _fields(raw, raw.field_nodes[0].selection_set, "InspectionPlan")
    except _NotCut:
        return None
    found = {name: [f for f in fields if f.name.value == name] for name in ("routes", "unvisited")}
    return answer.Shape(
        routes=_cut(lambda: _routes(raw, found["routes"][0]))
        if len(found["routes"]) == 1
        else None,
        unvisited=(
            _cut(lambda: _target(raw, found["unvisited"][0].selection_set))
            if len(found["unvisited"]) == 1
            else None
        ),
    )


def _cut(make: Any) -> Any:
    try:
        return make()
    except _NotCut:
        return None


def _routes(raw: Any, node: FieldNode) -> answer.RouteShape:
    plain, stops = [], None
    for field in _fields(raw, node.selection_set, "Route"):
        name, key = field.name.value, _key(field)
        if name == "stops":
            stops = (key, _stops(raw, field))
        else:
            plain.append((key, _plain(field, answer.ROUTE_FIELDS, "Route")))
    return answer.RouteShape(tuple(plain), stops)


def _stops(raw: Any, node: FieldNode) -> answer.StopShape:
    plain, target = [], None
    for field in _fields(raw, node.selection_set, "RouteStop"):
        name, key = field.name.value, _key(field)
        if name == "target":
            target = (key, _target(raw, field.selection_set))
        else:
            plain.append((key, _plain(field, answer.STOP_FIELDS, "RouteStop")))
    return answer.StopShape(tuple(plain), target)


def _plain(field: FieldNode, known: dict[str, str], type_name: str) -> str:
    name = field.name.value
    if field.arguments or field.selection_set is not None and name != "__typename":
        raise _NotCut
    if name == "__typename":
        return f"to_json(text '{type_name}')"
    if name not in known:
        raise _NotCut
    return known[name]


def _target(raw: Any, selection_set: SelectionSetNode | None) -> answer.TargetShape:
    by_kind: dict[TargetKind, list[tuple[str, str, str]]] = {kind: [] for kind in TargetKind}
    for selected in selections.spread(selection_set, raw.fragments):
        node = selected.node
        if node.directives or (not isinstance(node, FieldNode) and selected.fragment is None):
            raise _NotCut
        if not isinstance(node, FieldNode):
            continue
        if node.arguments or node.selection_set is not None:
            raise _NotCut
        for kind, fields in by_kind.items():
            if _applies(raw, selected.on, kind):
                _add(fields, _key(node), node.name.value, _target_field(kind, node.name.value))
    return answer.TargetShape(
        tuple(
            (kind, tuple((key, sql) for key, _, sql in fields)) for kind, fields in by_kind.items()
        )
    )


def _target_field(kind: TargetKind, name: str) -> str:
    if name == "name" and kind in answer.NAMED:
        return answer.NAME
    if name not in answer.TARGET_FIELDS:
        raise _NotCut
    return answer.TARGET_FIELDS[name]


def _applies(raw: Any, on: str | None, kind: TargetKind) -> bool:
    if on is None or on == "InspectionTarget":
        return True
    type_ = raw.schema.get_type(kind.value)
    return on == kind.value or on in {i.name for i in type_.interfaces}


def _add(fields: list[tuple[str, str, str]], key: str, name: str, sql: str) -> None:
    """GraphQL merges a response key met again: the same field only."""
    for known_key, known_name, _ in fields:
        if known_key == key:
            if known_name != name:
                raise _NotCut
            return
    fields.append((key, name, sql))


def _fields(raw: Any, selection_set: SelectionSetNode | None, type_name: str) -> list[FieldNode]:
    """The fields selected on an object type, fragments spread; a repeated key or a directive
    is left to the executor."""
    found: list[FieldNode] = []
    for selected in selections.spread(selection_set, raw.fragments):
        node = selected.node
        if node.directives:
            raise _NotCut
        if isinstance(node, FieldNode):
            if selected.on not in (None, type_name):
                raise _NotCut
            found.append(node)
        elif selected.fragment is None:
            raise _NotCut
    keys = [_key(node) for node in found]
    if len(set(keys)) != len(keys):
        raise _NotCut
    return found


def _key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value
