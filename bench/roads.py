"""Road-network matrix timing: 100 random points on generated street grids (the tests' 6 × 6
over the demo zone, and 40 × 40 at ~150 m), in a scratch database dropped at the end."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from bench import databases
from geo.db import make_engine
from geo.osm_roads import import_osm
from geo.routing.road_network import RoadNetwork
from tests.geo.osm import write_grid

SCRATCH_DB = "fugong_bench_roads"
Box = tuple[float, float, float, float]
ZONE_BOX = (119.548762, 25.8567, 119.593247, 25.885407)  # 金峰镇第一片区's bounding box
STEP_DEG = 0.00135  # ~150 m at 26° N, in latitude; about 135 m in longitude
GRIDS = {"6 × 6 (test grid)": (6, ZONE_BOX), "40 × 40": (40, None)}
POINTS = 100
RUNS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="postgresql://fugong@127.0.0.1:54329")
    args = parser.parse_args()
    with databases.scratch(args.database_url, SCRATCH_DB) as database_url:
        engine = make_engine(database_url)
        try:
            print(
                f"| grid | edges | import s | matrix {POINTS} points s (median / max of {RUNS}) |"
            )
            print("|---|---:|---:|---:|")
            for name, (size, box) in GRIDS.items():
                print(_grid_row(engine, name, size, box))
        finally:
            engine.dispose()


def _grid_row(engine: Engine, name: str, size: int, box: Box | None) -> str:
    west, south = ZONE_BOX[:2]
    box = box or (west, south, west + STEP_DEG * (size - 1), south + STEP_DEG * (size - 1))
    with tempfile.TemporaryDirectory() as tmp, engine.begin() as connection:
        path = Path(tmp) / "grid.osm"
        write_grid(path, *box, size=size)
        started = time.perf_counter()
        counts = import_osm(connection, path)
        import_s = time.perf_counter() - started
        rng = np.random.default_rng(1)
        points = list(
            zip(
                rng.uniform(box[0], box[2], POINTS).tolist(),
                rng.uniform(box[1], box[3], POINTS).tolist(),
                strict=True,
            )
        )
        roads = RoadNetwork(connection)
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            roads.matrix(points)
            times.append(time.perf_counter() - started)
    return (
        f"| {name} | {counts['roads']} | {import_s:.2f} |"
        f" {statistics.median(times):.2f} / {max(times):.2f} |"
    )


if __name__ == "__main__":
    main()
