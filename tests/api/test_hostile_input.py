"""Hostile input gets a clean error with a code, or a correct empty answer: never a 500, never
a changed table. String arguments are found in the schema, so new ones are attacked too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLNonNull,
    GraphQLScalarType,
    get_named_type,
    is_leaf_type,
    is_list_type,
)
from sqlalchemy import text

from api.app import query_limits
from api.settings import get_settings
from schema import build_schema, framework

# Every code the API documents; INTERNAL_SERVER_ERROR is a failure wherever it shows up.
DOCUMENTED_CODES = {
    "BAD_USER_INPUT",
    "NOT_FOUND",
    "FORBIDDEN",
    "UNAUTHENTICATED",
    "GRAPHQL_VALIDATION_FAILED",
    "GRAPHQL_PARSE_FAILED",
    "QUERY_TOO_LONG",
    "QUERY_TOO_DEEP",
    "QUERY_TOO_MANY_ALIASES",
    "QUERY_TOO_COMPLEX",
    "PAYLOAD_TOO_LARGE",
    "OUTSIDE_GEOFENCE",
}

HOSTILE = {
    "or-true": "' OR 1=1 --",
    "drop-table": "'; DROP TABLE enterprise; --",
    "union": "350112' UNION SELECT password_hash FROM account --",
    "nul": "350112\x00",
    "backslash-nul": "\\x00",
    "fullwidth-digits": "３５０１１２",
    "superscript": "Enterprise:²",
    "huge-id": "Enterprise:99999999999999999999999999",
    "rtl-override": "\u202e211053",
    "zero-width": "350\u200b112",
    "emoji": "🏭🚩",
    "lone-surrogate": "\ud800",
    "escaped-surrogate": "\\ud800",
    "percent": "%' AND '%'='",
    "json": '{"$ne": null}',
    "very-long": "9" * 1_000_000,
}

SAMPLES: dict[str, Any] = {
    "String": "x",
    "ID": "Enterprise:1",
    "Int": 1,
    "Float": 1.0,
    "Boolean": False,
    "GeoJSON": {"type": "Point", "coordinates": [119.5, 25.8]},
    "DateTime": "2020-02-27T08:00:00+08:00",
    "Date": "2020-02-27",
}


def sample(type_: GraphQLInputType) -> Any:
    """A plausible value of a type, for arguments that must be there."""
    named = get_named_type(type_)
    if isinstance(named, GraphQLEnumType):
        value: Any = next(iter(named.values))
    elif isinstance(named, GraphQLInputObjectType):
        value = {
            name: sample(field.type)
            for name, field in named.fields.items()
            if isinstance(field.type, GraphQLNonNull)
        }
    else:
        value = SAMPLES[named.name]
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    return [value] if is_list_type(inner) else value


def string_paths(
    name: str, type_: GraphQLInputType, seen: frozenset[str] = frozenset()
) -> Iterator[list[str]]:
    """Every path from an argument to a String or ID inside it."""
    named = get_named_type(type_)
    if isinstance(named, GraphQLScalarType) and named.name in ("String", "ID"):
        yield [name]
    elif isinstance(named, GraphQLInputObjectType) and named.name not in seen:
        for field_name, field in named.fields.items():
            for path in string_paths(field_name, field.type, seen | {named.name}):
                yield [name, *path]


def put(value: Any, path: list[str], payload: str) -> Any:
    if not path:
        return payload
    if isinstance(value, list):
        return [put(value[0] if value else {}, path, payload)]
    return {**(value or {}), path[0]: put((value or {}).get(path[0]), path[1:], payload)}


def cases() -> Iterator[Any]:
    schema = framework.core_schema(build_schema(query_limits(get_settings())))
    for root in (schema.query_type, schema.mutation_type):
        if root is None:
            continue
        keyword = "query" if root is schema.query_type else "mutation"
        for field_name, field in root.fields.items():
            for arg_name, argument in field.args.items():
                for path in string_paths(arg_name, argument.type):
                    name = f"{field_name}.{'.'.join(path)}"
                    yield pytest.param(keyword, field_name, field, path, id=name)


def operation(
    keyword: str, field_name: str, field: Any, path: list[str], payload: str
) -> tuple[str, dict[str, Any]]:
    """The field called with every argument a variable: the attacked one, and those it needs."""
    args: dict[str, GraphQLArgument] = field.args
    declared = ", ".join(f"${name}: {argument.type}" for name, argument in args.items())
    passed = ", ".join(f"{name}: ${name}" for name in args)
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    variables = {
        name: sample(argument.type)
        for name, argument in args.items()
        if isinstance(argument.type, GraphQLNonNull)
    }
    variables[path[0]] = put(variables.get(path[0]), path[1:], payload)
    return f"{keyword} ({declared}) {{ {field_name}({passed}){selection} }}", variables


def assert_clean(response, payload: str = "") -> None:
    assert response.status_code < 500, (payload, response.text)
    body = response.json()
    codes = {error.get("extensions", {}).get("code") for error in body.get("errors") or []}
    assert codes <= DOCUMENTED_CODES, (payload, body["errors"])


@pytest.fixture
def enterprises(db) -> Iterator[None]:
    before = db.execute(text("SELECT count(*) FROM enterprise")).scalar_one()
    yield
    assert db.execute(text("SELECT count(*) FROM enterprise")).scalar_one() == before > 0


@pytest.mark.parametrize(("keyword", "field_name", "field", "path"), list(cases()))
def test_every_string_argument_resists_injection(
    gql, enterprises, keyword, field_name, field, path
):
    for name, payload in HOSTILE.items():
        query, variables = operation(keyword, field_name, field, path, payload)
        # json.dumps escapes what UTF-8 cannot carry (a lone surrogate), as a hostile client may.
        body = json.dumps({"query": query, "variables": variables})
        assert_clean(post(gql.client, body.encode(), **gql.headers), name)


@pytest.mark.parametrize("payload", HOSTILE.values(), ids=HOSTILE.keys())
def test_injection_as_a_literal_answers_correctly(anonymous, enterprises, payload):
    literal = json.dumps(payload)  # a JSON string is a GraphQL string, escapes and all
    body = anonymous(f"{{ area(code: {literal}) {{ code }} }}")
    if body.get("errors"):  # refused by the string rule, or by the parser (a lone surrogate)
        code = body["errors"][0]["extensions"]["code"]
        assert code in ("BAD_USER_INPUT", "GRAPHQL_PARSE_FAILED"), body
    else:
        assert body["data"] == {"area": None}


def test_the_answers_to_injections_are_empty_not_everything(gql):
    query = "query ($c: String) { enterprises(where: {areaCode: $c}) { totalCount } }"
    error = gql.error(query, c="' OR 1=1 --")
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert gql.data('{ area(code: "\' OR 1=1 --") { code } }') == {"area": None}


def test_a_bad_cursor_is_bad_input(anonymous):
    for cursor in ["' OR 1=1 --", "W10=", "WzEsIDJd" * 10, "%%%", "eyJhIjogMX0="]:
        error = anonymous.error(
            "query ($a: String) { enterprises(after: $a) { totalCount } }", a=cursor
        )
        assert error["extensions"]["code"] == "BAD_USER_INPUT", (cursor, error)


def post(client, body: bytes, content_type: str = "application/json", **headers: str):
    return client.post("/graphql", content=body, headers={"content-type": content_type, **headers})


def test_an_oversized_body_is_refused_with_413(client):
    most = get_settings().max_body_bytes
    query = '{ area(code: "350112") { code } }'
    padding = " " * (most - len(json.dumps({"query": query})))
    fits = json.dumps({"query": query + padding}).encode()
    assert len(fits) == most and post(client, fits).status_code == 200
    response = post(client, fits + b" ")
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


def test_a_chunked_body_is_counted_as_it_streams(client):
    most = get_settings().max_body_bytes

    def chunks() -> Iterator[bytes]:
        yield b'{"query": "{ __typename }", "pad": "'
        for _ in range(most // 65536 + 1):
            yield b"x" * 65536
        yield b'"}'

    response = client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


def test_a_body_that_lies_about_its_length_is_refused_up_front(client):
    response = post(client, b'{"query": "{ __typename }"}', **{"content-length": str(10**9)})
    assert response.status_code == 413


def test_a_max_vertex_geometry_fits_in_the_body(gql):
    ring = [[119.5 + 0.01 * (i / 9_999), 25.8 + 0.001 * ((i % 2) and 1)] for i in range(9_999)]
    polygon = {"type": "LineString", "coordinates": ring + [[119.6, 25.9]]}
    body = json.dumps(
        {
            "query": "query ($g: GeoJSON) { enterprises(where: {intersects: $g}) { totalCount } }",
            "variables": {"g": polygon},
        }
    )
    assert 300_000 < len(body) < get_settings().max_body_bytes
    response = gql.client.post(
        "/graphql", content=body, headers={"content-type": "application/json", **gql.headers}
    )
    assert response.status_code == 200 and "errors" not in response.json(), response.text


def test_a_long_get_query_string_is_refused_with_414(client):
    most = get_settings().max_query_string_bytes
    response = client.get("/graphql", params={"query": "{ __typename }" + " " * most})
    assert response.status_code == 414
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert client.get("/graphql", params={"query": "{ __typename }"}).json() == {
        "data": {"__typename": "Query"}
    }


def test_deep_nesting_is_refused_not_crashed(client):
    for levels in (11, 100, 300, 5000):
        query = '{ area(code: "350112") { ' + "parent { " * levels + "code" + " }" * levels + " } }"
        response = post(client, json.dumps({"query": query}).encode())
        assert_clean(response)
        assert response.json()["errors"][0]["extensions"]["code"] in (
            "QUERY_TOO_DEEP",
            "QUERY_TOO_LONG",
            "GRAPHQL_PARSE_FAILED",  # graphql-core's parser: "Document is nested too deeply"
        )


def test_a_huge_number_of_aliases_is_refused(client):
    query = "{ " + " ".join(f"a{i}: __typename" for i in range(2000)) + " }"
    response = post(client, json.dumps({"query": query}).encode())
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_MANY_ALIASES"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b'{"query": ',
        b"null",
        b"[]",
        b'"just a string"',
        b"42",
        b'{"query": 42}',
        b'{"query": "{ __typename }", "variables": [1, 2]}',
        b'{"query": "{ __typename }", "variables": "x"}',
        b'{"query": "{ __typename }", "operationName": 42}',
        b'{"query": null}',
        b"\xff\xfe\x00",
        b'{"query": "{ __typename }", "variables": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=lambda body: body[:30].decode("latin-1"),
)
def test_malformed_json_bodies_get_a_4xx(client, body):
    response = post(client, body)
    assert 400 <= response.status_code < 500, response.text


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/xml", "multipart/form-data; boundary=x", "", "application/graphql"],
)
def test_wrong_content_types_get_a_4xx(client, content_type):
    response = post(client, b'{"query": "{ __typename }"}', content_type)
    assert 400 <= response.status_code < 500, response.text
