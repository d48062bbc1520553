"""OGC API – Features under /ogc, through the ASGI app against the seeded PostGIS: the documents,
paging, CRS, filters checked against shapely and pyproj on the same rows, access and audit as
GraphQL's, and hostile parameters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import shapely
from openapi_spec_validator import validate
from pyproj import Geod, Transformer
from shapely import wkb
from sqlalchemy import Connection, text
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import get_settings
from tests.conftest import GraphQLClient

OGC = "/ogc"
JINFENG = "350112109"
GEOD = Geod(ellps="WGS84")
TO_3857 = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
VIEW = [119.50, 25.85, 119.60, 25.95]
Get = Callable[..., Any]


@pytest.fixture
def ogc(client: TestClient, tokens: dict[str, str]) -> Callable[[str | None], Get]:
    """A GET as this user (None: anonymous), returning the response."""

    def as_user(username: str | None) -> Get:
        headers = {"Authorization": f"Bearer {tokens[username]}"} if username else {}
        return lambda path, **params: client.get(
            f"{OGC}{path}", params=params or None, headers=headers
        )

    return as_user


def every(get: Get, path: str, **params: Any) -> tuple[list[dict[str, Any]], list[int]]:
    """Every feature by following `next` links, and numberMatched on each page."""
    features, matched = [], []
    body = get(path, **params).json()
    while True:
        features += body["features"]
        matched.append(body["numberMatched"])
        following = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not following:
            return features, matched
        assert len(following) == 1
        body = get(following[0].split(OGC, 1)[1]).json()


def rows(db: Connection, sql: str) -> dict[str, Any]:
    """{global id: shapely geometry} of the rows a query names, read independently."""
    return {key: wkb.loads(bytes(geometry)) for key, geometry in db.execute(text(sql))}


def assert_problem(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["detail"] and body["code"]
    return body  # type: ignore[no-any-return]


def test_landing_conformance_and_a_valid_openapi_document(ogc):
    get = ogc(None)
    landing = get("").json()
    rels = {link["rel"]: link["href"] for link in landing["links"]}
    assert {"service-desc", "conformance", "data"} <= set(rels)
    conforms = get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conforms
    assert "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter" in conforms
    api = get("/api")
    assert api.headers["content-type"].startswith("application/vnd.oai.openapi+json")
    validate(api.json())  # raises on an invalid OpenAPI 3.0 document
    assert "/collections/enterprises/items" in api.json()["paths"]


def test_anonymous_sees_the_public_collections_an_officer_all(ogc):
    anonymous = [c["id"] for c in ogc(None)("/collections").json()["collections"]]
    assert anonymous == ["areas", "enterprises", "construction_sites"]
    town = ogc("town")("/collections").json()["collections"]
    assert len(town) == 6
    enterprises = next(c for c in town if c["id"] == "enterprises")
    assert f"{EPSG}3857" in enterprises["crs"] and enterprises["itemType"] == "feature"
    west, south, east, north = enterprises["extent"]["spatial"]["bbox"][0]
    assert 119.3 < west < east < 119.8 and 25.6 < south < north < 26.1
    assert_problem(ogc(None)("/collections/rental_properties"), 404)
    assert_problem(ogc(None)("/collections/rental_properties/items"), 404)


@pytest.mark.parametrize("username", [None, "town", "inspector", "district"])
def test_paging_yields_every_feature_once_and_counts_match_graphql(
    ogc, as_user, anonymous, username
):
    gql: GraphQLClient = as_user(username) if username else anonymous
    bbox = ",".join(map(str, VIEW))
    features, matched = every(ogc(username), "/collections/enterprises/items", bbox=bbox, limit=37)
    ids = [feature["id"] for feature in features]
    assert len(ids) == len(set(ids))
    total = gql.data(
        "query ($b: [Float!]) { enterprises(where: {bbox: $b}) { totalCount } }", b=VIEW
    )["enterprises"]["totalCount"]
    assert set(matched) == {total} and len(ids) == total


@pytest.mark.parametrize(
    ("username", "collection", "params"),
    [
        (None, "enterprises", {"bbox": ",".join(map(str, VIEW)), "limit": 5}),
        ("town", "enterprises", {"filter": "flag = 'RED'", "limit": 5}),
        ("town", "rental_properties", {"limit": 5}),  # personal data, masked in Python
    ],
)
def test_each_page_and_its_count_are_one_statement(ogc, statements, username, collection, params):
    """numberMatched comes with the page it counts: a page of any layer, filtered or not, as
    any caller, reads its rows in one statement (issue 14's round trips)."""
    get = ogc(username)
    table = {"enterprises": "enterprise", "rental_properties": "rental_property"}[collection]
    statements.clear()
    first = get(f"/collections/{collection}/items", **params).json()
    assert len([s for s in statements if f"FROM {table}" in s]) == 1, statements
    following = next(link["href"] for link in first["links"] if link["rel"] == "next")
    statements.clear()
    second = get(following.split(OGC, 1)[1]).json()
    assert len([s for s in statements if f"FROM {table}" in s]) == 1, statements
    assert first["numberMatched"] == second["numberMatched"] > 5
    assert first["numberReturned"] == second["numberReturned"] == 5


def test_the_same_filter_counts_as_graphql_for_an_officer(ogc, as_user):
    query = (
        """query ($a: String) { enterprises(where: {areaCode: $a}, flag: [RED]) { totalCount } }"""
    )
    total = as_user("district").data(query, a=JINFENG)["enterprises"]["totalCount"]
    body = ogc("district")("/collections/enterprises/items", areaCode=JINFENG, flag="RED").json()
    assert body["numberMatched"] == total > 0
    cql = ogc("district")(
        "/collections/enterprises/items", filter=f"areaCode = '{JINFENG}' AND flag = 'RED'"
    ).json()
    assert cql["numberMatched"] == total


def test_web_mercator_output_and_bbox_crs_give_the_same_features(ogc):
    get = ogc(None)
    bbox = ",".join(map(str, VIEW))
    plain, _ = every(get, "/collections/enterprises/items", bbox=bbox, limit=1000)
    west, south = TO_3857.transform(VIEW[0], VIEW[1])
    east, north = TO_3857.transform(VIEW[2], VIEW[3])
    response = get(
        "/collections/enterprises/items",
        bbox=f"{west},{south},{east},{north}",
        **{"bbox-crs": f"{EPSG}3857", "crs": f"{EPSG}3857", "limit": 1000},
    )
    assert response.headers["content-crs"] == f"<{EPSG}3857>"
    mercator = {
        feature["id"]: feature["geometry"]["coordinates"] for feature in response.json()["features"]
    }
    assert set(mercator) == {feature["id"] for feature in plain}
    for feature in plain:
        x, y = TO_3857.transform(*feature["geometry"]["coordinates"])
        assert mercator[feature["id"]] == pytest.approx([x, y], abs=0.02)
    assert "crs" not in response.json()["features"][0]["geometry"]  # RFC 7946 has no crs member


@pytest.mark.parametrize("code", ["4326", "4490"])
def test_geographic_epsg_crs_put_latitude_first(ogc, code):
    get = ogc(None)
    lon_lat = get("/collections/enterprises/items/Enterprise:1").json()["geometry"]["coordinates"]
    lat_lon = get("/collections/enterprises/items/Enterprise:1", crs=f"{EPSG}{code}")
    assert lat_lon.headers["content-crs"] == f"<{EPSG}{code}>"
    assert lat_lon.json()["geometry"]["coordinates"] == pytest.approx(lon_lat[::-1], abs=1e-6)
    swapped = f"{VIEW[1]},{VIEW[0]},{VIEW[3]},{VIEW[2]}"
    by_lat_lon = get("/collections/enterprises/items", bbox=swapped, **{"bbox-crs": f"EPSG:{code}"})
    by_lon_lat = get("/collections/enterprises/items", bbox=",".join(map(str, VIEW)))
    assert by_lat_lon.json()["numberMatched"] == by_lon_lat.json()["numberMatched"] > 0


def test_s_intersects_and_s_dwithin_match_shapely_and_pyproj(ogc, db):
    get = ogc(None)
    polygon = "POLYGON((119.52 25.86,119.58 25.86,119.58 25.92,119.52 25.92,119.52 25.86))"
    found, _ = every(
        get, "/collections/enterprises/items", filter=f"S_INTERSECTS(geometry,{polygon})", limit=500
    )
    points = rows(db, "SELECT 'Enterprise:' || id, ST_AsBinary(geom) FROM enterprise")
    area = shapely.from_wkt(polygon)
    assert {f["id"] for f in found} == {k for k, p in points.items() if area.intersects(p)}
    near = "S_DWITHIN(geometry, POINT(119.55 25.9), 1500, meters) AND staffTotal > 50"
    found, _ = every(get, "/collections/enterprises/items", filter=near, limit=500)
    staff = dict(db.execute(text("SELECT 'Enterprise:' || id, staff_total FROM enterprise")).all())
    expected = {
        key
        for key, point in points.items()
        if GEOD.inv(119.55, 25.9, point.x, point.y)[2] <= 1500 and staff[key] > 50
    }
    assert {f["id"] for f in found} == expected and expected


def test_comparisons_or_not_like_and_datetime(ogc, db):
    get = ogc(None)
    facts = db.execute(
        text(
            "SELECT 'Enterprise:' || id, flag_color::text, staff_total, name, flag_since FROM enterprise"
        )
    ).all()
    cql = "(flag = 'RED' OR flag = 'YELLOW') AND NOT staffTotal <= 100 AND name LIKE '%有限公司'"
    found, _ = every(get, "/collections/enterprises/items", filter=cql, limit=1000)
    expected = {
        key for key, flag, staff, name, _ in facts
        if flag in ("RED", "YELLOW") and staff > 100 and name.endswith("有限公司")
    }  # fmt: skip
    assert {f["id"] for f in found} == expected and expected
    day = get("/collections/enterprises/items", datetime="2020-02-27", limit=1000).json()
    on_the_day = {key for key, *_, since in facts if since.isoformat()[:10] == "2020-02-27"}
    assert {f["id"] for f in day["features"]} == on_the_day


def test_personal_data_masked_and_audited_as_in_graphql(ogc, as_user, db):
    audited = "SELECT count(*) FROM audit_log"
    before = db.execute(text(audited)).scalar_one()
    town = ogc("town")("/collections/rental_properties/items", limit=3).json()["features"]
    shown = [f["properties"]["landlordPhone"] for f in town]
    assert all(phone and "*" not in phone for phone in shown)  # the town officer's need
    targets = db.execute(
        text("SELECT target, fields FROM audit_log ORDER BY id DESC LIMIT 3")
    ).all()
    assert {target for target, _ in targets} == {f["id"] for f in town}
    assert all(sorted(fields) == ["address", "landlordPhone"] for _, fields in targets)
    before = db.execute(text(audited)).scalar_one()
    district = ogc("district")(f"/collections/rental_properties/items/{town[0]['id']}").json()
    graphql = as_user("district").data(
        "query ($id: ID!) { node(id: $id) { ... on RentalProperty { landlordPhone address } } }",
        id=town[0]["id"],
    )["node"]
    assert district["properties"]["landlordPhone"] == graphql["landlordPhone"]
    assert "****" in district["properties"]["landlordPhone"]
    assert district["properties"]["address"] == graphql["address"]
    assert db.execute(text(audited)).scalar_one() == before  # masked reads are not audited
    anonymous = ogc(None)("/collections/enterprises/items", limit=50).json()["features"]
    assert all(f["properties"]["contactPhone"] is None for f in anonymous)


def test_personal_data_is_not_queryable(ogc):
    body = assert_problem(
        ogc("town")("/collections/rental_properties/items", filter="landlordPhone = '1'")
    )
    assert "landlordPhone" in body["detail"]
    assert_problem(ogc("town")("/collections/rental_properties/items", landlordPhone="1"))


def test_html_by_f_or_accept_with_a_map_and_a_table(ogc, client):
    page = ogc(None)("/collections/enterprises/items", f="html", limit=20)
    assert page.headers["content-type"].startswith("text/html")
    assert "<svg" in page.text and page.text.count("<circle") == 20 and "<table>" in page.text
    browser = client.get(
        f"{OGC}/collections", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )
    assert (
        browser.headers["content-type"].startswith("text/html")
        and "construction_sites" in browser.text
    )
    assert ogc(None)("/collections").headers["content-type"] == "application/json"


HOSTILE = [
    {"bbox": "200,0,210,10"},
    {"bbox": "119.6,25.9,119.5,25.8"},
    {"bbox": "1,2,3"},
    {"limit": "100001"},
    {"limit": "0"},
    {"limit": "-5"},
    {"filter": "flag = "},
    {"filter": "flag = 'PURPLE'"},
    {"filter": "staffTotal = 'many'"},
    {"filter": "T_AFTER(flagSince, TIMESTAMP('2020-01-01T00:00:00Z'))"},
    {"filter": "S_DWITHIN(geometry, POLYGON((0 0,1 0,1 1,0 0)), 5, meters)"},
    {"filter": "S_INTERSECTS(geometry, POLYGON((0 0,1 1,1 0,0 1,0 0)))"},
    {"filter": "nosuch = 1"},
    {"filter": "areaCode = '999'"},
    {"filter": "flag = 'RED'", "filter-lang": "sql"},
    {"crs": "EPSG:2000"},
    {"bbox-crs": "EPSG:4979", "bbox": "1,2,3,4"},
    {"datetime": "yesterday"},
    {"datetime": "2020-02-27T00:00:00"},
    {"cursor": "not-ours"},
    {"unknown": "1"},
    {"filter": "x" * 9_000},  # over MAX_FILTER_CHARS, under the query string cap
    {"filter": "x" * 60_000},  # over the query string cap (100 KB: tests/api/test_ogc_gdal.py)
]


@pytest.mark.parametrize("params", HOSTILE, ids=lambda p: repr(p)[:40])
def test_hostile_parameters_are_400_problems_and_change_nothing(ogc, db, params):
    counts = "SELECT (SELECT count(*) FROM audit_log), (SELECT count(*) FROM enterprise)"
    before = db.execute(text(counts)).one()
    assert_problem(ogc("town")("/collections/enterprises/items", **params))
    assert db.execute(text(counts)).one() == before


def test_deeply_nested_filters_neither_crash_nor_pass_unchecked(sessions):
    """cql2 recurses in Rust: 3,000 parentheses overflow a default thread stack (SIGSEGV, which
    would end this very test process). A query string cap that lets them through, encoded."""
    settings = replace(get_settings(), max_query_string_bytes=64_000)
    with TestClient(create_app(settings, sessions=sessions)) as client:
        items = f"{OGC}/collections/enterprises/items"
        nested = "(" * 3000 + "flag = 'RED'" + ")" * 3000
        assert client.get(items, params={"filter": nested, "limit": 1}).status_code == 200
        negated = "staffTotal = " + "-" * 7000 + "1"  # minus minus ... one: one
        found = client.get(items, params={"filter": negated, "limit": 1000}).json()["features"]
        assert found and {feature["properties"]["staffTotal"] for feature in found} == {1}


def test_one_feature_by_its_id_and_not_another_collections(ogc):
    get = ogc(None)
    feature = get("/collections/enterprises/items/Enterprise:3")
    assert feature.headers["content-type"] == "application/geo+json"
    assert feature.json()["id"] == "Enterprise:3"
    assert_problem(get("/collections/construction_sites/items/Enterprise:3"), 404)
    assert_problem(get("/collections/enterprises/items/Enterprise:999999"), 404)


def test_area_codes_combine_with_each_other_and_with_a_town_officers_scope(ogc, as_user):
    """Each area subtree is a CTE of its own: two in one statement must not clash."""
    query = "query ($a: String) { enterprises(where: {areaCode: $a}) { totalCount } }"
    items = "/collections/enterprises/items"
    town = ogc("town")(items, areaCode=JINFENG).json()["numberMatched"]
    assert town == as_user("town").data(query, a=JINFENG)["enterprises"]["totalCount"] > 0
    each = [
        ogc(None)(items, areaCode=code).json()["numberMatched"] for code in (JINFENG, "350112105")
    ]
    either = f"areaCode = '{JINFENG}' OR areaCode = '350112105'"
    assert ogc(None)(items, filter=either).json()["numberMatched"] == sum(each)


def test_personal_data_unaudited_is_personal_data_unsent(ogc, db):
    """If the audit log cannot be written, the officer gets a 503 and no phone numbers."""
    db.execute(
        text(
            "CREATE FUNCTION pg_temp.refuse() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'audit log unavailable'; END $$;"
            " CREATE TRIGGER refuse BEFORE INSERT ON audit_log"
            " FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse()"
        )
    )
    refused = ogc("town")("/collections/rental_properties/items", limit=3)
    assert refused.status_code == 503 and "landlord" not in refused.text.lower()
    assert refused.json()["code"] == "INTERNAL_SERVER_ERROR"
    anonymous = ogc(None)("/collections/enterprises/items", limit=3)
    assert anonymous.status_code == 200  # nothing personal read, nothing to audit


def test_a_town_officer_sees_phones_in_full_only_in_their_own_town(ogc, as_user):
    """Enterprises everywhere are public; the officer's role counts on their own rows only."""
    get, items = ogc("town"), "/collections/enterprises/items"
    own = get(items, areaCode=JINFENG, limit=200).json()["features"]
    phones = [f["properties"]["contactPhone"] for f in own if f["properties"]["contactPhone"]]
    assert phones and all("*" not in phone for phone in phones)
    elsewhere = get(items, areaCode="350112105", limit=200).json()["features"]
    assert elsewhere and all(f["properties"]["contactPhone"] is None for f in elsewhere)
    query = "query ($id: ID!) { node(id: $id) { ... on Enterprise { contactPhone } } }"
    for feature in (own[0], elsewhere[0]):
        graphql = as_user("town").data(query, id=feature["id"])["node"]["contactPhone"]
        assert graphql == feature["properties"]["contactPhone"]
    assert all("_own" not in feature for feature in own + elsewhere)
