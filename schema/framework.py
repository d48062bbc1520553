"""Every reach into strawberry's and graphql-core's internals, in one place: private
attributes, internal modules and overridden internal methods. tests/schema/test_framework.py
fails loudly, naming the reach, when an upgrade moves one of them; nothing else in fugong
imports from inside these packages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
import strawberry
from cross_web import HTTPException  # what strawberry's HTTP views turn into an error response
from graphql import (
    ArgumentNode,
    FieldNode,
    GraphQLField,
    GraphQLList,
    GraphQLOutputType,
    GraphQLSchema,
)
from graphql import GraphQLResolveInfo as RawInfo
from graphql.execution.values import VariableValues, get_argument_values
from strawberry.http.websocket_origin import normalize_allowed_origins, normalize_origin
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types import Info
from strawberry.types.arguments import convert_arguments as convert_resolver_arguments
from strawberry.types.execution import PreExecutionError
from strawberry.types.nodes import convert_arguments

__all__ = [
    "HTTPException", "InvalidOperationTypeError", "PassThroughExecution", "PreExecutionError",
    "RawInfo", "arguments", "core_schema", "field_metadata", "normalize_allowed_origins",
    "normalize_origin", "raw_info", "resolver_arguments",
]  # fmt: skip


def raw_info(info: Info[Any, Any]) -> RawInfo:
    """graphql-core's resolve info under strawberry's: the field nodes, fragments, schema."""
    return info._raw_info


def core_schema(schema: strawberry.Schema) -> GraphQLSchema:
    """The graphql-core schema a strawberry schema was converted to."""
    return schema._schema


def field_metadata(field: GraphQLField) -> Mapping[str, Any]:
    """The `metadata` a strawberry.field was declared with; empty for fields strawberry did not
    declare (introspection)."""
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    return getattr(definition, "metadata", None) or {}


def arguments(
    info: RawInfo, nodes: list[ArgumentNode] | tuple[ArgumentNode, ...]
) -> dict[str, Any]:
    """A field node's arguments as strawberry would pass them, variables bound."""
    return convert_arguments(info, nodes)  # type: ignore[no-any-return]


def resolver_arguments(
    schema: strawberry.Schema, field: GraphQLField, node: FieldNode, variables: VariableValues
) -> dict[str, Any]:
    """A field node's arguments as strawberry passes them to the field's resolver: by their
    Python names, defaults filled in, inputs and enums made the resolver's own types."""
    definition = (field.extensions or {})[GraphQLCoreConverter.DEFINITION_BACKREF]
    return convert_resolver_arguments(  # type: ignore[no-any-return]
        get_argument_values(field, node, variables),
        definition.arguments,
        scalar_registry=schema.schema_converter.scalar_registry,
        config=schema.config,
    )


class PassThroughExecution(StrawberryGraphQLCoreExecutionContext):
    """Completes a list the database built (an orjson.Fragment: compiled edges) untouched;
    orjson writes it into the response as it is."""

    def complete_list_value(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_details_list: Any,
        info: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        if isinstance(result, orjson.Fragment):
            return result
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )
