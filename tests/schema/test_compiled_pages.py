"""Pages built as JSON by PostgreSQL (schema/compiled.py) answer exactly what field-by-field
resolution answers, in one statement. A selection is forced down the field-by-field path by
asking for the edges' __typename, which is never compiled, and then dropping it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import GraphQLClient

FEATURE = "fragment Drawn on Feature { drawn: geometry(crs: GCJ02) __typename }"
PAGES = {
    "every compiled enterprise field": (
        "enterprises",
        "id name creditCode category staffTotal staffReturned capacityPct problems resumption"
        " flag { color reason overridden __typename } geometry"
        " area { id code name namePinyin level synthetic __typename }",
    ),
    "aliases and fragments": (
        "enterprises",
        "... on Enterprise { key: id label: name } ...Drawn colour: flag { c: color }",
    ),
    "sites": (
        "constructionSites",
        "id name kind keyProject resumption problems flag { color } geometry entrance area { name }",
    ),
    "rentals": ("rentalProperties", "id filed geometry(crs: BD09) area { code }"),
}
CALLERS = ("district", "town", "inspector", None)
CASES = [
    (name, caller)
    for name in PAGES
    for caller in CALLERS
    if not (caller is None and name == "rentals")  # rentals are not shown to anonymous callers
]


def page(field: str, node: str, fallback: bool, arguments: str = "first: 30") -> str:
    typename = "__typename" if fallback else ""
    return (
        f"query ($crs: Crs) {{ {field}({arguments}) {{ pageInfo {{ hasNextPage endCursor }}"
        f" edges {{ {typename} cursor node {{ {node} again: geometry(crs: $crs) }} }} }} }}"
        + ("\n" + FEATURE if "...Drawn" in node else "")
    )


def both(client: GraphQLClient, query: str, fallback: str, **variables: Any) -> tuple[Any, Any]:
    compiled = client.data(query, **variables)
    resolved = client.data(fallback, **variables)
    for connection in resolved.values():
        for edge in connection["edges"]:
            del edge["__typename"]
    return compiled, resolved


@pytest.mark.parametrize(("name", "caller"), CASES)
def test_compiled_page_is_what_field_by_field_resolution_answers(
    name, caller, as_user, anonymous, statements
):
    field, node = PAGES[name]
    client = anonymous if caller is None else as_user(caller)
    statements.clear()
    compiled = client.data(page(field, node, fallback=False), crs="WEB_MERCATOR")
    queries = [s for s in statements if s.startswith(("SELECT", "WITH"))]
    compiled_, resolved = both(
        client, page(field, node, False), page(field, node, True), crs="WEB_MERCATOR"
    )
    assert compiled == compiled_ == resolved
    assert compiled[field]["edges"], "the page should not be empty"
    # The account (when there is a caller) and the page: no loader ran per field.
    assert len(queries) == (1 if caller is None else 2), queries


def test_near_pages_follow_on_from_a_compiled_cursor(gql):
    near = '{point: {type: "Point", coordinates: [119.52, 25.96]}, radiusMeters: 3000}'
    node = "id distanceMeters"
    seen: list[str] = []
    after = ""
    while True:
        arguments = f"where: {{near: {near}}}, first: 7{after}"
        compiled, resolved = both(
            gql,
            page("enterprises", node, False, arguments),
            page("enterprises", node, True, arguments),
        )
        assert compiled == resolved
        connection = compiled["enterprises"]
        distances = [edge["node"]["distanceMeters"] for edge in connection["edges"]]
        assert distances == sorted(distances) and all(d <= 3000 for d in distances)
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = f', after: "{connection["pageInfo"]["endCursor"]}"'
    everything = gql.data(
        f"{{ enterprises(where: {{near: {near}}}, first: 1000) {{ edges {{ node {{ id }} }} }} }}"
    )["enterprises"]["edges"]
    assert seen == [edge["node"]["id"] for edge in everything] and len(seen) > 7


def test_personal_data_is_never_compiled_so_it_stays_masked_and_audited(as_user):
    town = as_user("town")
    # In their own town: elsewhere a town officer sees personal data as anyone does.
    edges = town.data(
        '{ enterprises(first: 5, where: {areaCode: "350112109"}) { edges { node { id contactPhone } } } }'
    )
    phones = [edge["node"]["contactPhone"] for edge in edges["enterprises"]["edges"]]
    district = as_user("district")
    masked = district.data("{ enterprises(first: 5) { edges { node { id contactPhone } } } }")
    assert all("*" in edge["node"]["contactPhone"] for edge in masked["enterprises"]["edges"])
    assert all(phone and "*" not in phone for phone in phones)
