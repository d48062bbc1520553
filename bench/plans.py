"""EXPLAIN (ANALYZE, BUFFERS) of the statements of scenarios (c), (d) and (e), compiled from geo's
own query builders (as bench/statements.py compiles them for the raw baseline), on the benchmark
databases: the median execution and planning time of a few runs, the buffers, and the plan's
shape (which scans, on which indexes).

    .venv/bin/python -m bench.plans [--sizes 100000,1000000] [--runs 5] [--show]
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import psycopg2
from sqlalchemy import select

from bench import statements
from bench.scenarios import CENTRE, NEAR_FIRST, NEAR_RADIUS_M, PAST_DAY, TILE_ZOOMS, tile_at
from geo import filters, layers, queries, tiles

SERVER = "postgresql://fugong@127.0.0.1:54329"


def near_page() -> statements.Statement:
    """(c) as queries.page runs it once it adds filters.within_nearest (see BENCHMARKS.md)."""
    spatial = filters.SpatialFilter(
        near=filters.Near({"type": "Point", "coordinates": list(CENTRE)}, NEAR_RADIUS_M)
    )
    layer = layers.ENTERPRISES
    recorder: Any = statements._Recorder()
    filtered = filters.compile_filter(recorder, layer, spatial)  # the district officer's
    clauses, distance = list(filtered.clauses), filtered.distance_m
    assert distance is not None
    clauses.append(filters.within_nearest(layer, filtered, clauses, NEAR_FIRST + 1))
    columns = [*queries._columns(layer, distance), distance.label("sort_key")]
    query = (
        select(*columns).where(*clauses).order_by(distance, layer.table.c.id).limit(NEAR_FIRST + 1)
    )
    return statements.compiled(query)


def scenarios() -> dict[str, Callable[[], statements.Statement]]:
    found: dict[str, Callable[[], statements.Statement]] = {
        "(c) near, as the raw baseline runs it": lambda: statements.near(
            CENTRE, NEAR_RADIUS_M, NEAR_FIRST
        ),
    }
    if hasattr(filters, "within_nearest"):
        found["(c) near, page with within_nearest"] = near_page
    found["(d) flagCounts today"] = lambda: statements.counts(None)
    found[f"(d) flagCounts {PAST_DAY}"] = lambda: statements.counts(date.fromisoformat(PAST_DAY))
    for zoom in TILE_ZOOMS:
        z, x, y = tile_at(zoom, *CENTRE)
        found[f"(e) tile {z}/{x}/{y}"] = lambda z=z, x=x, y=y: statements.tile(z, x, y)
    return found


def kept_tile(cursor: Any) -> statements.Statement:
    """(e) the z12 tile once kept in tile_cache: kept here (and rolled back after the run)."""
    z, x, y = tile_at(TILE_ZOOMS[0], *CENTRE)
    asked = tiles.Asked(layers.ENTERPRISES, z, x, y)
    cursor.execute(*statements.tile(z, x, y))
    cursor.execute(
        "INSERT INTO tile_cache (layer, z, x, y, scope, filters, mvt, etag, bounds)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, 'W/\"plans\"',"
        " ST_Transform(ST_TileEnvelope(%s, %s, %s), 4326)) ON CONFLICT DO NOTHING",
        (asked.layer.plural, z, x, y, tiles.scope_of(statements.DISTRICT), asked.filters,
         cursor.fetchone()[0], z, x, y),
    )  # fmt: skip
    return statements.captured(tiles.kept, statements.DISTRICT, asked)


def explained(cursor: Any, statement: statements.Statement, runs: int) -> dict[str, Any]:
    sql, params = statement
    cursor.execute(sql, params)  # warms the cache and the backend (PROJ, catalogue)
    cursor.fetchall()
    plans = []
    for _ in range(runs):
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
        plans.append(cursor.fetchone()[0][0])
    last = plans[-1]["Plan"]
    return {
        "execution_ms": statistics.median(p["Execution Time"] for p in plans),
        "planning_ms": statistics.median(p["Planning Time"] for p in plans),
        "buffers": last.get("Shared Hit Blocks", 0) + last.get("Shared Read Blocks", 0),
        "shape": "; ".join(dict.fromkeys(_scans(last))),
        "plan": plans[-1],
    }


def _scans(node: dict[str, Any]) -> Iterator[str]:
    if "Scan" in node["Node Type"] and "Relation Name" in node:
        scan = f"{node['Node Type']} on {node['Relation Name']}"
        if "Index Name" in node:
            scan += f" using {node['Index Name']}" + (" (KNN)" if "Order By" in node else "")
        yield scan
    for child in node.get("Plans", []):
        yield from _scans(child)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=SERVER, help="the server of fugong_bench_N")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--show", action="store_true", help="print each plan in full")
    args = parser.parse_args()
    print("| enterprises | statement | execution ms | planning ms | buffers | plan |")
    print("|---:|---|---:|---:|---:|---|")
    for size in args.sizes.split(","):
        with psycopg2.connect(f"{args.database_url}/fugong_bench_{size}") as connection:
            with connection.cursor() as cursor:
                built = {name: build() for name, build in scenarios().items()}
                if hasattr(tiles, "kept"):
                    z, x, y = tile_at(TILE_ZOOMS[0], *CENTRE)
                    built[f"(e) tile {z}/{x}/{y} from tile_cache"] = kept_tile(cursor)
                for name, statement in built.items():
                    found = explained(cursor, statement, args.runs)
                    print(
                        f"| {int(size):,} | {name} | {found['execution_ms']:.2f} |"
                        f" {found['planning_ms']:.2f} | {found['buffers']} | {found['shape']} |"
                    )
                    if args.show:
                        print(json.dumps(found["plan"], indent=1))
            connection.rollback()


if __name__ == "__main__":
    main()
