"""Schemathesis writes queries and mutations from the schema, valid and invalid, and sends them
through the app bound to the test's rolled-back transaction, as an anonymous caller and as a
district officer: no answer is a 5xx, and no error carries a code outside the documented set.

FUGONG_FUZZ_EXAMPLES sets the examples per operation, mode and caller (5 by default, the same
ones every run); bench/fuzz.py runs it longer, with fresh examples each time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import graphql
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation.modes import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans
from starlette.testclient import TestClient

from api.app import create_app
from tests.api.test_hostile_input import DOCUMENTED_CODES

EXAMPLES = int(os.environ.get("FUGONG_FUZZ_EXAMPLES", "5"))
BUILT_IN_SCALARS = {"String", "ID", "Int", "Float", "Boolean"}

# Changle District and a little beyond, so that some geometries fall outside every area.
LONGITUDES = st.floats(119.3, 119.8)
LATITUDES = st.floats(25.6, 26.1)
POINTS = st.tuples(LONGITUDES, LATITUDES).map(list)
JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


def _square(lon: float, lat: float, side: float) -> dict[str, Any]:
    ring = [[lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


GEOJSON = st.one_of(
    POINTS.map(lambda point: {"type": "Point", "coordinates": point}),
    st.lists(POINTS, min_size=2, max_size=6).map(
        lambda line: {"type": "LineString", "coordinates": line}
    ),
    st.builds(_square, LONGITUDES, LATITUDES, st.floats(1e-4, 0.2)),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["Point", "Polygon", "MultiPolygon", "Feature", "x"]),
            "coordinates": JUNK,
        }
    ),
    JUNK,
)


def literal(value: Any) -> graphql.ValueNode:
    """A JSON value as a GraphQL literal, the form schemathesis puts custom scalars in."""
    if isinstance(value, dict):
        return graphql.ObjectValueNode(
            fields=tuple(
                graphql.ObjectFieldNode(name=graphql.NameNode(value=key), value=literal(item))
                for key, item in value.items()
                if key.isidentifier() and key.isascii()
            )
        )
    if isinstance(value, list):
        return graphql.ListValueNode(values=tuple(literal(item) for item in value))
    if isinstance(value, bool):
        return graphql.BooleanValueNode(value=value)
    if isinstance(value, int):
        return graphql.IntValueNode(value=str(value))
    if isinstance(value, float):
        return graphql.FloatValueNode(value=repr(value))
    if isinstance(value, str):
        return graphql.StringValueNode(value=value)
    return graphql.NullValueNode()


schemathesis.graphql.scalar("GeoJSON", GEOJSON.map(literal))


@pytest.fixture
def api_schema(sessions) -> Iterator[Any]:
    app = create_app(sessions=sessions)
    loaded = schemathesis.graphql.from_asgi("/graphql", app)
    # Scalars added later (by other issues) get strings, so that the run never stops at one.
    for name, type_ in loaded.client_schema.type_map.items():
        if isinstance(type_, graphql.GraphQLScalarType) and not name.startswith("__"):
            if name not in BUILT_IN_SCALARS | {"GeoJSON"}:
                schemathesis.graphql.scalar(name, st.text(max_size=40).map(literal))
    yield loaded
    shutdown_lifespans()  # schemathesis keeps the app's lifespan open for the whole process


@pytest.fixture
def district_token(sessions) -> str:
    with TestClient(create_app(sessions=sessions)) as client:
        login = 'mutation { login(username: "district", password: "demo") }'
        return client.post("/graphql", json={"query": login}).json()["data"]["login"]


@pytest.mark.parametrize("caller", ["anonymous", "district"])
def test_generated_operations_never_fail_the_server(api_schema, district_token, caller):
    headers = {"Authorization": f"Bearer {district_token}"} if caller == "district" else None
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert operations, "schemathesis found no operation in the schema"
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            cases = operation.as_strategy(mode, headers=headers)
            try:
                fuzz(cases)
            except Exception as failure:  # every operation gets its run; all failures are told
                failures.append(f"{operation.label} ({mode}): {failure}")
    assert not failures, "\n\n".join(failures)


def fuzz(cases: st.SearchStrategy[Any]) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        # CI gets the same examples every run; bench/fuzz.py fresh ones.
        derandomize="FUGONG_FUZZ_EXAMPLES" not in os.environ,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )
    @given(case=cases)
    def run(case: Any) -> None:
        response = case.call()
        assert response.status_code < 500, f"{case.body}\n{response.text}"
        if response.status_code >= 400:  # refused by HTTP before GraphQL: a coded JSON error
            return
        errors = response.json().get("errors") or []
        codes = {(error.get("extensions") or {}).get("code") for error in errors}
        assert codes <= DOCUMENTED_CODES, f"{case.body}\n{errors}"

    run()
