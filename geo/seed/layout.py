"""Made-up boundaries of the towns, villages and patrol zones inside the district's real outline
(outline.py), tiling each other.

Every boundary comes from one set of lines: the district outline and the Voronoi edges of the
towns, villages and zones, noded together on a 1e-6° grid and cut into faces. Each boundary is a
union of faces, so neighbours share their edges vertex for vertex and nothing gaps or overlaps.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon

from geo.seed.outline import district_outline
from geo.seed.places import TOWNS, VILLAGES, Town, Village

GRID_DEG = 1e-6  # ~10 cm: every vertex is snapped to it, so text and binary agree
EDGE_MARGIN_DEG = 1e-5  # inner lines overshoot their town so they always cross its edge
ZONE_SEED = 20200227
ZONE_SEED_INSET_DEG = 0.004  # zone offices stand ~400 m inside the town, not on its edge


@dataclass(frozen=True)
class Zone:
    ordinal: int  # 1-based: 第一片区, 第二片区, …
    boundary: Polygon
    base: Point  # the team's office: the town government for the first zone


@dataclass(frozen=True)
class TownShape:
    town: Town
    boundary: MultiPolygon
    villages: tuple[tuple[Village, MultiPolygon], ...]
    zones: tuple[Zone, ...]


@dataclass(frozen=True)
class Layout:
    district: MultiPolygon
    towns: tuple[TownShape, ...]

    def town(self, name: str) -> TownShape:
        return next(t for t in self.towns if t.town.name == name)

    def village(self, name: str) -> MultiPolygon:
        return next(v for t in self.towns for village, v in t.villages if village.name == name)


@functools.cache
def build_layout() -> Layout:
    """The demo's boundaries; pure, and cached because every seed step needs them."""
    outline = district_outline()
    town_seeds = np.array([t.government for t in TOWNS])
    rough_towns = _clip_cells(town_seeds, outline)
    village_seeds = {
        t.name: np.array([v.seed for v in VILLAGES if v.town == t.name]) for t in TOWNS
    }
    zone_seeds = {
        t.name: _zone_seeds(t, rough, np.random.default_rng([ZONE_SEED, i]))
        for i, (t, rough) in enumerate(zip(TOWNS, rough_towns, strict=True))
    }

    lines = [outline.exterior, *_voronoi_edges(town_seeds, outline)]
    for town, rough in zip(TOWNS, rough_towns, strict=True):
        for seeds in (village_seeds[town.name], zone_seeds[town.name]):
            if len(seeds) > 1:
                lines.extend(_voronoi_edges(seeds, rough))
    faces = _faces(lines, outline)

    points = shapely.point_on_surface(faces)
    coords = shapely.get_coordinates(points)
    town_of = _nearest(coords, town_seeds)
    shapes = []
    for i, town in enumerate(TOWNS):
        mine = town_of == i
        shapes.append(
            _town_shape(
                town, faces[mine], coords[mine], village_seeds[town.name], zone_seeds[town.name]
            )
        )
    district = shapely.coverage_union_all(faces)
    return Layout(district=_multi(district), towns=tuple(shapes))


def _town_shape(
    town: Town,
    faces: np.ndarray,
    coords: np.ndarray,
    village_seeds: np.ndarray,
    zone_seeds: np.ndarray,
) -> TownShape:
    villages = [v for v in VILLAGES if v.town == town.name]
    village_of = _nearest(coords, village_seeds) if villages else np.zeros(0, dtype=int)
    zone_of = _nearest(coords, zone_seeds)
    zones = []
    for z, seed in enumerate(zone_seeds):
        boundary = shapely.coverage_union_all(faces[zone_of == z])
        if not isinstance(boundary, Polygon) or not boundary.contains(Point(seed)):
            raise AssertionError(f"zone {z + 1} of {town.name} is not one polygon around its base")
        zones.append(Zone(ordinal=z + 1, boundary=boundary, base=Point(seed)))
    return TownShape(
        town=town,
        boundary=_multi(shapely.coverage_union_all(faces)),
        villages=tuple(
            (v, _multi(shapely.coverage_union_all(faces[village_of == k])))
            for k, v in enumerate(villages)
        ),
        zones=tuple(zones),
    )


def _voronoi_edges(seeds: np.ndarray, region: Polygon) -> list[shapely.Geometry]:
    """The Voronoi edges of seeds inside region, overshooting it a little."""
    extent = region.buffer(EDGE_MARGIN_DEG)
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=extent)
    return [shapely.intersection(cell.exterior, extent) for cell in cells.geoms]


def _clip_cells(seeds: np.ndarray, region: Polygon) -> list[Polygon]:
    """Each seed's Voronoi cell within region, in seed order (GEOS returns them unordered)."""
    cells = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=region).geoms
    ordered = [next(c for c in cells if c.contains(Point(s))) for s in seeds]
    return [shapely.intersection(c, region) for c in ordered]


def _faces(lines: list[shapely.Geometry], outline: Polygon) -> np.ndarray:
    noded = shapely.union_all(lines, grid_size=GRID_DEG)
    faces = np.array(shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))))
    inside = shapely.contains(outline.buffer(EDGE_MARGIN_DEG), shapely.point_on_surface(faces))
    return faces[inside]


def _zone_seeds(town: Town, rough: Polygon, rng: np.random.Generator) -> np.ndarray:
    """The town government, then offices spread over the rest of the town.

    Farthest-point sampling spreads them out; a few k-means steps then pull each office from
    the town's edge towards the middle of its zone. The government stays where it is.
    """
    inner = rough.buffer(-ZONE_SEED_INSET_DEG)
    xmin, ymin, xmax, ymax = inner.bounds
    candidates = rng.uniform((xmin, ymin), (xmax, ymax), size=(4000, 2))
    candidates = candidates[shapely.contains_xy(inner, candidates[:, 0], candidates[:, 1])]
    seeds = [np.array(town.government)]
    distance = np.hypot(*(candidates - seeds[0]).T)
    for _ in range(town.zones - 1):
        seeds.append(candidates[int(np.argmax(distance))])
        distance = np.minimum(distance, np.hypot(*(candidates - seeds[-1]).T))
    centres = np.array(seeds)
    for _ in range(8):
        nearest = _nearest(candidates, centres)
        for k in range(1, len(centres)):
            centres[k] = candidates[nearest == k].mean(axis=0)
    # A centroid can fall outside a crooked town: snap each office to its nearest candidate.
    for k in range(1, len(centres)):
        centres[k] = candidates[np.argmin(np.hypot(*(candidates - centres[k]).T))]
    return np.round(centres, 6)


def _nearest(coords: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    # Plain Euclidean distance in degrees: the metric the Voronoi diagrams were drawn in.
    return np.argmin(np.hypot(*(coords[:, None, :] - seeds[None, :, :]).transpose(2, 0, 1)), 1)


def _multi(geometry: shapely.Geometry) -> MultiPolygon:
    if isinstance(geometry, MultiPolygon):
        return geometry
    if isinstance(geometry, Polygon):
        return MultiPolygon([geometry])
    raise AssertionError(f"expected a polygon, got {geometry.geom_type}")
