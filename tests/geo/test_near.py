"""Nearest first with within_nearest: queries.page gives the same pages as every row's geodesic
distance (pyproj) sorted, for any scope, flag and cursor, while the candidates walk the GiST
index."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from pyproj import Geod
from sqlalchemy import Connection, select, text

from bench.statements import compiled
from geo import layers, queries
from geo.filters import Near, SpatialFilter, compile_filter, within_nearest
from geo.models import Role
from geo.scope import Caller

GEOD = Geod(ellps="WGS84")
CENTRE = (119.578, 25.872)
ENTERPRISES = layers.ENTERPRISES
DISTRICT = Caller(account_id=1, username="district", role=Role.DISTRICT_OFFICER)


def near(radius_m: float) -> SpatialFilter:
    return SpatialFilter(near=Near({"type": "Point", "coordinates": list(CENTRE)}, radius_m))


def pages(
    db: Connection,
    caller: Caller,
    spatial: SpatialFilter,
    flag: Sequence[str] | None,
    first: int,
    count: int,
) -> list[list[int]]:
    """`count` pages of `first` ids, nearest first, each after the last (queries.page)."""
    found: list[list[int]] = []
    after: str | None = None
    for _ in range(count):
        page = queries.page(db, caller, ENTERPRISES, spatial, flag, first, after)  # type: ignore[arg-type]
        found.append([row["id"] for row in page.rows])
        if not page.rows:
            break
        after = page.end_cursor
    return found


def naive(db: Connection, radius_m: float, where: str = "true", **params: Any) -> list[int]:
    """Every enterprise within the radius, by its distance on the ellipsoid, then id."""
    query = f"SELECT id, ST_X(geom), ST_Y(geom) FROM enterprise WHERE {where}"  # noqa: S608
    rows = db.execute(text(query), params)
    measured = []
    for id_, lon, lat in rows:
        _, _, distance = GEOD.inv(CENTRE[0], CENTRE[1], lon, lat)
        if distance <= radius_m:
            measured.append((distance, id_))
    return [id_ for _, id_ in sorted(measured)]


@pytest.mark.parametrize(("radius_m", "first"), [(2000, 50), (5000, 7), (300, 100)])
def test_pages_are_the_nearest_in_order(db: Connection, radius_m: float, first: int) -> None:
    expected = naive(db, radius_m)
    assert expected
    got = pages(db, DISTRICT, near(radius_m), None, first, 3)
    assert sum(got, []) == expected[: 3 * first]


def test_flags_and_scope_narrow_the_candidates(db: Connection) -> None:
    town_id = db.execute(text("SELECT id FROM area WHERE code = '350112109'")).scalar_one()
    town = Caller(account_id=2, username="town", role=Role.TOWN_OFFICER, town_id=town_id)
    in_town = (
        "flag_color IN ('RED', 'YELLOW') AND area_id IN (WITH RECURSIVE t AS (SELECT id FROM"
        " area WHERE id = :town UNION ALL SELECT a.id FROM area a JOIN t ON a.parent_id"
        " = t.id) SELECT id FROM t)"
    )
    expected = naive(db, 5000, in_town, town=town_id)
    assert len(expected) > 20
    got = pages(db, town, near(5000), ["RED", "YELLOW"], 10, 2)
    assert sum(got, []) == expected[:20]


def test_the_candidates_leave_the_ellipsoid_to_the_page(db: Connection) -> None:
    """The planner cannot estimate an ellipsoidal ST_DWithin: among the candidates it would
    sort every row within the radius rather than walk the index. So near's clause (a planar
    and an ellipsoidal ST_DWithin) is not among them; the one left is the bound's own."""
    filtered = compile_filter(db, ENTERPRISES, near(2000))  # type: ignore[arg-type]
    bound = within_nearest(ENTERPRISES, filtered, filtered.clauses, 51)
    sql = compiled(select(ENTERPRISES.table.c.id).where(bound))[0]
    assert "ORDER BY enterprise.geom <-> " in sql
    assert sql.count("ST_DWithin(") == 1
