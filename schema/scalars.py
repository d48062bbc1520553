"""The GeoJSON scalar: a GeoJSON object as JSON, not a string."""

from typing import Any, NewType

import strawberry

GeoJSON = NewType("GeoJSON", object)


def _identity(value: Any) -> Any:
    return value


SCALARS = {
    GeoJSON: strawberry.scalar(
        name="GeoJSON",
        description="A GeoJSON object (RFC 7946) as JSON: a geometry, Feature or FeatureCollection",
        specified_by_url="https://www.rfc-editor.org/rfc/rfc7946",
        serialize=_identity,
        parse_value=_identity,
    )
}
