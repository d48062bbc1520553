"""The coordinate reference systems of the OGC API door (Part 2), by the URIs clients send."""

from __future__ import annotations

from geo.crs import Crs
from geo.errors import BadInput
from geo.features import Frame

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
FRAMES = {
    CRS84: Frame(Crs.WGS84),
    f"{EPSG}4326": Frame(Crs.WGS84, lat_lon=True),
    f"{EPSG}4490": Frame(Crs.CGCS2000, lat_lon=True),
    f"{EPSG}3857": Frame(Crs.WEB_MERCATOR),
}
SUPPORTED = list(FRAMES)
# Also accepted as written: the short forms that clients and people type.
ALIASES = {"CRS84": CRS84, "OGC:CRS84": CRS84, "[OGC:CRS84]": CRS84} | {
    form.format(code): f"{EPSG}{code}"
    for code in ("4326", "4490", "3857")
    for form in ("EPSG:{}", "[EPSG:{}]")
}


def uri(text: str | None, parameter: str) -> str:
    """The CRS URI a parameter names; CRS84 when it is left out."""
    if text is None:
        return CRS84
    found = ALIASES.get(text.strip(), text.strip())
    if found not in FRAMES:
        raise BadInput(f"{parameter} {text!r} is not offered; use one of {', '.join(SUPPORTED)}")
    return found


def frame(text: str | None, parameter: str) -> Frame:
    return FRAMES[uri(text, parameter)]
