"""Travel distances and times between points: a Protocol, and the straight-line provider.
A road-network provider (pgRouting's cost matrix over a `road` table) slots in beside it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

EARTH_RADIUS_M = 6_371_008.8  # the mean radius (IUGG), as PostGIS' spheroid-free distance uses

# Town streets are not straight: 1.3 is the usual ratio of road to crow-flies distance in a
# dense street grid (it runs 1.2-1.4 in published urban studies). 25 km/h is an inspector on
# an e-bike in town, stops at crossings included (the legal e-bike top speed in China is 25).
DETOUR_FACTOR = 1.3
SPEED_KMH = 25.0

LonLat = tuple[float, float]


@dataclass(frozen=True)
class Matrix:
    """Travel from point i to point j: metres, and whole seconds (what the solvers read)."""

    distance_m: np.ndarray  # float, (n, n)
    duration_s: np.ndarray  # int64, (n, n)

    def legs(self, path: Sequence[int]) -> tuple[float, int]:
        """Distance and travel time along a path of point indices."""
        pairs = list(zip(path, path[1:], strict=False))
        return (
            float(sum(self.distance_m[a, b] for a, b in pairs)),
            int(sum(self.duration_s[a, b] for a, b in pairs)),
        )


class MatrixProvider(Protocol):
    @property
    def distance_model(self) -> str:
        """What the distances were measured on: STRAIGHT_LINE, ROAD_NETWORK."""

    def matrix(self, points: Sequence[LonLat]) -> Matrix: ...


def haversine_m(points: Sequence[LonLat]) -> np.ndarray:
    """Great-circle distances between every pair of (lon, lat) points, in metres."""
    lon, lat = np.radians(np.asarray(points, dtype=float).reshape(-1, 2)).T
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


@dataclass(frozen=True)
class StraightLine:
    """Great-circle distance times a detour factor, at a constant speed."""

    detour_factor: float = DETOUR_FACTOR
    speed_kmh: float = SPEED_KMH
    distance_model: str = "STRAIGHT_LINE"

    def matrix(self, points: Sequence[LonLat]) -> Matrix:
        distance_m = haversine_m(points) * self.detour_factor
        duration_s = np.rint(distance_m / (self.speed_kmh / 3.6)).astype(np.int64)
        return Matrix(distance_m=distance_m, duration_s=duration_s)
