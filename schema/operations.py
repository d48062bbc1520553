"""Operations answered wholly from what PostgreSQL built, as PostGraphile answers them: when
every field a query selects is read by SQL (a FeatureCollection, typed pages whose edges
compile, flag counts), the answer is put together from the database's rows and JSON, and
graphql-core neither resolves nor completes a single field of it.

The rows are read by the resolvers' own functions (schema/query.py, schema/flags.py), so scope,
row-level security and argument checks are theirs. Anything else goes field by field as before:
personal data (masked and audited), a field loaded per row, a directive, introspection, a
WebSocket, and a query that fails on the way (a bad argument, a missing area), so that its
error is the resolver's, with its path and code.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from enum import Enum
from typing import Any, NamedTuple

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLField,
    GraphQLSchema,
    OperationType,
    get_named_type,
    get_operation_ast,
)
from graphql.execution.values import VariableValues, get_variable_values
from sqlalchemy.exc import DBAPIError
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext, ExecutionResult

from geo import selection
from geo.errors import FugongError
from geo.flag_counts import AreaFlagCounts
from geo.layers import AREAS
from geo.prepared import prepared
from schema import framework
from schema.compiled import NotCompiled, compiled_edges, connection_edges, fields, key
from schema.compiled import object_fields as compiled_object
from schema.context import Context
from schema.documents import variables_key
from schema.flags import read_flag_counts
from schema.query import count_rows, feature_collection, read_page
from schema.types import NODE_TYPES, global_id

Read = Callable[[Context], Awaitable[Any]]  # one root field's answer, as JSON orjson writes


class Query(NamedTuple):
    """What compiling reads of a request (the names of graphql-core's resolve info, which
    schema/compiled.py's walk reads too)."""

    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variable_values: VariableValues
    strawberry: Any  # the strawberry.Schema: how arguments become the resolvers' own types


class CompiledOperations(SchemaExtension):
    """Answers a compilable query before graphql-core would execute it."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if isinstance(context, Context) and not context.websocket and execution.result is None:
            execution.result = await answer(execution, context)
        yield


async def answer(execution: ExecutionContext, context: Context) -> ExecutionResult | None:
    """The query's result, or None when it is to be resolved field by field."""
    reads = plan(execution)
    if reads is None:
        return None
    data: dict[str, Any] = {}
    for response_key, read in reads:
        try:
            data[response_key] = await read(context)
        except (FugongError, NotCompiled):
            return None  # field by field, which reports the error where it belongs
        except DBAPIError as error:
            # Not again field by field: a timeout or an outage would be waited for twice.
            # schema/errors.py codes it as it codes a resolver's.
            failed = GraphQLError(str(error.orig), path=[response_key], original_error=error)
            return ExecutionResult(data=None, errors=[failed])
    return ExecutionResult(data=data, errors=None)


def plan(execution: ExecutionContext) -> list[tuple[str, Read]] | None:
    """The reads of each root field, planned once per document and variables: clients send
    the same few queries over and over. Long variables (a drawn polygon) are planned afresh."""
    variables = variables_key(execution.variables)
    if variables is None:
        return _plan(execution)
    key = ("operation", execution.schema, execution.query, execution.operation_name, variables)
    return prepared(key, lambda: (_plan(execution),))[0]


def _plan(execution: ExecutionContext) -> list[tuple[str, Read]] | None:
    schema = framework.core_schema(execution.schema)
    document = execution.graphql_document
    assert document is not None  # execution only follows a parse
    operation = get_operation_ast(document, execution.operation_name)
    if operation is None or operation.operation is not OperationType.QUERY or operation.directives:
        return None
    variables = get_variable_values(
        schema, operation.variable_definitions or (), execution.variables or {}
    )
    if isinstance(variables, list):  # they do not fit their types: graphql-core says how
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    query = Query(schema, fragments, variables, execution.schema)
    root = schema.query_type
    assert root is not None
    try:
        return [
            (key(node), _root(query, node)) for node in fields(query, operation.selection_set, root)
        ]
    except (NotCompiled, GraphQLError):  # an argument that graphql-core would refuse
        return None


def _root(query: Query, node: FieldNode) -> Read:
    name = node.name.value
    if name == "__typename":
        return _constant("Query")
    compile_root = ROOTS.get(name)
    if compile_root is None:
        raise NotCompiled
    field = query.schema.query_type.fields[name]  # type: ignore[union-attr]
    arguments = framework.resolver_arguments(query.strawberry, field, node, query.variable_values)
    return compile_root(query, node, field, arguments)


def _constant(value: Any) -> Read:
    async def read(_: Context) -> Any:
        return value

    return read


def _features(query: Query, node: FieldNode, field: GraphQLField, arguments: Any) -> Read:
    async def read(context: Context) -> Any:
        layer = arguments["layer"].data
        return await feature_collection(
            context, layer, arguments["where"], arguments["crs"], arguments["limit"]
        )

    return read


def _page(query: Query, node: FieldNode, field: GraphQLField, arguments: Any) -> Read:
    """A connection: its edges compiled (schema/compiled.py), pageInfo, totalCount."""
    connection = get_named_type(field.type)
    edge_type = get_named_type(connection.fields["edges"].type)  # type: ignore[union-attr]
    node_type = get_named_type(edge_type.fields["node"].type)
    layer = NODE_TYPES[node_type.name].layer
    edge = connection_edges(query, node, connection, layer)
    shown = _picked(query, node, connection, ("edges", "pageInfo", "totalCount"))
    page_info = {
        key(n): _picked(
            query,
            n,
            get_named_type(connection.fields["pageInfo"].type),
            ("hasNextPage", "endCursor"),
        )
        for n in fields(query, node.selection_set, connection)
        if n.name.value == "pageInfo"
    }
    where, flag = arguments["where"], arguments.get("flag")

    async def read(context: Context) -> Any:
        page = await read_page(
            context, layer, where, flag, arguments["first"], arguments["after"], edge
        )
        facts = {"hasNextPage": page.has_next, "endCursor": page.end_cursor}
        answer: dict[str, Any] = {}
        for response_key, name in shown:
            if name == "edges":
                answer[response_key] = compiled_edges(page.rows).json
            elif name == "totalCount":
                answer[response_key] = await count_rows(context, layer, where, flag)
            elif name == "pageInfo":
                answer[response_key] = _values(page_info[response_key], facts, "PageInfo")
            else:
                answer[response_key] = connection.name
        return answer

    return read


def _flag_counts(query: Query, node: FieldNode, field: GraphQLField, arguments: Any) -> Read:
    """flagCounts: each area's columns and its counts, in the order asked."""
    item = get_named_type(field.type)
    shown: list[tuple[str, Callable[[AreaFlagCounts], Any]]] = []
    for selected in fields(query, node.selection_set, item):
        name = selected.name.value
        if name == "area":
            area = _read_whole(compiled_object(query, selected, _type(query, "Area"), AREAS))
            shown.append((key(selected), lambda row, area=area: _from_row(row.area, area)))
        elif name == "counts":
            counts_type, tallies = _type(query, "FlagCounts"), ("green", "yellow", "red", "total")
            counts = _picked(query, selected, counts_type, tallies)
            shown.append(
                (key(selected), lambda row, counts=counts: _values(counts, row, "FlagCounts"))
            )
        elif name == "__typename":
            shown.append((key(selected), lambda _: item.name))
        else:
            raise NotCompiled

    async def read(context: Context) -> Any:
        rows = await read_flag_counts(context, arguments["area_code"], arguments["date"])
        return [{response_key: value(row) for response_key, value in shown} for row in rows]

    return read


def _type(query: Query, name: str) -> Any:
    return query.schema.get_type(name)


def _picked(
    query: Query, node: FieldNode, type_: Any, names: tuple[str, ...]
) -> list[tuple[str, str]]:
    """The response keys and field names selected of `type_`, each one of `names` or
    __typename; anything else is not compiled."""
    chosen = [(key(n), n.name.value) for n in fields(query, node.selection_set, type_)]
    if any(name not in names and name != "__typename" for _, name in chosen):
        raise NotCompiled
    return chosen


def _values(chosen: list[tuple[str, str]], values: Any, typename: str) -> dict[str, Any]:
    """The fields chosen of `values` (a mapping, or an object of those attributes)."""
    read = values.get if isinstance(values, dict) else functools.partial(getattr, values)
    return {k: typename if name == "__typename" else read(name) for k, name in chosen}


def _read_whole(parts: selection.Fields) -> selection.Fields:
    """Parts that Python reads from a row read whole (flag counts' areas): columns, ids."""
    if not all(
        isinstance(p, selection.Column | selection.NodeId | selection.Constant) for _, p in parts
    ):
        raise NotCompiled
    return parts


def _from_row(row: Any, parts: selection.Fields) -> dict[str, Any]:
    """An area's selection, as GraphQL writes each of its columns."""
    answer: dict[str, Any] = {}
    for response_key, part in parts:
        match part:
            case selection.Column(name):
                value = row[name]
                answer[response_key] = value.name if isinstance(value, Enum) else value
            case selection.NodeId():
                answer[response_key] = global_id(AREAS.type_name, row["id"])
            case selection.Constant(value):
                answer[response_key] = value
    return answer


ROOTS: dict[str, Callable[[Query, FieldNode, GraphQLField, Any], Read]] = {
    "features": _features,
    "enterprises": _page,
    "rentalProperties": _page,
    "constructionSites": _page,
    "flagCounts": _flag_counts,
}
