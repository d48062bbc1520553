"""Bad input gets a GraphQL error a person can act on, with extensions.code, never a 500."""

from __future__ import annotations

import pytest

ENTERPRISES = """
query ($where: SpatialFilter, $first: Int, $after: String) {
  enterprises(where: $where, first: $first, after: $after) { totalCount edges { node { id } } }
}
"""

SELF_INTERSECTING = {
    "type": "Polygon",
    "coordinates": [[[119.5, 25.8], [119.6, 25.9], [119.6, 25.8], [119.5, 25.9], [119.5, 25.8]]],
}
OPEN_RING = {"type": "Polygon", "coordinates": [[[119.5, 25.8], [119.6, 25.8], [119.6, 25.9]]]}
TOO_MANY_VERTICES = {
    "type": "LineString",
    "coordinates": [[119.5 + i * 1e-6, 25.8] for i in range(10_001)],
}


@pytest.mark.parametrize(
    ("variables", "code", "words"),
    [
        ({"where": {"bbox": [119.6, 25.8, 119.5, 25.9]}}, "BAD_USER_INPUT", "minimum above"),
        ({"where": {"bbox": [119.5, 95.0, 119.6, 96.0]}}, "BAD_USER_INPUT", "latitude"),
        ({"where": {"bbox": [119.5, 25.8, 119.6]}}, "BAD_USER_INPUT", "four numbers"),
        ({"where": {"within": {"type": "Polygon"}}}, "BAD_USER_INPUT", "coordinates"),
        ({"where": {"within": "not json"}}, "BAD_USER_INPUT", "GeoJSON"),
        (
            {"where": {"within": {"type": "Point", "coordinates": [119.5, 25.8]}}},
            "BAD_USER_INPUT",
            "Polygon or MultiPolygon",
        ),
        ({"where": {"within": SELF_INTERSECTING}}, "BAD_USER_INPUT", "Self-intersection"),
        ({"where": {"within": OPEN_RING}}, "BAD_USER_INPUT", "first and last"),
        ({"where": {"intersects": TOO_MANY_VERTICES}}, "BAD_USER_INPUT", "vertices"),
        (
            {"where": {"intersects": {"type": "Point", "coordinates": [119.5, "x"]}}},
            "BAD_USER_INPUT",
            "GeoJSON",
        ),
        ({"where": {"areaCode": "999999"}}, "NOT_FOUND", "999999"),
        ({"where": {"areaCode": "'; DROP TABLE enterprise; --"}}, "NOT_FOUND", "DROP TABLE"),
        (
            {
                "where": {
                    "near": {
                        "point": {"type": "Point", "coordinates": [119.5, 25.8]},
                        "radiusMeters": -5,
                    }
                }
            },
            "BAD_USER_INPUT",
            "radiusMeters",
        ),
        (
            {
                "where": {
                    "near": {
                        "point": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]},
                        "radiusMeters": 5,
                    }
                }
            },
            "BAD_USER_INPUT",
            "Point",
        ),
        ({"first": 100_000}, "BAD_USER_INPUT", "first must be between"),
        ({"first": -1}, "BAD_USER_INPUT", "first must be between"),
        ({"after": "not-a-cursor"}, "BAD_USER_INPUT", "cursor"),
        ({"where": {"crs": "NAD27"}}, "BAD_USER_INPUT", "NAD27"),
    ],
)
def test_bad_filter_input(gql, variables, code, words):
    error = gql.error(ENTERPRISES, **variables)
    assert error["extensions"]["code"] == code
    assert words in error["message"]


def test_unknown_parent_area(gql):
    error = gql.error('{ areas(parentCode: "350112999") { code } }')
    assert error["extensions"]["code"] == "NOT_FOUND"


def test_features_limit_over_the_maximum(gql):
    error = gql.error("{ features(layer: ENTERPRISES, limit: 10000000) }")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_malformed_node_id(gql):
    error = gql.error('{ node(id: "Spaceship:1") { id } }')
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Enterprise:42" in error["message"]


def test_syntax_error_is_coded_and_not_a_server_error(client):
    response = client.post("/graphql", json={"query": "{ enterprises( "})
    assert response.status_code < 500
    assert response.json()["errors"][0]["extensions"]["code"]


def test_unknown_field(gql):
    error = gql.error("{ enterprises { nope } }")
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_simplify_out_of_range(gql):
    error = gql.error('{ area(code: "350112") { geometry(simplifyMeters: -1) } }')
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "query", ["{ }", "query { }", "{ enterprises { } }", "{ enterprises { edges { node { } } } }",
              "{ ...F } fragment F on Query { }"],
)  # fmt: skip
def test_an_empty_selection_set_is_a_coded_validation_error(anonymous, query):
    error = anonymous.error(query)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "selects at least one field" in error["message"]
