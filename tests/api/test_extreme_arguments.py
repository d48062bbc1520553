"""Every argument of every query, mutation and HTTP route, given extreme values: the answer is
the data or an error with a code (never INTERNAL_SERVER_ERROR or a 500), and a refusal changes
nothing in the database. New fields and arguments are covered as they appear: the cases are
read from the schema itself, and a field with arguments this test cannot reach fails it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_nullable_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from api.app import query_limits
from api.settings import get_settings
from schema import build_schema, framework

SCHEMA = framework.core_schema(build_schema(query_limits(get_settings())))
HUGE_DIGITS = "9" * 5000

# What the database holds that a refused request must leave as it was (caches and the audit
# of reads are not the caller's changes).
TABLES = ("enterprise", "construction_site", "rental_property", "inspection", "flag_change",
          "signboard", "account", "area", "patrol_zone", "quarantine_site", "road", "route_plan")  # fmt: skip

SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "Int": st.one_of(
        st.sampled_from([0, -1, 2**31 - 1, -(2**31), 2**31, -(2**63), 10**30]), st.integers()
    ),
    "Float": st.one_of(
        st.sampled_from([0.0, -0.0, -1.0, 1e308, -1e308, 5e-324, 2.0**53 + 1]),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
    "String": st.one_of(
        st.sampled_from(
            [
                "",
                " ",
                "\x00",
                "x" * 3000,
                HUGE_DIGITS,
                "'; DROP TABLE area; --",
                "通宇",
                "\U0001f004" * 3,
                "%",
                "_",
                "\\",
            ]
        ),
        st.text(max_size=40),
    ),  # fmt: skip
    "ID": st.one_of(
        st.sampled_from(
            [
                "",
                "Enterprise:",
                "Enterprise:-1",
                "Enterprise:0",
                "Enterprise:1.5",
                f"Enterprise:{HUGE_DIGITS}",
                "Enterprise:99999999999999999999",
                "PatrolZone:2147483648",
                "Enterprise:１",
                "Area:1",
                ":1",
            ]
        ),
        st.text(max_size=30),
    ),  # fmt: skip
    "Boolean": st.booleans(),
    "Date": st.one_of(
        st.sampled_from(
            [
                "0001-01-01",
                "9999-12-31",
                "1999-12-31",
                "2101-01-01",
                "2020-02-30",
                "",
                "2020-02-28T00:00:00",
                "20200228",
            ]
        ),
        st.dates().map(lambda d: d.isoformat()),
    ),  # fmt: skip
    "DateTime": st.one_of(
        st.sampled_from(
            [
                "9999-12-31T23:59:59-12:00",
                "0001-01-01T00:00:00+14:00",
                "2099-01-01T00:00:00+08:00",
                "2020-02-28T09:00:00",
                "",
                "10000-01-01T00:00:00+00:00",
            ]
        ),
        st.datetimes(
            timezones=st.sampled_from(
                [UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))]
            )
        ).map(lambda d: d.isoformat()),
    ),  # fmt: skip
    "GeoJSON": st.sampled_from(
        [
            {"type": "Point", "coordinates": [1e308, -1e308]},
            {"type": "Point", "coordinates": []},
            {"type": "Point", "coordinates": [119.5, 25.9, 1e308]},
            {"type": "Point"},
            "x",
            1,
            [],
            {"type": "Polygon", "coordinates": [[[0, 0], [0, 0], [0, 0], [0, 0]]]},
            {"type": "GeometryCollection", "geometries": []},
            {
                "type": "MultiPolygon",
                "coordinates": [[[[180, 90], [-180, -90], [180, -90], [180, 90]]]],
            },
            {"type": "Point", "coordinates": [119.5, 25.9], "crs": {"type": "name"}},
        ]
    ),  # fmt: skip
}


def values(kind: GraphQLInputType) -> st.SearchStrategy[Any]:
    """Extreme values of a GraphQL input type (null where it is nullable)."""
    inner = get_nullable_type(kind)
    nullable = not isinstance(kind, GraphQLNonNull)
    if isinstance(inner, GraphQLList):
        drawn: st.SearchStrategy[Any] = st.one_of(
            st.just([]), st.lists(values(inner.of_type), max_size=5)
        )
    elif isinstance(inner, GraphQLEnumType):
        drawn = st.sampled_from([*inner.values, "NOPE", ""])
    elif isinstance(inner, GraphQLScalarType):
        drawn = SCALARS[inner.name]
    else:
        drawn = st.sampled_from([{}, "x"])
    return st.one_of(st.none(), drawn) if nullable else drawn


def argument_paths(args: dict[str, Any]) -> Iterator[tuple[tuple[str, ...], GraphQLInputType]]:
    """Each argument, and each field of each input object, as a path into the variables."""
    for name, argument in args.items():
        yield from _paths((name,), argument.type)


def _paths(path: tuple[str, ...], kind: GraphQLInputType) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, kind
    inner = get_nullable_type(kind)
    if isinstance(inner, GraphQLInputObjectType):
        for name, field in inner.fields.items():
            yield from _paths((*path, name), field.type)


def with_value(base: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    if len(path) == 1:
        return {**base, path[0]: value}
    inner = base.get(path[0])
    return {**base, path[0]: with_value(inner if isinstance(inner, dict) else {}, path[1:], value)}


def selection(kind: Any) -> str:
    named = kind
    while hasattr(named, "of_type"):
        named = named.of_type
    return "" if isinstance(named, GraphQLScalarType | GraphQLEnumType) else "{ __typename }"


# How to reach a type whose fields take arguments, and valid arguments of every root field.
REACH = {
    "Area": ('{ area(code: "350112") ', " }"),
    "Enterprise": ("{ enterprises(first: 2) { edges { node ", " } } }"),
    "RentalProperty": ("{ rentalProperties(first: 2) { edges { node ", " } } }"),
    "ConstructionSite": ("{ constructionSites(first: 2) { edges { node ", " } } }"),
    "PatrolZone": ("{ patrolZones ", " }"),
    "QuarantineSite": ("{ quarantineSites ", " }"),
    "Route": ("query ($zone: ID!) { inspectionRoute(zoneId: $zone) { routes ", " } }"),
}


@pytest.fixture
def targets(db: Connection, zone_id: int) -> dict[str, Any]:
    enterprise, lon, lat = db.execute(text(
        "SELECT id, ST_X(geom), ST_Y(geom) FROM enterprise ORDER BY id LIMIT 1"
    )).one()  # fmt: skip
    return {"enterprise": f"Enterprise:{enterprise}", "zone": f"PatrolZone:{zone_id}",
            "point": {"type": "Point", "coordinates": [lon, lat]}}  # fmt: skip


def valid_arguments(field: str, t: dict[str, Any]) -> dict[str, Any]:
    enterprise = t["enterprise"]
    return {
        "node": {"id": enterprise},
        "area": {"code": "350112"},
        "features": {"layer": "ENTERPRISES", "limit": 5},
        "inspectionRoute": {"zoneId": t["zone"]},
        "updateResumption": {"targetId": enterprise, "input": {"status": "FULL"}},
        "overrideFlag": {"targetId": enterprise, "color": "RED", "reason": "复查"},
        "clearFlagOverride": {"targetId": enterprise},
        "recordSignboard": {"enterpriseId": enterprise, "date": "2020-02-27"},
        "recordInspection": {"input": {
            "idempotencyKey": "extreme", "targetId": enterprise, "at": "2020-02-28T09:00:00+08:00",
            "location": t["point"], "findings": "ok", "gpsAccuracyMeters": 5}},
        "login": {"username": "nobody", "password": "x"},
    }.get(field, {})  # fmt: skip


def root_cases() -> list[tuple[str, str, tuple[str, ...]]]:
    return [
        (operation, name, path)
        for operation, root in (("query", SCHEMA.query_type), ("mutation", SCHEMA.mutation_type))
        for name, field in root.fields.items()
        for path, _ in argument_paths(field.args)
    ]


def nested_cases() -> list[tuple[str, str, tuple[str, ...]]]:
    return [
        (type_name, name, path)
        for type_name, kind in SCHEMA.type_map.items()
        if isinstance(kind, GraphQLObjectType) and not type_name.startswith("__")
        and kind not in (SCHEMA.query_type, SCHEMA.mutation_type, SCHEMA.subscription_type)
        for name, field in kind.fields.items()
        for path, _ in argument_paths(field.args)
    ]  # fmt: skip


# Order-free and sort-free: the sum of the rows' hashes (a changed row changes it).
DIGEST = "SELECT count(*), sum(hashtextextended(t::text, 0)) FROM "


def snapshot(db: Connection) -> list[Any]:
    return [db.execute(text(DIGEST + f"{table} t")).one() for table in TABLES]


def check(db: Connection, send: Callable[[], dict[str, Any]]) -> None:
    before = snapshot(db)
    body = send()
    errors = body.get("errors") or []
    for error in errors:
        code = (error.get("extensions") or {}).get("code")
        assert code and code != "INTERNAL_SERVER_ERROR", body
    if errors:
        assert snapshot(db) == before, body


EXAMPLES = settings(
    max_examples=8, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip


@pytest.mark.parametrize(("operation", "field", "path"), root_cases())
def test_extreme_root_arguments(db, gql, targets, operation, field, path):
    root = SCHEMA.query_type if operation == "query" else SCHEMA.mutation_type
    definition = root.fields[field]
    declared = ", ".join(f"${name}: {arg.type}" for name, arg in definition.args.items())
    passed = ", ".join(f"{name}: ${name}" for name in definition.args)
    document = (
        f"{operation}{f' ({declared})' if declared else ''} {{ {field}"
        f"{f'({passed})' if passed else ''} {selection(definition.type)} }}"
    )
    kind = dict(argument_paths(definition.args))[path]
    base = valid_arguments(field, targets)

    @EXAMPLES
    @given(value=values(kind))
    def extreme(value: Any) -> None:
        check(db, lambda: gql(document, **with_value(base, path, value)))

    extreme()


@pytest.mark.parametrize(("type_name", "field", "path"), nested_cases())
def test_extreme_field_arguments(db, gql, targets, type_name, field, path):
    assert type_name in REACH, f"add to REACH how a query reaches {type_name}"
    prefix, suffix = REACH[type_name]
    definition = SCHEMA.type_map[type_name].fields[field]  # type: ignore[attr-defined]
    (name,) = path if len(path) == 1 else (None,)
    assert name is not None, "nested input objects: extend this test"
    kind = definition.args[name].type
    zone = "$zone" in prefix
    head, brace = prefix.split("{", 1) if zone else ("", prefix.lstrip("{"))
    declared = f"$v: {kind}" + (", $zone: ID!" if zone else "")
    document = (f"query ({declared}) {{{brace}{{ {field}({name}: $v) {selection(definition.type)} }}"
                f"{suffix}")  # fmt: skip
    if zone:
        document = document.replace("query ($zone: ID!) ", "")

    @EXAMPLES
    @given(value=values(kind))
    def extreme(value: Any) -> None:
        check(db, lambda: gql(document, v=value, zone=targets["zone"]))

    extreme()


ROUTES = [
    "/tiles/{layer}/{z}/{x}/{y}.mvt?areaCode={area}&flag={flag}",
    "/tiles/{layer}.json",
    "/routes/{zone}/{day}.{format}?inspectors={inspectors}&shiftMinutes={shift}",
]
VALID = {"layer": "enterprises", "z": "12", "x": "3408", "y": "1743", "area": "350112109",
         "flag": "RED", "day": "2020-02-28", "format": "geojson", "inspectors": "1",
         "shift": "480"}  # fmt: skip
PARTS = st.one_of(
    st.sampled_from([HUGE_DIGITS, "0", "-1", "00000000000000000001", "1e9", "１", "٣", "%00",
                     "2147483648", "99999999999", "", "NaN", "0x10", "9999-12-31", "0001-01-01",
                     "PatrolZone:" + HUGE_DIGITS, "PatrolZone:0"]),
    st.text(max_size=12),
)  # fmt: skip


@pytest.mark.parametrize(
    ("route", "part"),
    [(r, p) for r in ROUTES for p in VALID if "{" + p + "}" in r],
)
def test_extreme_route_parts(db, client, tokens, targets, route, part):
    headers = {"Authorization": f"Bearer {tokens['district']}"}

    @EXAMPLES
    @given(value=PARTS)
    def extreme(value: str) -> None:
        url = route.format(**{**VALID, "zone": targets["zone"], part: quote(value, safe="")})
        before = snapshot(db)
        response = client.get(url, headers=headers)
        assert response.status_code < 500, (url, response.text[:300])
        if response.status_code >= 400:
            assert response.json()["errors"][0]["extensions"]["code"], url
            assert snapshot(db) == before

    extreme()
