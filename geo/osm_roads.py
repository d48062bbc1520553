"""Load an OpenStreetMap XML extract into the `road` and `road_vertex` tables: the ways an
inspector can ride, split at junctions into a graph that pgRouting can route on."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

from geo.errors import BadInput

# km/h on an e-bike, stops at crossings included: 25 is the legal top speed of an e-bike in
# China and what the straight-line model assumes; service roads, tracks and shared streets
# are slower. Motorways are left out: the Road Traffic Safety Law (art. 67) keeps non-motor
# vehicles off expressways. Footways, steps, paths and pedestrian streets are left out too:
# an e-bike may not be ridden there.
SPEED_KMH: dict[str, float] = {
    **dict.fromkeys(
        ("trunk", "primary", "secondary", "tertiary", "unclassified", "residential"), 25.0
    ),
    **dict.fromkeys(("trunk_link", "primary_link", "secondary_link", "tertiary_link"), 25.0),
    "cycleway": 20.0,
    "living_street": 15.0,
    "service": 15.0,
    "track": 15.0,
}

FORWARD_ONEWAY = {"yes", "true", "1"}
BACKWARD_ONEWAY = {"-1", "reverse"}


@dataclass(frozen=True)
class Way:
    osm_id: int
    nodes: list[int]  # in the direction of travel when one-way
    highway: str
    oneway: bool


def import_osm(connection: Connection, path: Path | str) -> dict[str, int]:
    """Replace the road network with the one in an .osm file; counts of what was read and kept.

    The whole network is replaced (TRUNCATE, then load): an extract is one district, and a
    partial replacement would leave edges dangling at the old extract's edge.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"no OSM file at {path}")
    try:
        coordinates, ways = _read(path)
    except ET.ParseError as error:
        raise BadInput(f"{path} is not OSM XML: {error}") from None
    junctions = _junctions(ways)
    edges = [edge for way in ways for edge in _split(way, junctions, coordinates)]
    vertices = sorted({node for edge in edges for node in (edge[1], edge[2])})
    if not edges:
        # Loading nothing would clear the network by surprise: that is asked for by name.
        raise BadInput(
            f"{path} holds no rideable ways ({len(ways)} ways of the kinds ridden, none with two"
            " nodes in the file); the road network is unchanged. To remove it:"
            " fugong import-roads --clear"
        )
    clear(connection)
    connection.execute(
        text(
            "INSERT INTO road_vertex (id, geom)"
            " SELECT id, ST_SetSRID(ST_MakePoint(lon, lat), 4326)"
            " FROM unnest(:ids, :lons, :lats) AS v(id, lon, lat)"
        ),
        {
            "ids": vertices,
            "lons": [coordinates[v][0] for v in vertices],
            "lats": [coordinates[v][1] for v in vertices],
        },
    )
    _insert_edges(connection, edges)
    connection.execute(text("ANALYZE road"))
    connection.execute(text("ANALYZE road_vertex"))
    return {"ways": len(ways), "roads": len(edges), "vertices": len(vertices)}


def clear(connection: Connection) -> None:
    """Remove the road network: plans then measure straight lines (STRAIGHT_LINE)."""
    connection.execute(text("TRUNCATE road, road_vertex RESTART IDENTITY"))


Edge = tuple[Way, int, int, list[tuple[float, float]]]  # way, source, target, lon/lat points


def _insert_edges(connection: Connection, edges: list[Edge]) -> None:
    # One statement over arrays: lengths on the ellipsoid, costs from them, all in PostGIS.
    connection.execute(
        text(
            """
            INSERT INTO road
                (osm_way_id, source, target, highway, geom, length_m, cost_s, reverse_cost_s)
            SELECT way, source, target, highway, geom, length_m, length_m / speed_ms,
                   CASE WHEN oneway THEN -1 ELSE length_m / speed_ms END
            FROM (
                SELECT e.*, ST_Length(geom::geography) AS length_m
                FROM (
                    SELECT way, source, target, highway, oneway, kmh / 3.6 AS speed_ms,
                           ST_GeomFromText(wkt, 4326) AS geom
                    FROM unnest(:ways, :sources, :targets, :highways, :oneways, :kmhs, :wkts)
                        AS u(way, source, target, highway, oneway, kmh, wkt)
                ) AS e
            ) AS measured
            """
        ),
        {
            "ways": [way.osm_id for way, _, _, _ in edges],
            "sources": [source for _, source, _, _ in edges],
            "targets": [target for _, _, target, _ in edges],
            "highways": [way.highway for way, _, _, _ in edges],
            "oneways": [way.oneway for way, _, _, _ in edges],
            "kmhs": [SPEED_KMH[way.highway] for way, _, _, _ in edges],
            "wkts": [
                "LINESTRING(" + ", ".join(f"{lon!r} {lat!r}" for lon, lat in points) + ")"
                for _, _, _, points in edges
            ],
        },
    )


def _read(path: Path) -> tuple[dict[int, tuple[float, float]], list[Way]]:
    """Every node's position, and the rideable ways. Streamed: elements are freed as read."""
    coordinates: dict[int, tuple[float, float]] = {}
    ways: list[Way] = []
    for element in _elements(path):
        if element.tag == "node":
            coordinates[int(element.attrib["id"])] = (
                float(element.attrib["lon"]),
                float(element.attrib["lat"]),
            )
        elif element.tag == "way":
            way = _way(element)
            if way is not None:
                ways.append(way)
    return coordinates, ways


def _elements(path: Path) -> Iterator[ET.Element]:
    for _, element in ET.iterparse(path, events=("end",)):
        if element.tag in ("node", "way", "relation"):
            yield element
            element.clear()


def _way(element: ET.Element) -> Way | None:
    tags = {tag.attrib["k"]: tag.attrib["v"] for tag in element.iter("tag")}
    highway = tags.get("highway", "")
    if highway not in SPEED_KMH or tags.get("access") in ("no", "private"):
        return None
    nodes = [int(nd.attrib["ref"]) for nd in element.iter("nd")]
    oneway = tags.get("oneway", "no")
    roundabout = tags.get("junction") in ("roundabout", "circular")
    if oneway in BACKWARD_ONEWAY:
        nodes.reverse()
    forward = oneway in FORWARD_ONEWAY or (roundabout and oneway != "no")
    return Way(int(element.attrib["id"]), nodes, highway, forward or oneway in BACKWARD_ONEWAY)


def _junctions(ways: list[Way]) -> set[int]:
    """Nodes an edge must end at: where ways meet (or a way meets itself) and where ways end."""
    uses = Counter(node for way in ways for node in way.nodes)
    ends = {node for way in ways if way.nodes for node in (way.nodes[0], way.nodes[-1])}
    return ends | {node for node, count in uses.items() if count > 1}


def _split(
    way: Way, junctions: set[int], coordinates: dict[int, tuple[float, float]]
) -> Iterator[Edge]:
    # An extract clips ways at its border: nodes outside it are missing, and so is the road
    # through them; each run of present nodes is routed on its own, ending at a vertex.
    runs: list[list[int]] = [[]]
    for node in way.nodes:
        if node in coordinates:
            runs[-1].append(node)
        elif runs[-1]:
            runs.append([])
    for run in runs:
        start = 0
        for k in range(1, len(run)):
            if run[k] in junctions or k == len(run) - 1:
                points = _distinct([coordinates[node] for node in run[start : k + 1]])
                if len(points) > 1:
                    yield way, run[start], run[k], points
                start = k


def _distinct(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Without repeated consecutive points: OSM has them, and a zero-length piece helps no one."""
    return [p for k, p in enumerate(points) if k == 0 or p != points[k - 1]]
