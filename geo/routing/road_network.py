"""Travel on the road network: points snapped to the nearest road vertex, pgRouting's cost
matrices between those vertices, and a route's line drawn along the roads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from shapely import wkb
from shapely.geometry import LineString
from sqlalchemy import Connection, text

from geo.routing.matrix import LonLat, Matrix, StraightLine

# Roads this far (degrees, ~2 km) beyond the points' bounding box are kept in the graph, so a
# detour round a river or a one-way block can leave the box; farther ones are left out to keep
# pgRouting's graph small. The edge queries are built by the server's format() from bound
# values: pgRouting takes them as SQL text.
MARGIN_DEG = 0.02
EDGES = (
    "SELECT id, source, target, {cost} AS cost,"
    " CASE WHEN reverse_cost_s < 0 THEN -1 ELSE {cost} END AS reverse_cost FROM road"
    " WHERE geom && ST_Expand(ST_MakeEnvelope(%L, %L, %L, %L, 4326), %L)"
)
EDGES_BY_TIME = EDGES.format(cost="cost_s")
EDGES_BY_LENGTH = EDGES.format(cost="length_m")
# The KNN operator on lon/lat orders by degrees, which shrink eastwards by cos(latitude):
# take a few candidates by index, then the nearest of them on the ellipsoid.
SNAP_CANDIDATES = 8


@dataclass(frozen=True)
class Snap:
    vertex: int
    lon: float
    lat: float
    distance_m: float  # from the point to its vertex, on the ellipsoid


@dataclass(frozen=True)
class RoadNetwork:
    """Road distances and times between points, each point reaching the road at its nearest
    vertex (a junction or a way's end); that last stretch is costed as the straight-line
    model costs any leg. A pair the roads do not join (a piece of road cut off from the rest)
    falls back to the straight-line estimate."""

    connection: Connection
    straight: StraightLine = field(default_factory=StraightLine)
    distance_model: str = "ROAD_NETWORK"

    def matrix(self, points: Sequence[LonLat]) -> Matrix:
        fallback = self.straight.matrix(points)
        snaps = self.snap(points)
        if len(snaps) != len(points):  # no roads at all
            return fallback
        vertices = sorted({s.vertex for s in snaps})
        position = {v: k for k, v in enumerate(vertices)}
        road_m, road_s = self._between(vertices, points)
        index = np.array([position[s.vertex] for s in snaps])
        # Distance: the shortest road path; time: the fastest. They differ only where speeds do.
        snap_m = np.array([s.distance_m for s in snaps]) * self.straight.detour_factor
        snap_s = snap_m / (self.straight.speed_kmh / 3.6)
        distance_m = snap_m[:, None] + road_m[np.ix_(index, index)] + snap_m[None, :]
        duration_s = snap_s[:, None] + road_s[np.ix_(index, index)] + snap_s[None, :]
        unreachable = np.isnan(distance_m) | np.isnan(duration_s)
        distance_m = np.where(unreachable, fallback.distance_m, distance_m)
        duration_s = np.where(unreachable, fallback.duration_s, duration_s)
        np.fill_diagonal(distance_m, 0.0)
        np.fill_diagonal(duration_s, 0.0)
        return Matrix(distance_m=distance_m, duration_s=np.rint(duration_s).astype(np.int64))

    def snap(self, points: Sequence[LonLat]) -> list[Snap]:
        """Each point's nearest road vertex, in the order of the points."""
        rows = self.connection.execute(
            text(
                """
                SELECT v.id, ST_X(v.geom), ST_Y(v.geom), v.distance_m
                FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[]))
                    WITH ORDINALITY AS p(lon, lat, i)
                CROSS JOIN LATERAL (
                    SELECT id, geom, ST_Distance(geom::geography, here::geography) AS distance_m
                    FROM (
                        SELECT id, geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326) AS here
                        FROM road_vertex
                        ORDER BY geom <-> ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)
                        LIMIT :candidates
                    ) AS near
                    ORDER BY distance_m
                    LIMIT 1
                ) AS v
                ORDER BY p.i
                """
            ),
            {
                "lons": [lon for lon, _ in points],
                "lats": [lat for _, lat in points],
                "candidates": SNAP_CANDIDATES,
            },
        ).all()
        return [Snap(int(row[0]), row[1], row[2], row[3]) for row in rows]

    def _between(
        self, vertices: list[int], points: Sequence[LonLat]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Metres and seconds between every pair of vertices; NaN where no road joins them."""
        size = len(vertices)
        road_m = np.full((size, size), np.nan)
        road_s = np.full((size, size), np.nan)
        np.fill_diagonal(road_m, 0.0)
        np.fill_diagonal(road_s, 0.0)
        if size < 2:
            return road_m, road_s
        rows = self.connection.execute(
            text(
                """
                SELECT t.start_vid, t.end_vid, d.agg_cost, t.agg_cost
                FROM pgr_dijkstraCostMatrix(
                    format(:by_time, :xmin, :ymin, :xmax, :ymax, :margin),
                    CAST(:vertices AS bigint[])
                ) AS t
                JOIN pgr_dijkstraCostMatrix(
                    format(:by_length, :xmin, :ymin, :xmax, :ymax, :margin),
                    CAST(:vertices AS bigint[])
                ) AS d USING (start_vid, end_vid)
                """
            ),
            {
                "by_time": EDGES_BY_TIME,
                "by_length": EDGES_BY_LENGTH,
                "vertices": vertices,
                **_box(points),
            },
        ).all()
        if rows:
            position = {v: k for k, v in enumerate(vertices)}
            i = [position[row[0]] for row in rows]
            j = [position[row[1]] for row in rows]
            road_m[i, j] = [row[2] for row in rows]
            road_s[i, j] = [row[3] for row in rows]
        return road_m, road_s

    def path(self, points: Sequence[LonLat]) -> LineString:
        """The line through the points in order along the fastest roads: each point, its
        vertex, the edges walked (reversed where ridden target to source), the next point. A
        leg the roads do not join is drawn straight."""
        snaps = self.snap(points)
        if len(snaps) != len(points) or len(points) < 2:  # no roads, or nowhere to go
            return LineString([*points, *points] if len(points) < 2 else points)
        legs = self._legs(snaps)
        line: list[tuple[float, float]] = [points[0]]
        for a, b, there in zip(snaps, snaps[1:], points[1:], strict=False):
            line.append((a.lon, a.lat))
            for piece in legs.get((a.vertex, b.vertex), []):
                line.extend(piece)
            line.extend([(b.lon, b.lat), there])
        line = [p for k, p in enumerate(line) if k == 0 or p != line[k - 1]]
        return LineString(line if len(line) > 1 else line * 2)  # a stay at the base: still a line

    def _legs(self, snaps: list[Snap]) -> dict[tuple[int, int], list[list[tuple[float, float]]]]:
        """The edges' points of the fastest path between consecutive snaps, in order."""
        pairs = zip(snaps, snaps[1:], strict=False)
        wanted = list(dict.fromkeys((a.vertex, b.vertex) for a, b in pairs if a.vertex != b.vertex))
        if not wanted:
            return {}
        rows = self.connection.execute(
            text(
                """
                SELECT d.start_vid, d.end_vid, d.node = r.source, ST_AsBinary(r.geom)
                FROM pgr_dijkstra(
                    format(:edges, :xmin, :ymin, :xmax, :ymax, :margin),
                    format(
                        'SELECT unnest(%L::bigint[]) AS source, unnest(%L::bigint[]) AS target',
                        CAST(:sources AS bigint[]), CAST(:targets AS bigint[])
                    ),
                    directed => true
                ) AS d
                JOIN road AS r ON r.id = d.edge
                ORDER BY d.start_vid, d.end_vid, d.path_seq
                """
            ),
            {
                "edges": EDGES_BY_TIME,
                "sources": [a for a, _ in wanted],
                "targets": [b for _, b in wanted],
                **_box([(s.lon, s.lat) for s in snaps]),
            },
        ).all()
        legs: dict[tuple[int, int], list[list[tuple[float, float]]]] = {}
        for start, end, forward, geometry in rows:
            coords = list(wkb.loads(bytes(geometry)).coords)
            legs.setdefault((start, end), []).append(coords if forward else coords[::-1])
        return legs


def _box(points: Sequence[LonLat]) -> dict[str, float]:
    lons = [lon for lon, _ in points]
    lats = [lat for _, lat in points]
    return {
        "xmin": min(lons),
        "ymin": min(lats),
        "xmax": max(lons),
        "ymax": max(lats),
        "margin": MARGIN_DEG,
    }


def roads_cover(connection: Connection, zone_id: int) -> bool:
    """Whether road vertices lie inside the zone's boundary: then its plan rides the roads."""
    return bool(
        connection.execute(
            text(
                "SELECT EXISTS (SELECT FROM patrol_zone AS z JOIN road_vertex AS v"
                " ON ST_Intersects(z.boundary, v.geom) WHERE z.id = :zone_id)"
            ),
            {"zone_id": zone_id},
        ).scalar_one()
    )
