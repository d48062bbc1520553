"""Every query limit lets through a query at its maximum and refuses one just past it, with a
code; the shapes that would make the checks themselves slow are refused fast."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest
from graphql.language import Lexer, Source, TokenKind
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import get_settings
from schema.query_cost import MAX_EXPANDED_FIELDS, MAX_NESTING, MAX_REPEATED_PAIRS
from tests.conftest import GraphQLClient

SMALL = {
    "max_query_depth": 4,
    "max_aliases": 3,
    "max_tokens": 60,
    "max_query_cost": 500,
    "cost_list_size": 10,
    "max_string_chars": 20,
}


def app_client(sessions, **settings) -> Iterator[GraphQLClient]:
    configured = dataclasses.replace(get_settings(), **settings)
    with TestClient(create_app(configured, sessions=sessions)) as client:
        yield GraphQLClient(client)


@pytest.fixture
def small(sessions) -> Iterator[GraphQLClient]:
    """An anonymous caller of an app with small maxima, so that queries stay readable."""
    yield from app_client(sessions, **SMALL)


def refused(client: GraphQLClient, query: str, code: str, **variables) -> str:
    body = client(query, **variables)
    assert body.get("data") is None, body
    assert [error["extensions"]["code"] for error in body["errors"]] == [code] * len(body["errors"])
    return body["errors"][0]["message"]


def parents(levels: int) -> str:
    """A query whose deepest field sits `levels` below the top field, as strawberry counts."""
    return (
        '{ area(code: "350112109") { ' + "parent { " * (levels - 1) + "code" + " }" * levels + " }"
    )


def test_depth(small):
    assert small.data(parents(4))["area"]["parent"]["parent"] is None
    message = refused(small, parents(5), "QUERY_TOO_DEEP")
    assert "maximum operation depth of 4" in message


def test_depth_counts_through_fragments(small):
    query = '{ area(code: "350112109") { ...up } } fragment up on Area { parent { parent { parent { parent { code } } } } }'
    refused(small, query, "QUERY_TOO_DEEP")


def aliased(count: int) -> str:
    return "{ " + " ".join(f'a{i}: area(code: "350112") {{ code }}' for i in range(count)) + " }"


def test_aliases(small):
    assert len(small.data(aliased(3))) == 3
    message = refused(small, aliased(4), "QUERY_TOO_MANY_ALIASES")
    assert "4 aliases" in message and "3" in message


def tokens(query: str) -> int:
    lexer, count = Lexer(Source(query)), 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
    return count


def with_tokens(count: int) -> str:
    """A valid query of exactly `count` tokens: a flag list padded with RED."""

    def query(reds: int) -> str:
        return "{ enterprises(flag: [" + "RED " * reds + "], first: 1) { totalCount } }"

    reds = count - tokens(query(0))
    assert tokens(query(reds)) == count
    return query(reds)


def test_tokens(small):
    small.data(with_tokens(60))
    message = refused(small, with_tokens(61), "QUERY_TOO_LONG")
    assert "60 tokens" in message


def test_a_syntax_error_is_not_a_token_refusal(small):
    error = small.error("{ area(code: ")
    assert error["extensions"]["code"] not in ("QUERY_TOO_LONG", "INTERNAL_SERVER_ERROR")


PAGE = "query ($n: Int) { enterprises(first: $n) { edges { node { id } } } }"
PAGE_IN_FRAGMENTS = """
query ($n: Int = 5) { enterprises(first: $n) { ...page } }
fragment page on EnterpriseConnection { edges { node { ...fields } } }
fragment fields on Enterprise { id }
"""


@pytest.mark.parametrize("query", [PAGE, PAGE_IN_FRAGMENTS], ids=["plain", "fragments"])
def test_cost_counts_pages_through_variables_and_fragments(small, query):
    # enterprises, then edges, node and id once per item of the page: 1 + 3n, at most 500.
    assert len(small.data(query, n=166)["enterprises"]["edges"]) == 166
    message = refused(small, query, "QUERY_TOO_COMPLEX", n=167)
    assert "502" in message and "500" in message


def test_cost_takes_a_literal_and_a_variables_default(small):
    small.data("{ enterprises(first: 166) { edges { node { id } } } }")
    refused(small, "{ enterprises(first: 167) { edges { node { id } } } }", "QUERY_TOO_COMPLEX")
    small.data("query ($n: Int = 166) { enterprises(first: $n) { edges { node { id } } } }")
    refused(
        small,
        "query ($n: Int = 167) { enterprises(first: $n) { edges { node { id } } } }",
        "QUERY_TOO_COMPLEX",
    )


def test_cost_of_lists_without_first_uses_the_configured_size(small):
    # areas 1, children 10, grandchildren 100, their codes 1000: over 500 with lists of 10.
    small.data("{ areas { children { code } } }")  # 1 + 10 + 100
    message = refused(small, "{ areas { children { children { code } } } }", "QUERY_TOO_COMPLEX")
    assert "1,111" in message


def test_a_page_past_the_maximum_is_counted_at_the_maximum_page_size(gql):
    # 1 + 3 × 1000 is within the default cost, so the field's own check answers.
    error = gql.error("{ enterprises(first: 100000) { edges { node { id } } } }")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_long_strings_in_literals_and_variables(small):
    assert small.data('{ area(code: "%s") { code } }' % ("9" * 20)) == {"area": None}
    message = refused(small, '{ area(code: "%s") { code } }' % ("9" * 21), "BAD_USER_INPUT")
    assert "code is 21 characters long" in message
    message = refused(
        small,
        "{ enterprises(where: {areaCode: %s}) { totalCount } }" % ('"""' + "9" * 21 + '"""'),
        "BAD_USER_INPUT",
    )
    assert "where.areaCode" in message
    query = "query ($where: SpatialFilter) { enterprises(where: $where) { totalCount } }"
    message = refused(small, query, "BAD_USER_INPUT", where={"areaCode": "9" * 21})
    assert "$where.areaCode is 21 characters" in message
    message = refused(
        small,
        'query ($c: String = "%s") { area(code: $c) { code } }' % ("9" * 21),
        "BAD_USER_INPUT",
    )
    assert "$c" in message


def test_long_strings_anywhere_in_variables_even_unused(small):
    message = refused(small, "{ __typename }", "BAD_USER_INPUT", other={"deep": ["x", "y" * 21]})
    assert "$other.deep[1]" in message


def test_repeating_one_field_over_and_over(gql):
    at_most = 1
    while (at_most + 1) * at_most // 2 <= MAX_REPEATED_PAIRS:
        at_most += 1
    query = '{ area(code: "350112") { %s } }'
    assert gql.data(query % ("code " * at_most))["area"]["code"] == "350112"
    message = refused(gql, query % ("code " * (at_most + 1)), "QUERY_TOO_COMPLEX")
    assert f"'code' is selected {at_most + 1} times" in message


def test_repeats_in_an_unused_fragment_count_too(gql):
    query = "{ __typename } fragment f on Area { %s }" % ("children { code } " * 100)
    refused(gql, query, "QUERY_TOO_COMPLEX")


def doubling(levels: int) -> str:
    """Each fragment spreads the next twice: 2^levels fields once expanded."""
    fragments = " ".join(
        f"fragment f{i} on Area {{ ...f{i + 1} ...f{i + 1} }}" for i in range(levels)
    )
    return (
        '{ area(code: "350112") { ...f0 } } '
        + fragments
        + f" fragment f{levels} on Area {{ code }}"
    )


def test_a_fragment_bomb_is_refused_fast(gql):
    started = time.perf_counter()
    message = refused(gql, doubling(40), "QUERY_TOO_COMPLEX")
    assert f"more than {MAX_EXPANDED_FIELDS:,} fields" in message
    assert time.perf_counter() - started < 2


def test_fragments_nested_past_the_walls(gql):
    chain = " ".join(f"fragment f{i} on Area {{ ...f{i + 1} }}" for i in range(MAX_NESTING + 1))
    query = (
        '{ area(code: "350112") { ...f0 } } '
        + chain
        + f" fragment f{MAX_NESTING + 1} on Area {{ code }}"
    )
    refused(gql, query, "QUERY_TOO_DEEP")


@pytest.mark.parametrize(
    "query",
    [
        '{ area(code: "350112") { ...missing } }',
        '{ area(code: "350112") { ...a } } fragment a on Area { parent { ...a } }',
        '{ area(code: "350112") { ...a } } fragment a on Area { ...b } fragment b on Area { ...a }',
        '{ area(code: "350112") { ...a } } fragment a on NoSuchType { code }',
        '{ area(code: "350112") { code { deeper } } }',
    ],
    ids=["unknown fragment", "cycle through a field", "cycle", "unknown type", "scalar selection"],
)
def test_broken_fragments_get_a_validation_error_not_a_crash(gql, query):
    error = gql.error(query)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", error


INTROSPECTION = "{ __schema { queryType { name } } }"


def test_introspection_on_by_default_in_development(small):
    assert small.data(INTROSPECTION)["__schema"]["queryType"]["name"] == "Query"


def test_introspection_off(sessions):
    for client in app_client(sessions, introspection=False):
        refused(client, INTROSPECTION, "GRAPHQL_VALIDATION_FAILED")
        refused(client, '{ __type(name: "Area") { name } }', "GRAPHQL_VALIDATION_FAILED")
        assert client.data("{ __typename }") == {"__typename": "Query"}


def test_the_introspection_query_of_graphiql_passes_the_default_limits(gql):
    from graphql import get_introspection_query

    assert gql.data(get_introspection_query(descriptions=True))["__schema"]["types"]


def test_settings_read_the_environment(monkeypatch):
    monkeypatch.setenv("FUGONG_MAX_QUERY_DEPTH", "7")
    monkeypatch.setenv("FUGONG_INTROSPECTION", "0")
    get_settings.cache_clear()
    try:
        settings = get_settings()
        assert settings.max_query_depth == 7 and settings.introspection is False
        monkeypatch.setenv("FUGONG_INTROSPECTION", "maybe")
        get_settings.cache_clear()
        with pytest.raises(SystemExit, match="FUGONG_INTROSPECTION"):
            get_settings()
        monkeypatch.delenv("FUGONG_INTROSPECTION")
        monkeypatch.setenv("FUGONG_ENV", "production")
        monkeypatch.setenv("FUGONG_JWT_SECRET", "x" * 40)
        get_settings.cache_clear()
        assert get_settings().introspection is False
    finally:
        get_settings.cache_clear()


def test_a_query_text_seen_before_is_refused_again(small):
    # Documents are parsed and validated once per process (schema/documents.py): the cached
    # verdict must stand, and the limits that read variables must still run each time.
    for _ in range(2):
        refused(small, parents(5), "QUERY_TOO_DEEP")
        assert small.error("{ area(code: ") and small.error("{ nothing }")
        refused(small, PAGE, "QUERY_TOO_COMPLEX", n=167)
        assert len(small.data(PAGE, n=3)["enterprises"]["edges"]) == 3
