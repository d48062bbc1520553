"""The query parameters of the OGC API door, checked before anything runs: an unknown or
repeated parameter, or a value out of range, is BadInput (400) naming it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_
from sqlalchemy.orm import Session
from starlette.requests import Request

from api.ogc import crs
from geo import cql2
from geo.errors import BadInput
from geo.features import Collection, Frame
from geo.filters import SpatialFilter, compile_filter

FORMATS = ("json", "html")
ITEMS = ("f", "limit", "bbox", "bbox-crs", "crs", "datetime", "filter", "filter-lang",
         "filter-crs", "cursor")  # fmt: skip
DEFAULT_LIMIT = 100


def checked(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    """The query parameters, each once and each one this resource takes."""
    found: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name not in allowed:
            raise BadInput(f"unknown parameter {name!r}; this resource takes {', '.join(allowed)}")
        if name in found:
            raise BadInput(f"parameter {name!r} is given twice")
        found[name] = value
    if found.get("f", "json") not in FORMATS:
        raise BadInput(f"f is {' or '.join(FORMATS)}, not {found['f']!r}")
    return found


@dataclass(frozen=True)
class Items:
    """What /items asks for: the page, the output CRS, and the filters, not yet compiled."""

    limit: int
    cursor: str | None
    crs_uri: str
    bbox: list[float] | None = None
    bbox_frame: Frame = Frame()
    datetime: str | None = None
    filter: Any = None  # CQL2-JSON
    filter_frame: Frame = Frame()
    equal: dict[str, str] = field(default_factory=dict)  # ?queryable=value

    @property
    def frame(self) -> Frame:
        return crs.FRAMES[self.crs_uri]


def items(request: Request, collection: Collection, max_limit: int) -> Items:
    queryables = tuple(collection.properties)
    given = checked(request, ITEMS + queryables)
    text = given.get("filter")
    return Items(
        limit=_limit(given.get("limit"), max_limit),
        cursor=given.get("cursor"),
        crs_uri=crs.uri(given.get("crs"), "crs"),
        bbox=_bbox(given["bbox"]) if "bbox" in given else None,
        bbox_frame=crs.frame(given.get("bbox-crs"), "bbox-crs"),
        datetime=given.get("datetime"),
        filter=None if text is None else cql2.parse(text, given.get("filter-lang", "cql2-text")),
        filter_frame=crs.frame(given.get("filter-crs"), "filter-crs"),
        equal={name: given[name] for name in queryables if name in given},
    )


def clauses(session: Session, collection: Collection, asked: Items) -> list[ColumnElement[bool]]:
    """The filters as WHERE clauses, through the same builders as GraphQL's SpatialFilter."""
    found: list[ColumnElement[bool]] = []
    if asked.bbox is not None:
        box = asked.bbox
        if asked.bbox_frame.lat_lon:
            box = [box[1], box[0], box[3], box[2]]
        spatial = SpatialFilter(bbox=box, crs=asked.bbox_frame.crs)
        found.extend(compile_filter(session, collection.layer, spatial).clauses)
    if asked.datetime is not None:
        found.append(cql2.during(collection, asked.datetime))
    for name, value in asked.equal.items():
        found.append(cql2.equality(session, collection, name, value))
    if asked.filter is not None:
        found.append(cql2.compile_cql2(session, collection, asked.filter, asked.filter_frame))
    return [and_(*found)] if found else []


def _limit(text: str | None, most: int) -> int:
    if text is None:
        return min(DEFAULT_LIMIT, most)
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= most:
        raise BadInput(f"limit is a whole number from 1 to {most}, not {text!r}")
    return int(text)


def _bbox(text: str) -> list[float]:
    """Four numbers, or six (a 3D box, whose heights a 2D layer has no use for)."""
    try:
        numbers = [float(part) for part in text.split(",")]
    except ValueError:
        raise BadInput(f"bbox {text!r} is not a list of numbers") from None
    if len(numbers) not in (4, 6) or not all(math.isfinite(n) for n in numbers):
        raise BadInput("bbox is minx,miny,maxx,maxy: four finite numbers (or six, in 3D)")
    return numbers if len(numbers) == 4 else [numbers[0], numbers[1], numbers[3], numbers[4]]
