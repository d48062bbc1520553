"""Links that open a stop, or the leg to it, in AMap (GCJ-02) or Baidu Maps (BD-09).
Both apps read their own shifted coordinates, so WGS84 is converted first (prcoords)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import prcoords

from geo.routing.matrix import LonLat

BAIDU_SOURCE = "webapp.fugong.inspection"  # Baidu asks every caller to name itself


@dataclass(frozen=True)
class NavigationLink:
    app: str  # AMAP, BAIDU
    coordinate_type: str  # GCJ02, BD09: what the URLs' coordinates are in
    lon: float  # the stop, in coordinate_type
    lat: float
    marker_url: str  # the stop on the map
    navigation_url: str  # riding directions from the previous stop (or the base) to this one


def to_gcj02(point: LonLat) -> LonLat:
    return _prcoords(prcoords.wgs_gcj, point)


def to_bd09(point: LonLat) -> LonLat:
    return _prcoords(prcoords.wgs_bd, point)


def _prcoords(convert: object, point: LonLat) -> LonLat:
    with warnings.catch_warnings():
        # Outside China prcoords leaves a point alone and warns; the unshifted point is right.
        warnings.filterwarnings("ignore", message="Non-Chinese coords")
        out = convert((point[1], point[0]))  # type: ignore[operator]  # prcoords is (lat, lon)
    return out.lon, out.lat


def amap(stop: LonLat, name: str, origin: LonLat, origin_name: str) -> NavigationLink:
    lon, lat = to_gcj02(stop)
    from_lon, from_lat = to_gcj02(origin)
    common = {"coordinate": "gaode", "callnative": "1", "src": "fugong"}
    marker = {"position": f"{lon:.6f},{lat:.6f}", "name": name, **common}
    navigation = {
        "from": f"{from_lon:.6f},{from_lat:.6f},{origin_name}",
        "to": f"{lon:.6f},{lat:.6f},{name}",
        "mode": "ride",
        **common,
    }
    return NavigationLink(
        "AMAP",
        "GCJ02",
        lon,
        lat,
        "https://uri.amap.com/marker?" + urlencode(marker, quote_via=quote),
        "https://uri.amap.com/navigation?" + urlencode(navigation, quote_via=quote),
    )


def baidu(stop: LonLat, name: str, origin: LonLat, origin_name: str) -> NavigationLink:
    lon, lat = to_bd09(stop)
    from_lon, from_lat = to_bd09(origin)
    common = {"coord_type": "bd09ll", "output": "html", "src": BAIDU_SOURCE}
    marker = {"location": f"{lat:.6f},{lon:.6f}", "title": name, "content": name, **common}
    navigation = {
        "origin": f"latlng:{from_lat:.6f},{from_lon:.6f}|name:{origin_name}",
        "destination": f"latlng:{lat:.6f},{lon:.6f}|name:{name}",
        "mode": "riding",
        "region": "福州",
        **common,
    }
    return NavigationLink(
        "BAIDU",
        "BD09",
        lon,
        lat,
        "https://api.map.baidu.com/marker?" + urlencode(marker, quote_via=quote),
        "https://api.map.baidu.com/direction?" + urlencode(navigation, quote_via=quote),
    )


def links(stop: LonLat, name: str, origin: LonLat, origin_name: str) -> list[NavigationLink]:
    """The stop in every app we link to."""
    return [amap(stop, name, origin, origin_name), baidu(stop, name, origin, origin_name)]
