"""A small OpenStreetMap XML file for the road tests: a street grid over a box, one one-way
street, a footway that must be left out and a piece of road joined to nothing."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

ISLAND_FIRST_NODE = 900_001  # the cut-off piece's two nodes


@dataclass(frozen=True)
class Grid:
    """Junction (row, column) is OSM node `node(row, column)`; row 0 is the south street."""

    size: int
    west: float
    south: float
    east: float
    north: float
    oneway_row: int  # ridden west to east only
    island: tuple[tuple[float, float], tuple[float, float]]  # lon/lat of the cut-off piece

    def node(self, row: int, column: int) -> int:
        return 1 + row * self.size + column

    def lonlat(self, row: int, column: int) -> tuple[float, float]:
        step_x = (self.east - self.west) / (self.size - 1)
        step_y = (self.north - self.south) / (self.size - 1)
        return (self.west + column * step_x, self.south + row * step_y)

    @property
    def ways(self) -> int:  # kept by the importer: rows, columns, the island
        return 2 * self.size + 1

    @property
    def roads(self) -> int:  # edges between junctions, and the island's one
        return 2 * self.size * (self.size - 1) + 1

    @property
    def vertices(self) -> int:
        return self.size * self.size + 2


def write_grid(
    path: Path, west: float, south: float, east: float, north: float, size: int = 6
) -> Grid:
    """Write the grid as OSM XML at `path`. Every street has a node halfway between junctions,
    so the importer must split ways at the junctions, not at every node."""
    step_x = (east - west) / (size - 1)
    island_lon = east + step_x  # a street's length east of the grid, touching nothing
    grid = Grid(
        size,
        west,
        south,
        east,
        north,
        oneway_row=size // 2,
        island=((island_lon, south), (island_lon, south + (north - south) / (size - 1))),
    )
    nodes: dict[int, tuple[float, float]] = {}
    ways: list[tuple[list[int], dict[str, str]]] = []
    next_id = size * size + 1
    for row in range(size):
        for column in range(size):
            nodes[grid.node(row, column)] = grid.lonlat(row, column)

    def street(junctions: list[tuple[int, int]], tags: dict[str, str]) -> None:
        nonlocal next_id
        refs = [grid.node(*junctions[0])]
        for a, b in zip(junctions, junctions[1:], strict=False):
            (x1, y1), (x2, y2) = grid.lonlat(*a), grid.lonlat(*b)
            nodes[next_id] = ((x1 + x2) / 2, (y1 + y2) / 2)
            refs += [next_id, grid.node(*b)]
            next_id += 1
        ways.append((refs, tags))

    for row in range(size):
        tags = {"highway": "residential", "name": f"row {row}"}
        if row == grid.oneway_row:
            tags["oneway"] = "yes"
        street([(row, column) for column in range(size)], tags)
    for column in range(size):
        kind = "tertiary" if column % 2 else "residential"
        street([(row, column) for row in range(size)], {"highway": kind})
    # A footway across the grid's diagonal: a shortcut that e-bikes may not take.
    street([(k, k) for k in range(size)], {"highway": "footway"})
    nodes[ISLAND_FIRST_NODE], nodes[ISLAND_FIRST_NODE + 1] = grid.island
    ways.append(([ISLAND_FIRST_NODE, ISLAND_FIRST_NODE + 1], {"highway": "service"}))
    path.write_text(_xml(nodes, ways), encoding="utf-8")
    return grid


def _xml(
    nodes: dict[int, tuple[float, float]], ways: list[tuple[list[int], dict[str, str]]]
) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="fugong">']
    for node, (lon, lat) in nodes.items():
        lines.append(f'  <node id="{node}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for number, (refs, tags) in enumerate(ways, start=1):
        lines.append(f'  <way id="{number}" version="1">')
        lines += [f'    <nd ref="{ref}"/>' for ref in refs]
        lines += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    return "\n".join(lines) + "\n"
