"""Each reach of schema/framework.py into strawberry's and graphql-core's internals, checked
one by one, so that an upgrade that moves one fails here by name, not somewhere deep."""

from __future__ import annotations

import inspect

import orjson
from graphql import GraphQLSchema, parse
from graphql.execution.executor import Executor as CoreExecutor
from graphql.execution.values import get_variable_values
from strawberry.types import Info

from api.app import query_limits
from api.settings import get_settings
from geo.crs import Crs
from schema import build_schema, framework
from schema.query import Layer, SpatialFilterInput


def test_strawberry_info_wraps_graphql_cores_as_raw_info():
    assert "_raw_info" in inspect.signature(Info.__init__).parameters


def test_a_strawberry_schema_holds_its_graphql_core_schema():
    schema = build_schema(query_limits(get_settings()))
    assert isinstance(framework.core_schema(schema), GraphQLSchema)


def test_field_metadata_reads_what_strawberry_field_declared():
    core = framework.core_schema(build_schema(query_limits(get_settings())))
    fields = core.get_type("InspectionPlan").fields  # type: ignore[union-attr]
    assert framework.field_metadata(fields["routes"]) == {"list_size": 20}
    assert framework.field_metadata(core.get_type("__Type").fields["name"]) == {}  # type: ignore[union-attr]


def test_arguments_bind_variables_as_strawberry_does():
    document = parse("query ($c: Crs) { f(crs: $c, n: 3) }")
    node = document.definitions[0].selection_set.selections[0]  # type: ignore[attr-defined]

    class Raw:  # what convert_arguments reads of graphql-core's info
        variable_values = {"c": "GCJ02"}

    # A literal comes back as its source text; compiled.py reads only `crs`, an enum.
    assert framework.arguments(Raw(), node.arguments) == {"crs": "GCJ02", "n": "3"}  # type: ignore[arg-type]


def test_resolver_arguments_are_what_strawberry_passes_a_resolver():
    schema = build_schema(query_limits(get_settings()))
    core = framework.core_schema(schema)
    operation = parse("query ($w: SpatialFilter) { features(layer: AREAS, where: $w) }")
    definition = operation.definitions[0]
    variables = get_variable_values(
        core,
        definition.variable_definitions,  # type: ignore[attr-defined]
        {"w": {"bbox": [119.5, 25.8, 119.6, 25.9]}},
    )
    node = definition.selection_set.selections[0]  # type: ignore[attr-defined]
    field = core.query_type.fields["features"]  # type: ignore[union-attr]
    arguments = framework.resolver_arguments(schema, field, node, variables)  # type: ignore[arg-type]
    assert arguments["layer"] is Layer.AREAS and arguments["limit"] is None
    assert isinstance(arguments["where"], SpatialFilterInput)
    assert arguments["where"].bbox == [119.5, 25.8, 119.6, 25.9]
    assert arguments["crs"] is Crs.WGS84


def test_the_list_completion_overridden_keeps_graphql_cores_signature():
    ours = inspect.signature(framework.PassThroughExecution.complete_list_value)
    theirs = inspect.signature(CoreExecutor.complete_list_value)
    assert list(ours.parameters) == list(theirs.parameters)
    assert issubclass(framework.PassThroughExecution, CoreExecutor)


def test_a_fragment_passes_through_list_completion():
    execution = object.__new__(framework.PassThroughExecution)
    fragment = orjson.Fragment(b"[1,2]")
    assert execution.complete_list_value(None, None, None, None, fragment, None) is fragment  # type: ignore[arg-type]


def test_http_exception_is_what_strawberrys_views_answer():
    error = framework.HTTPException(400, "the request body is not JSON")
    assert (error.status_code, error.reason) == (400, "the request body is not JSON")
