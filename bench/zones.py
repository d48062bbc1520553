"""The patrol zones the seed cuts at a size, without a database: the generated targets' points
(demo.batches) in the layout's zones, each zone over the bound split as the seed splits it
(geo/seed/zones.py); the targets a zone holds, min / median / max.

`python -m bench.zones 10000 100000 1000000`"""

from __future__ import annotations

import argparse

import numpy as np
import shapely

from geo.seed import demo
from geo.seed.layout import build_layout
from geo.seed.zones import MAX_ZONE_TARGETS, split

POINTS = {"enterprise": "geom", "rental_property": "geom", "construction_site": "entrance"}


def target_points(enterprises: int) -> np.ndarray:
    found = []
    for batch in demo.batches(enterprises):
        if batch.table in POINTS:
            column = batch.columns.index(POINTS[batch.table])
            hexes = [line.rstrip("\n").split("\t")[column] for line in batch.lines]
            found.append(shapely.get_coordinates(shapely.from_wkb(hexes)))
    return np.concatenate(found)


def zone_sizes(points: np.ndarray) -> list[int]:
    sizes = []
    for town in build_layout().towns:
        for zone in town.zones:
            mine = points[shapely.intersects_xy(zone.boundary, points[:, 0], points[:, 1])]
            parts = (
                split(zone.boundary, zone.base, mine, MAX_ZONE_TARGETS)
                if len(mine) > MAX_ZONE_TARGETS
                else []
            )
            sizes.extend(
                [
                    int(shapely.intersects_xy(p.boundary, mine[:, 0], mine[:, 1]).sum())
                    for p in parts
                ]
                or [len(mine)]
            )
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="+", type=int)
    for size in parser.parse_args().sizes:
        sizes = np.array(zone_sizes(target_points(size)))
        print(
            f"| {size:,} | {len(sizes):,} |"
            f" {sizes.min()} / {int(np.median(sizes))} / {sizes.max()} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
