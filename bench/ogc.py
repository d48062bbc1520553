"""OGC API – Features: fugong's /ogc against tipg and the raw SQL, on the same database.

`python -m bench.ogc [--size 100000] [--seconds 10] [--server URL] [--no-write]` seeds (or
reuses) `fugong_bench_<size>`, starts fugong, tipg (`pip install -e '.[bench]'`) and the raw-SQL
baseline in turn (each with 2 workers), checks each scenario answers, drives it with wrk and
writes the tables into BENCHMARKS.md's "OGC API – Features" section:

(o1) `items?bbox=…&limit=1000`: a viewport of about 1,000 enterprises, one page;
(o2) `items?limit=100`: the first page of the whole layer, numberMatched counting every row.

All three answer anonymously (tipg has no authentication): fugong's scope clause is then
none for enterprises, as the baseline's. The baseline runs fugong's own two statements (page
and count, compiled from geo) in one round trip, the FeatureCollection joined by PostgreSQL.
tipg is asked for the same properties where it has them (it has no areaCode)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sqlalchemy import text

from bench import databases, load, report, servers
from bench.harness import check
from bench.load import Request, Result
from geo.db import make_engine

HEADING = "## OGC API – Features"
SERVERS = ("fugong", "raw", "tipg")
VIEWPORT_FEATURES = 1000
TIPG_PROPERTIES = (
    "name,category,resumption,flag_color,staff_total,staff_returned,capacity_pct,flag_since"
)


def viewport(database_url: str) -> tuple[list[float], int]:
    """The box around the 1,000 enterprises nearest the middle of Changle, and how many it holds."""
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.connect() as connection:
            box = connection.execute(
                text(
                    "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT"
                    " ST_Extent(geom) AS b FROM (SELECT geom FROM enterprise ORDER BY geom <->"
                    " ST_SetSRID(ST_MakePoint(119.55, 25.9), 4326) LIMIT :n) AS nearest) AS e"
                ),
                {"n": VIEWPORT_FEATURES},
            ).one()
            bbox = [round(float(v), 6) for v in box]
            inside = connection.execute(
                text(
                    "SELECT count(*) FROM enterprise"
                    " WHERE geom && ST_MakeEnvelope(:a, :b, :c, :d, 4326)"
                ),
                dict(zip("abcd", bbox, strict=True)),
            ).scalar_one()
    finally:
        engine.dispose()
    return bbox, int(inside)


def scenarios(bbox: list[float]) -> dict[str, dict[str, str]]:
    box = ",".join(map(str, bbox))
    fugong = "/ogc/collections/enterprises/items"
    tipg = f"/collections/public.enterprise/items?properties={TIPG_PROPERTIES}"
    return {
        f"(o1) items?bbox=…&limit={VIEWPORT_FEATURES}": {
            "fugong": f"{fugong}?bbox={box}&limit={VIEWPORT_FEATURES}",
            "tipg": f"{tipg}&bbox={box}&limit={VIEWPORT_FEATURES}",
            "raw": "/s/ogc_bbox",
        },
        "(o2) items?limit=100": {
            "fugong": f"{fugong}?limit=100",
            "tipg": f"{tipg}&limit=100",
            "raw": "/s/ogc_page",
        },
    }


def measure(base_url: str, path: str, seconds: int) -> Result | str:
    failed, _ = check(base_url, Request("GET", path))
    if failed is not None:
        return failed
    return load.drive(base_url, [Request("GET", path)], seconds)


def run(server: str, size: int, seconds: int) -> tuple[dict[str, dict[str, Result | str]], str]:
    database_url = databases.ensure(server, size)
    bbox, inside = viewport(database_url)
    chosen = scenarios(bbox)
    spec = {
        "ogc_bbox": ["ogc_items", bbox, VIEWPORT_FEATURES],
        "ogc_page": ["ogc_items", None, 100],
    }
    starts: dict[str, Any] = {
        "fugong": lambda: servers.fugong(database_url),
        "raw": lambda: servers.baseline(database_url, spec),
        "tipg": lambda: servers.tipg(database_url),
    }
    results: dict[str, dict[str, Result | str]] = {title: {} for title in chosen}
    for name in SERVERS:
        print(f"  {name}")
        try:
            with starts[name]() as running:
                for title, paths in chosen.items():
                    results[title][name] = measure(running.base_url, paths[name], seconds)
                    print(f"    {title}: {results[title][name]}")
        except (RuntimeError, OSError) as error:
            for title in chosen:
                results[title][name] = f"not run: {error}"
    note = f"viewport {bbox} holds {inside:,} of {size:,} enterprises"
    return results, note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--server", default=databases.DEFAULT_SERVER)
    parser.add_argument("--no-write", action="store_true", help="leave BENCHMARKS.md as it is")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if not load.available():
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    results, note = run(args.server, args.size, args.seconds)
    lines = [
        f"`python -m bench.ogc --size {args.size} --seconds {args.seconds}`"
        f" ({servers.WORKERS} workers each, {load.CONNECTIONS} connections; {note}).",
        "",
    ]
    for title, rows in results.items():
        lines += [
            f"**{title}**",
            "",
            *report.table(rows, SERVERS),
            "",
            report.ratios(rows, SERVERS[1:]),
            "",
        ]
    print("\n".join(lines))
    if not args.no_write:
        report.write_section(lines, HEADING)


if __name__ == "__main__":
    main()
