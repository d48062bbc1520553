"""An inspection plan as GPX 1.1 (routes of route points, for any GPS app) and as a GeoJSON
FeatureCollection (route lines and stop points, for web maps and GDAL). A stored plan adds when
it was planned, and which stops were visited on the day."""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime
from typing import Any

import gpxpy.gpx
from shapely.geometry import mapping

from geo.routing.navigation import links
from geo.routing.plan import InspectionPlan, Route

BASE_NAME = "base"


def to_gpx(
    plan: InspectionPlan, planned_at: datetime | None = None, visited: Set[str] = frozenset()
) -> str:
    """One <rte> per inspector: the base, the stops in order, the base again. The metadata's
    time is when the plan was made; a visited stop's description says so."""
    gpx = gpxpy.gpx.GPX()
    gpx.creator = "fugong"
    gpx.name = f"patrol zone {plan.zone_id}, {plan.day.isoformat()}"
    gpx.time = planned_at
    for number, route in enumerate(plan.routes, start=1):
        rte = gpxpy.gpx.GPXRoute(name=f"inspector {number}", number=number)
        rte.description = f"{route.distance_m / 1000:.1f} km, {route.duration_min:.0f} min"
        rte.points.append(_base_point(plan))
        for stop in route.stops:
            description = f"{stop.target.reason}; planned {stop.planned_arrival:%H:%M}"
            if stop.target.global_id in visited:
                description += "; visited"
            point = gpxpy.gpx.GPXRoutePoint(
                latitude=stop.target.lat,
                longitude=stop.target.lon,
                name=f"{stop.sequence}. {stop.target.name}",
                description=description,
            )
            point.time = stop.planned_arrival
            rte.points.append(point)
        rte.points.append(_base_point(plan))
        gpx.routes.append(rte)
    return gpx.to_xml(version="1.1")


def _base_point(plan: InspectionPlan) -> gpxpy.gpx.GPXRoutePoint:
    lon, lat = plan.base
    return gpxpy.gpx.GPXRoutePoint(latitude=lat, longitude=lon, name=BASE_NAME)


def to_geojson(
    plan: InspectionPlan, planned_at: datetime | None = None, visited: Set[str] = frozenset()
) -> dict[str, Any]:
    """Route LineStrings, then each route's stops as Points with sequence, reason, arrival and
    whether it was visited; `plannedAt` on the collection and on each route."""
    features: list[dict[str, Any]] = []
    when = None if planned_at is None else planned_at.isoformat()
    for number, route in enumerate(plan.routes, start=1):
        features.append(_route_feature(plan, number, route, when))
        origin, origin_name = plan.base, BASE_NAME
        for stop in route.stops:
            here = (stop.target.lon, stop.target.lat)
            navigation = {
                link.app.lower(): {
                    "coordinateType": link.coordinate_type,
                    "marker": link.marker_url,
                    "navigation": link.navigation_url,
                }
                for link in links(here, stop.target.name, origin, origin_name)
            }
            features.append(
                {
                    "type": "Feature",
                    "id": stop.target.global_id,
                    "geometry": {"type": "Point", "coordinates": list(here)},
                    "properties": {
                        "route": number,
                        "sequence": stop.sequence,
                        "kind": stop.target.kind.value,
                        "name": stop.target.name,
                        "priority": int(stop.target.priority),
                        "reason": stop.target.reason,
                        "plannedArrival": stop.planned_arrival.isoformat(),
                        "visited": stop.target.global_id in visited,
                        "navigation": navigation,
                    },
                }
            )
            origin, origin_name = here, stop.target.name
    collection: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if when is not None:
        collection["plannedAt"] = when  # a foreign member (RFC 7946, 6.1)
    return collection


def _route_feature(
    plan: InspectionPlan, number: int, route: Route, planned_at: str | None
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": f"route-{number}",
        "geometry": mapping(route.geometry),
        "properties": {
            "route": number,
            "zoneId": plan.zone_id,
            "date": plan.day.isoformat(),
            "distanceModel": plan.distance_model,
            "distanceMeters": round(route.distance_m, 1),
            "durationMinutes": round(route.duration_min, 1),
            "stops": len(route.stops),
            "plannedAt": planned_at,
        },
    }
