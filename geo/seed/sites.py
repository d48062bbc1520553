"""Generated construction sites: rectangular footprints inside one town, an entrance on the edge,
and their flags' history over February."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from geo.flag_rules import Facts
from geo.models import ResumptionStatus
from geo.seed.copytext import (
    NULL,
    Batch,
    batch_of_columns,
    boolean,
    ewkb,
    integers,
    points_ewkb,
    text_array,
)
from geo.seed.draws import pick, uniform
from geo.seed.enterprises import (
    PROBLEM_COUNT_SHARES,
    RESUMPTION_SHARES,
    RESUMPTIONS,
    RETURNED_SHARE,
)
from geo.seed.history import Histories, histories
from geo.seed.layout import Layout
from geo.seed.scatter import COORD_DECIMALS, Spots, scatter
from geo.targets import TargetKind

M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_AT_EQUATOR = 111_320.0

# kind, share, length range (m), width range (m), median workers, how the name ends
KINDS = (
    ("住宅", 0.30, (120, 300), (80, 200), 90, "住宅项目"),
    ("厂房", 0.25, (100, 250), (60, 150), 60, "厂房建设项目"),
    ("安置房", 0.12, (150, 300), (100, 200), 120, "安置房项目"),
    ("市政道路", 0.15, (600, 2000), (24, 40), 50, "道路改造工程"),
    ("学校", 0.08, (150, 250), (100, 180), 70, "学校改扩建工程"),
    ("水利", 0.10, (200, 600), (30, 80), 40, "排涝工程"),
)
KEY_PROJECT_SHARE = 0.12
OUT_OF_PROVINCE_SHARE = 0.5  # building crews come from Sichuan, Jiangxi, Anhui …
HOTEL_SHARE = (0.05, 0.5)  # of ordinary and of key projects: crews watched at a hotel
PROBLEMS = ("工人未返岗", "建材供应不足", "防疫物资不足", "运输受阻", "资金周转困难")
FIRST_PROBLEM = "工人未返岗"  # on 3 February, every site's

COLUMNS = (
    "id", "name", "kind", "key_project", "footprint", "entrance", "workers_total",
    "workers_returned", "workers_out_of_province", "resumption", "quarantine_site_id", "problems",
    "flag_color", "flag_reason", "flag_since", "resumption_reported_at",
)  # fmt: skip


def site_facts(
    workers: int, returned: int, status: ResumptionStatus, problems: tuple[str, ...]
) -> Facts:
    return Facts(status, workers, returned, None, problems, people="workers")


def flag_columns(history: Histories) -> dict[str, list[str]]:
    return {
        "flag_color": history.flag_color,
        "flag_reason": history.flag_reason,
        "flag_since": history.flag_since,
        "resumption_reported_at": history.reported_at,
    }


@dataclass(frozen=True)
class Footprints:
    polygons: np.ndarray
    entrance_x: np.ndarray
    entrance_y: np.ndarray


def footprints(
    x: np.ndarray, y: np.ndarray, length_m: np.ndarray, width_m: np.ndarray, angle_rad: np.ndarray
) -> Footprints:
    """Rectangles centred on (x, y), the long side at angle_rad from east.

    The entrance, the middle of a long side, is kept as a vertex of the ring so that it lies
    exactly on the boundary once rounded.
    """
    local = np.array(
        [(-0.5, -0.5), (0.0, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5), (-0.5, -0.5)]
    )
    along = local[None, :, 0] * length_m[:, None]
    across = local[None, :, 1] * width_m[:, None]
    cos, sin = np.cos(angle_rad)[:, None], np.sin(angle_rad)[:, None]
    east_m, north_m = along * cos - across * sin, along * sin + across * cos
    m_per_deg_lon = M_PER_DEG_LON_AT_EQUATOR * np.cos(np.radians(y))[:, None]
    ring = np.stack([x[:, None] + east_m / m_per_deg_lon, y[:, None] + north_m / M_PER_DEG_LAT], -1)
    ring = np.round(ring, COORD_DECIMALS)
    return Footprints(shapely.polygons(ring), ring[:, 1, 0], ring[:, 1, 1])


def site_batch(
    layout: Layout,
    rng: np.random.Generator,
    first_id: int,
    n: int,
    hotels: dict[int, tuple[float, float]],
) -> list[Batch]:
    """The sites, then their flags' history."""
    kind = pick(rng, np.broadcast_to([k[1] for k in KINDS], (n, len(KINDS))))
    spots, shapes = _placed(rng, layout, kind)
    town_names = np.array([t.town.name for t in layout.towns])[spots.town]
    median = np.array([k[4] for k in KINDS])[kind]
    workers = np.clip(np.rint(median * rng.lognormal(0.0, 0.7, n)), 5, 800).astype(np.int64)
    resumption = pick(rng, np.broadcast_to(RESUMPTION_SHARES, (n, 3)))
    returned = rng.binomial(workers, uniform(rng, np.array(RETURNED_SHARE)[resumption]))
    out_of_province = rng.binomial(workers, OUT_OF_PROVINCE_SHARE)
    key = rng.random(n) < KEY_PROJECT_SHARE
    at_hotel = rng.random(n) < np.array(HOTEL_SHARE)[key.astype(int)]
    ids = np.arange(first_id, first_id + n)
    problems = _problems(rng, resumption)
    finals = [
        site_facts(w, k, RESUMPTIONS[r], p)
        for w, k, r, p in zip(
            workers.tolist(), returned.tolist(), resumption.tolist(), problems, strict=True
        )
    ]
    history = histories(rng, TargetKind.CONSTRUCTION_SITE, ids, finals, FIRST_PROBLEM, PROBLEMS)
    columns = {
        "id": integers(ids),
        "name": [
            f"{t}{p}{KINDS[k][5]}"
            for t, p, k in zip(town_names, spots.place, kind.tolist(), strict=True)
        ],
        "kind": [KINDS[k][0] for k in kind.tolist()],
        "key_project": boolean(key),
        "footprint": ewkb(shapes.polygons),
        "entrance": points_ewkb(shapes.entrance_x, shapes.entrance_y),
        "workers_total": integers(workers),
        "workers_returned": integers(returned),
        "workers_out_of_province": integers(out_of_province),
        "resumption": [RESUMPTIONS[r].value for r in resumption.tolist()],
        "quarantine_site_id": _nearest_hotel(spots, at_hotel, hotels),
        "problems": [text_array(p) for p in problems],
    }
    return [batch_of_columns("construction_site", columns | flag_columns(history)), history.changes]


def _problems(rng: np.random.Generator, resumption: np.ndarray) -> list[tuple[str, ...]]:
    """None, one or two open problems, fewer the further a site is back at work."""
    count = pick(rng, np.array(PROBLEM_COUNT_SHARES)[resumption])
    first = rng.integers(0, len(PROBLEMS), len(resumption))
    second = (first + rng.integers(1, len(PROBLEMS), len(resumption))) % len(PROBLEMS)
    return [
        tuple(PROBLEMS[i] for i in sorted((a, b))[:k]) if k > 1 else (PROBLEMS[a],) * k
        for k, a, b in zip(count.tolist(), first.tolist(), second.tolist(), strict=True)
    ]


def _placed(rng: np.random.Generator, layout: Layout, kind: np.ndarray) -> tuple[Spots, Footprints]:
    """A footprint for each site, wholly inside one town so that the town is its area."""
    weights = np.array([t.town.enterprise_weight for t in layout.towns], dtype=float)
    towns = np.array([t.boundary for t in layout.towns], dtype=object)
    length = np.array([KINDS[k][2] for k in kind.tolist()], dtype=float).reshape(-1, 2)
    width = np.array([KINDS[k][3] for k in kind.tolist()], dtype=float).reshape(-1, 2)
    length_m, width_m = uniform(rng, length), uniform(rng, width)
    angle = rng.uniform(0.0, np.pi, len(kind))
    n = len(kind)
    x, y, ex, ey = (np.empty(n) for _ in range(4))
    town, place, polygons = (
        np.empty(n, dtype=int),
        np.empty(n, dtype=object),
        np.empty(n, dtype=object),
    )
    todo = np.arange(n)
    while len(todo):
        spots = scatter(rng, layout, weights, len(todo))
        shapes = footprints(spots.x, spots.y, length_m[todo], width_m[todo], angle[todo])
        inside = shapely.contains(towns[spots.town], shapes.polygons)
        # Sites that straddle a town edge are drawn again elsewhere; the rest keep their slot.
        done = todo[inside]
        x[done], y[done], town[done], place[done] = (
            spots.x[inside],
            spots.y[inside],
            spots.town[inside],
            spots.place[inside],
        )
        polygons[done] = shapes.polygons[inside]
        ex[done], ey[done] = shapes.entrance_x[inside], shapes.entrance_y[inside]
        todo = todo[~inside]
    return Spots(x, y, town, place), Footprints(polygons, ex, ey)


def _nearest_hotel(
    spots: Spots, at_hotel: np.ndarray, hotels: dict[int, tuple[float, float]]
) -> list[str]:
    ids = np.array(list(hotels), dtype=np.int64)
    where = np.array(list(hotels.values()))
    distance = np.hypot(spots.x[:, None] - where[None, :, 0], spots.y[:, None] - where[None, :, 1])
    nearest = ids[np.argmin(distance, axis=1)]
    return np.where(at_hotel, nearest.astype(str), NULL).tolist()
