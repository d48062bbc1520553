"""GraphQL over HTTP as the spec has it: application/graphql-response+json negotiated with its
status codes, a mutation over GET refused with 405, and every refusal a JSON error."""

from __future__ import annotations

import pytest

RESPONSE = "application/graphql-response+json"
QUERY = '{ area(code: "350112") { name } }'


def post(client, body, accept: str = RESPONSE, content_type: str = "application/json"):
    return client.post(
        "/graphql", content=body, headers={"Accept": accept, "Content-Type": content_type}
    )


def test_graphql_response_json_is_negotiated(client):
    response = client.post("/graphql", json={"query": QUERY}, headers={"Accept": RESPONSE})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(RESPONSE)
    assert response.json()["data"]["area"]["name"] == "长乐区"
    legacy = client.post("/graphql", json={"query": QUERY})
    assert legacy.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("query", "code"),
    [("{ area(code: ", "GRAPHQL_PARSE_FAILED"),
     ("{ area(code: 1) { nope } }", "GRAPHQL_VALIDATION_FAILED"),
     ("{ " + " ".join(f"a{i}: areas {{ code }}" for i in range(40)) + " }",
      "QUERY_TOO_MANY_ALIASES")],
)  # fmt: skip
def test_a_request_that_never_ran_is_400_under_graphql_response_json(client, query, code):
    response = client.post("/graphql", json={"query": query}, headers={"Accept": RESPONSE})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(RESPONSE)
    body = response.json()
    assert "data" not in body and body["errors"][0]["extensions"]["code"] == code
    # Under application/json, as before: 200 with the errors.
    assert client.post("/graphql", json={"query": query}).status_code == 200


def test_a_field_error_is_200_with_partial_data(client):
    response = client.post(
        "/graphql",
        json={"query": '{ a: area(code: "350112") { name } b: node(id: "nothing") { id } }'},
        headers={"Accept": RESPONSE},
    )
    body = response.json()
    assert response.status_code == 200 and body["data"]["a"]["name"] == "长乐区"
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_mutation_over_get_is_405(client):
    response = client.get(
        "/graphql",
        params={"query": 'mutation { login(username: "district", password: "demo") }'},
        headers={"Accept": RESPONSE},
    )
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2", b'"a string"'])
def test_an_unparsable_body_is_a_json_error(client, body):
    for accept in (RESPONSE, "application/json"):
        response = post(client, body, accept)
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_other_methods_and_routes_are_json_errors(client):
    put = client.put("/graphql", json={"query": QUERY})
    assert put.status_code == 405 and put.json()["errors"][0]["extensions"]["code"]
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
