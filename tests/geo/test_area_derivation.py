"""The database places every feature in the smallest area that covers it, whatever input says."""

from __future__ import annotations

from sqlalchemy import Connection, text

INSERT = """
INSERT INTO enterprise (name, category, address, geom, staff_total, staff_returned,
    staff_out_of_province, hubei_staff_retained, resumption, problems, has_dormitory, area_id)
VALUES ('测试企业', 'OTHER', '测试地址', ST_SetSRID(ST_MakePoint(:lon, :lat), 4326),
    0, 0, 0, 0, 'FULL', '{}', false, :claimed)
RETURNING area_id
"""


def finest_area_at(db: Connection, lon: float, lat: float) -> int:
    return db.execute(
        text("""SELECT id FROM area WHERE ST_Covers(boundary, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
                ORDER BY level DESC LIMIT 1"""),
        {"lon": lon, "lat": lat},
    ).scalar_one()


def village_point(db: Connection) -> tuple[float, float]:
    return db.execute(
        text("""SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(boundary) p FROM area
                WHERE level = 'VILLAGE' ORDER BY code LIMIT 1) v""")
    ).one()


def test_an_input_area_is_ignored(db: Connection):
    lon, lat = village_point(db)
    district = db.execute(text("SELECT id FROM area WHERE code = '350112'")).scalar_one()
    derived = db.execute(text(INSERT), {"lon": lon, "lat": lat, "claimed": district}).scalar_one()
    assert derived == finest_area_at(db, lon, lat) != district


def test_moving_a_feature_moves_its_area(db: Connection):
    lon, lat = village_point(db)
    new_id = db.execute(
        text(INSERT.replace("RETURNING area_id", "RETURNING id")),
        {"lon": 119.0, "lat": 25.0, "claimed": None},
    ).scalar_one()
    assert (
        db.execute(text("SELECT area_id FROM enterprise WHERE id = :id"), {"id": new_id}).scalar()
        is None
    )
    db.execute(
        text(
            "UPDATE enterprise SET geom = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) WHERE id = :id"
        ),
        {"lon": lon, "lat": lat, "id": new_id},
    )
    area = db.execute(
        text("SELECT area_id FROM enterprise WHERE id = :id"), {"id": new_id}
    ).scalar()
    assert area == finest_area_at(db, lon, lat)


def test_a_zone_across_two_towns_belongs_to_the_district(db: Connection):
    zone = db.execute(
        text("""INSERT INTO patrol_zone (name, boundary, team_name, team_leader, base)
                SELECT 'cross', ST_Buffer(ST_Centroid(ST_Union(boundary)), 0.05), 't', 'l',
                       ST_Centroid(ST_Union(boundary))
                FROM area WHERE level = 'TOWN' RETURNING area_id""")
    ).scalar_one()
    level = db.execute(text("SELECT level FROM area WHERE id = :id"), {"id": zone}).scalar_one()
    assert level == "DISTRICT"


def test_new_boundaries_place_every_feature_again(db: Connection):
    enterprise_id, old_area = db.execute(
        text("SELECT id, area_id FROM enterprise WHERE area_id IS NOT NULL ORDER BY id LIMIT 1")
    ).one()
    db.execute(
        text("""INSERT INTO area (code, name, name_pinyin, level, parent_id, synthetic, boundary)
                SELECT '350112999001', '测试村', 'Ceshi Cun', 'VILLAGE', a.id, true,
                       ST_Multi(ST_Buffer(e.geom, 0.0005))
                FROM enterprise e JOIN area a ON a.id = e.area_id WHERE e.id = :id"""),
        {"id": enterprise_id},
    )
    new_area = db.execute(
        text("SELECT a.code FROM enterprise e JOIN area a ON a.id = e.area_id WHERE e.id = :id"),
        {"id": enterprise_id},
    ).scalar_one()
    assert new_area == "350112999001" and old_area is not None
