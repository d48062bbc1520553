"""Random places in the demo district, clustered around town centres and patrol-zone offices."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from geo.seed.layout import Layout, TownShape
from geo.seed.places import PLACE_NAMES

COORD_DECIMALS = 7  # ~1 cm; points are tested for containment after rounding, as stored
BACKGROUND_SHARE = 0.2  # the rest of the points cluster around the zone offices
GOVERNMENT_SHARE = 0.4  # of the clustered points: around the town government
CLUSTER_SPREAD = 0.22  # cluster σ as a share of the square root of the town's area


@dataclass(frozen=True)
class Spots:
    x: np.ndarray
    y: np.ndarray
    town: np.ndarray  # index into Layout.towns
    place: np.ndarray  # the village or community an address names, e.g. 华阳村


def scatter(rng: np.random.Generator, layout: Layout, weights: np.ndarray, n: int) -> Spots:
    """n points strictly inside the towns, about weights[i] / sum(weights) of them in town i."""
    counts = rng.multinomial(n, weights / weights.sum())
    parts = [
        _in_town(rng, i, shape, k)
        for i, (shape, k) in enumerate(zip(layout.towns, counts, strict=True))
    ]
    order = rng.permutation(n)  # interleave the towns, as ids would be in a real register

    def joined(field: str) -> np.ndarray:
        return np.concatenate([getattr(part, field) for part in parts])[order]

    return Spots(joined("x"), joined("y"), joined("town"), joined("place"))


def place_names(shape: TownShape, index: int) -> np.ndarray:
    """What an address may name after the town: the drawn villages in their order, or else
    a made-up village (村) or community (社区) for each zone office."""
    if shape.villages:
        return np.array([v.name for v, _ in shape.villages])
    suffix = "社区" if shape.town.name.endswith("街道") else "村"
    picks = [PLACE_NAMES[(index * 7 + k * 3) % len(PLACE_NAMES)] for k in range(len(shape.zones))]
    return np.array([p + suffix for p in picks])


def _in_town(rng: np.random.Generator, index: int, shape: TownShape, k: int) -> Spots:
    offices = np.array([(z.base.x, z.base.y) for z in shape.zones])
    office_weights = np.full(len(offices), (1 - GOVERNMENT_SHARE) / max(len(offices) - 1, 1))
    office_weights[0] = GOVERNMENT_SHARE if len(offices) > 1 else 1.0
    sigma_deg = CLUSTER_SPREAD * np.sqrt(shape.boundary.area)
    xmin, ymin, xmax, ymax = shape.boundary.bounds
    xs: list[np.ndarray] = []
    found = 0
    while found < k:
        # Draw more than needed: coastal and crooked towns reject a good share.
        m = int((k - found) * 1.6) + 16
        centre = rng.choice(len(offices), size=m, p=office_weights)
        xy = offices[centre] + rng.normal(0.0, sigma_deg, size=(m, 2)) * (1.0, 0.9)
        background = rng.random(m) < BACKGROUND_SHARE
        xy[background] = rng.uniform((xmin, ymin), (xmax, ymax), size=(int(background.sum()), 2))
        xy = np.round(xy, COORD_DECIMALS)
        xy = xy[shapely.contains_xy(shape.boundary, xy[:, 0], xy[:, 1])][: k - found]
        xs.append(xy)
        found += len(xy)
    xy = np.concatenate(xs) if xs else np.zeros((0, 2))
    return Spots(xy[:, 0], xy[:, 1], np.full(len(xy), index), places_at(shape, index, xy))


def places_at(shape: TownShape, index: int, xy: np.ndarray) -> np.ndarray:
    """The village an address names: the drawn village, else that of the nearest zone office."""
    if shape.villages:
        seeds = np.array([v.seed for v, _ in shape.villages])
    else:
        seeds = np.array([(z.base.x, z.base.y) for z in shape.zones])
    # Drawn villages are the Voronoi cells of their seeds, so the nearest seed names the village.
    nearest = np.argmin(np.hypot(*(xy[:, None, :] - seeds[None, :, :]).transpose(2, 0, 1)), 1)
    return place_names(shape, index)[nearest]
