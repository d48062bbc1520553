"""Typed pages answered by PostgreSQL: the edges a query selects, compiled into JSON the database
builds (geo.selection), as PostGraphile compiles queries. Python GraphQL spends microseconds on
every field of every row; a page of 1,000 rows of ten fields is then most of a request.

A field says how it is read from a row in its metadata (SQL); a selection holding anything else
(personal data, which is audited; timestamps; lists loaded per row) is not compiled, and the
page is resolved field by field as before. Compiled edges (CompiledEdges) reach the response
as an orjson.Fragment, which the executor (framework.PassThroughExecution) passes through and
orjson writes out as it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    FieldNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    SelectionSetNode,
    get_named_type,
)

from geo import selection
from geo.crs import Crs as GeoCrs
from geo.layers import Layer
from schema import framework, selections

SQL = "sql"  # the metadata key of a field's geo.selection part


class NotCompiled(Exception):
    """The selection needs Python somewhere: resolve it field by field."""


def edge_selection(info: Any, layer: Layer) -> selection.Fields | None:
    """The connection's `edges { … }` as a geo selection, or None when it cannot be compiled."""
    raw = framework.raw_info(info)
    if len(raw.field_nodes) != 1:
        return None
    try:
        return connection_edges(raw, raw.field_nodes[0], get_named_type(raw.return_type), layer)
    except NotCompiled:
        return None


def connection_edges(
    raw: Any, field: FieldNode, connection: Any, layer: Layer
) -> selection.Fields | None:
    """`edges { … }` of a connection field as a geo selection; None when it is not selected.
    `raw` is what the walk reads of a query: its schema, fragments and variable_values."""
    edges = [
        node for node in fields(raw, field.selection_set, connection) if node.name.value == "edges"
    ]
    if len(edges) > 1:
        raise NotCompiled
    if not edges:
        return None
    edge_type = get_named_type(connection.fields["edges"].type)
    return _edge(raw, edges[0], edge_type, layer)


@dataclass(frozen=True)
class CompiledEdges:
    """A page's edges as the JSON PostgreSQL built for them, one `edge` per row."""

    json: orjson.Fragment

    def as_list(self) -> Any:
        """What `edges` resolves to: the Fragment, which framework.PassThroughExecution
        completes untouched, standing where GraphQL expects the list."""
        return self.json


def compiled_edges(rows: list[Any]) -> CompiledEdges:
    return CompiledEdges(
        orjson.Fragment(("[" + ",".join(row["edge"] for row in rows) + "]").encode())
    )


def _edge(raw: Any, edges: FieldNode, edge_type: Any, layer: Layer) -> selection.Fields:
    parts: list[tuple[str, selection.Part]] = []
    for node in fields(raw, edges.selection_set, edge_type):
        name = node.name.value
        if name == "cursor":
            parts.append((key(node), selection.Cursor()))
        elif name == "node":
            node_type = get_named_type(edge_type.fields["node"].type)
            parts.append((key(node), selection.Nested(object_fields(raw, node, node_type, layer))))
        else:
            raise NotCompiled
    return tuple(parts)


def object_fields(
    raw: Any, field: FieldNode, type_: Any, layer: Layer, reads: dict[str, Any] | None = None
) -> selection.Fields:
    """The sub-selection of `type_` as parts: each field's from its metadata, or from `reads`
    (what each field of an object made of the same row reads, such as a flag's)."""
    parts: list[tuple[str, selection.Part]] = []
    for node in fields(raw, field.selection_set, type_):
        name = node.name.value
        if name == "__typename":
            parts.append((key(node), selection.Constant(type_.name)))
            continue
        definition = type_.fields.get(name)
        if definition is None:  # introspection: graphql-core answers it
            raise NotCompiled
        if reads is None:
            part = framework.field_metadata(definition).get(SQL)
        else:
            part = reads.get(name)
        parts.append((key(node), _bound(raw, node, part, get_named_type(definition.type), layer)))
    if len(parts) > selection.MAX_KEYS:
        raise NotCompiled
    return tuple(parts)


def _bound(raw: Any, node: FieldNode, part: Any, type_: Any, layer: Layer) -> selection.Part:
    """The field's part, given its arguments and its sub-selection of `type_`."""
    match part:
        case selection.Column(name) if selection.plain(layer.table, name):
            return part
        case selection.NodeId() | selection.Distance():
            return part
        case selection.Geometry(column):
            crs = framework.arguments(raw, node.arguments).get("crs")
            return selection.Geometry(column, GeoCrs(getattr(crs, "value", crs or "WGS84")))
        case selection.Nested(available):
            return selection.Nested(object_fields(raw, node, type_, layer, dict(available)))
        case selection.Related(related, column):
            related_type = raw.schema.get_type(related.type_name)
            return selection.Related(
                related, column, object_fields(raw, node, related_type, related)
            )
    raise NotCompiled


def fields(raw: Any, selection_set: SelectionSetNode | None, type_: Any) -> list[FieldNode]:
    """The fields selected on `type_`, fragments spread; refused where GraphQL would merge or
    skip (a repeated response key, a directive), which the executor does better."""
    found: list[FieldNode] = []
    for selected in selections.spread(selection_set, raw.fragments):
        node, fragment = selected.node, selected.fragment
        if node.directives:
            raise NotCompiled
        if isinstance(node, FieldNode):
            found.append(node)
            continue
        if fragment is None or fragment.directives:
            raise NotCompiled
        condition = fragment.type_condition
        if condition is not None and condition.name.value not in _names(type_):
            raise NotCompiled
    keys = [key(node) for node in found]
    if len(set(keys)) != len(keys):
        raise NotCompiled
    return found


def _names(type_: Any) -> set[str]:
    if not isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
        return set()
    return {type_.name, *(interface.name for interface in type_.interfaces)}


def key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value
