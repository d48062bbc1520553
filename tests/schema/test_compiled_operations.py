"""Operations answered wholly from SQL (schema/operations.py) send the very bytes that
field-by-field execution sends, for every role, checked by
turning compiling off for a second request of the same query."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from schema import operations
from tests.conftest import GraphQLClient

BBOX = "[119.45, 25.85, 119.65, 26.0]"
NEAR = '{point: {type: "Point", coordinates: [119.52, 25.96]}, radiusMeters: 3000}'
NODE = (
    "id name category staffTotal capacityPct resumption"
    " flag { color reason __typename } area { name code } geometry"
)
SHAPES = {
    "features": f"{{ features(layer: ENTERPRISES, where: {{bbox: {BBOX}}}) }}",
    "features, variables": (
        "query ($w: SpatialFilter, $crs: Crs, $n: Int) {"
        " map: features(layer: CONSTRUCTION_SITES, where: $w, crs: $crs, limit: $n) }",
        {"w": {"areaCode": "350112109"}, "crs": "GCJ02", "n": 40},
    ),
    "typed page": (
        f"{{ enterprises(where: {{bbox: {BBOX}}}, first: 40) {{ __typename totalCount"
        f" pageInfo {{ hasNextPage endCursor __typename }} edges {{ cursor node {{ {NODE} }} }} }} }}"
    ),
    "page, aliases, fragments, variables": (
        "query ($first: Int, $after: String, $flag: [FlagColor!]) {"
        " all: enterprises(first: $first, after: $after, flag: $flag) { ...Paged n: totalCount }"
        " t: __typename }"
        " fragment Paged on EnterpriseConnection { info: pageInfo { more: hasNextPage }"
        " edges { node { ... on Node { key: id } ... on Enterprise { label: name } } } }",
        {"first": 7, "after": None, "flag": ["RED", "YELLOW"]},
    ),
    "near": (
        f"{{ enterprises(where: {{near: {NEAR}}}, first: 50) {{ pageInfo {{ endCursor }}"
        f" edges {{ node {{ {NODE} distanceMeters }} }} }} }}"
    ),
    "sites and a count alone": (
        "{ constructionSites(first: 5) { edges { node { id kind entrance(crs: BD09) } } }"
        ' enterprises(where: {areaCode: "350112109"}) { totalCount } }'
    ),
    "flag counts today": (
        "{ flagCounts { __typename area { id code name namePinyin level synthetic __typename }"
        " counts { green yellow red total __typename } } }"
    ),
    "flag counts, a past day, fragments": (
        "query ($d: Date, $code: String) { past: flagCounts(date: $d, areaCode: $code) {"
        " c: counts { t: total red } ... on AreaFlagCounts { area { ...Named } } } }"
        " fragment Named on Area { label: name level }",
        {"d": "2020-02-20", "code": "350112109"},
    ),
}
ROLES = ("district", "town", "inspector", None)


def _query(shape: Any) -> tuple[str, dict[str, Any]]:
    return shape if isinstance(shape, tuple) else (shape, {})


class Spy:
    """Whether each operation was answered from SQL, in order; `off` turns compiling off."""

    def __init__(self) -> None:
        self.seen: list[bool] = []
        self.off = False


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> Spy:
    spy = Spy()
    answer = operations.answer

    async def spied(*args: Any) -> Any:
        data = None if spy.off else await answer(*args)
        spy.seen.append(data is not None)
        return data

    monkeypatch.setattr(operations, "answer", spied)
    return spy


def _both(client: GraphQLClient, spy: Spy, query: str, variables: dict[str, Any]) -> bytes:
    """The answer from SQL, after checking it against field-by-field execution's, byte for byte."""
    fast = _body(client, query, variables)
    spy.off = True
    slow = _body(client, query, variables)
    spy.off = False
    assert spy.seen[-2:] == [True, False]
    assert fast == slow
    return fast


def _body(client: GraphQLClient, query: str, variables: dict[str, Any]) -> bytes:
    response = client.client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=client.headers
    )
    assert response.status_code == 200, response.text
    assert b'"errors"' not in response.content, response.text
    return response.content


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("shape", SHAPES)
def test_a_compiled_operation_sends_the_bytes_field_by_field_sends(
    shape, role, as_user, anonymous, compiled
):
    client = anonymous if role is None else as_user(role)
    query, variables = _query(SHAPES[shape])
    fast = _both(client, compiled, query, variables)
    assert len(fast) > 60, fast  # something was read


@pytest.mark.parametrize("role", ("district", "town", "inspector"))
def test_rental_pages_compile_for_the_roles_that_see_them(role, as_user, compiled):
    query = (
        "query ($crs: Crs) { rentalProperties(first: 20) { totalCount edges { cursor node {"
        " id filed tenantsTotal geometry(crs: $crs) area { code } } } } }"
    )
    assert b'"filed"' in _both(as_user(role), compiled, query, {"crs": "WEB_MERCATOR"})


NOT_COMPILED = {
    "personal data": "{ enterprises(first: 3) { edges { node { id contactPhone } } } }",
    "a list loaded per row": "{ enterprises(first: 3) { edges { node { flagHistory { to } } } } }",
    "an area's parent": "{ flagCounts { area { parent { code } } } }",
    "a timestamp": "{ enterprises(first: 3) { edges { node { flag { since } } } } }",
    "another root field": "{ features(layer: AREAS) areas { code } }",
    "introspection": "{ flagCounts { counts { total } } __schema { queryType { name } } }",
    "a skipped field": "{ enterprises(first: 3) { totalCount @skip(if: true) } }",
    "a bad argument": "{ enterprises(first: -1) { totalCount } }",
    "a missing area": '{ flagCounts(areaCode: "350112999") { counts { total } } }',
}


@pytest.mark.parametrize("case", NOT_COMPILED)
def test_anything_else_goes_field_by_field(case, gql, compiled):
    body = gql(NOT_COMPILED[case])
    assert compiled.seen == [False]
    if case.startswith("a bad") or case.startswith("a missing"):
        code = "BAD_USER_INPUT" if case.startswith("a bad") else "NOT_FOUND"
        [error] = body["errors"]
        assert error["extensions"]["code"] == code and error["path"]


def test_personal_data_read_whole_is_still_audited(db, as_user, compiled):
    town = as_user("town")
    phones = town.data(
        '{ enterprises(first: 3, where: {areaCode: "350112109"}) { edges { node { contactPhone } } } }'
    )["enterprises"]["edges"]
    assert compiled.seen == [False]
    assert all(
        edge["node"]["contactPhone"] and "*" not in edge["node"]["contactPhone"] for edge in phones
    )
    audited = db.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    assert audited == len(phones) > 0  # one row per record read in full


def test_variables_that_do_not_fit_are_answered_as_before(gql, compiled):
    error = gql.error("query ($n: Int) { enterprises(first: $n) { totalCount } }", n="many")
    assert compiled.seen == [False] and error["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_plan_kept_for_a_query_follows_its_variables(gql, compiled):
    query = "query ($n: Int) { enterprises(first: $n) { edges { node { id } } } }"
    sizes = [len(gql.data(query, n=n)["enterprises"]["edges"]) for n in (3, 5, 3)]
    assert sizes == [3, 5, 3] and compiled.seen == [True, True, True]
