"""An inspection plan as GPX 1.1 (routes of route points, for any GPS app) and as a GeoJSON
FeatureCollection (route lines and stop points, for web maps and GDAL)."""

from __future__ import annotations

from typing import Any

import gpxpy.gpx
from shapely.geometry import mapping

from geo.routing.navigation import links
from geo.routing.plan import InspectionPlan, Route

BASE_NAME = "base"


def to_gpx(plan: InspectionPlan) -> str:
    """One <rte> per inspector: the base, the stops in order, the base again."""
    gpx = gpxpy.gpx.GPX()
    gpx.creator = "fugong"
    gpx.name = f"patrol zone {plan.zone_id}, {plan.day.isoformat()}"
    for number, route in enumerate(plan.routes, start=1):
        rte = gpxpy.gpx.GPXRoute(name=f"inspector {number}", number=number)
        rte.description = f"{route.distance_m / 1000:.1f} km, {route.duration_min:.0f} min"
        rte.points.append(_base_point(plan))
        for stop in route.stops:
            point = gpxpy.gpx.GPXRoutePoint(
                latitude=stop.target.lat,
                longitude=stop.target.lon,
                name=f"{stop.sequence}. {stop.target.name}",
                description=f"{stop.target.reason}; planned {stop.planned_arrival:%H:%M}",
            )
            point.time = stop.planned_arrival
            rte.points.append(point)
        rte.points.append(_base_point(plan))
        gpx.routes.append(rte)
    return gpx.to_xml(version="1.1")


def _base_point(plan: InspectionPlan) -> gpxpy.gpx.GPXRoutePoint:
    lon, lat = plan.base
    return gpxpy.gpx.GPXRoutePoint(latitude=lat, longitude=lon, name=BASE_NAME)


def to_geojson(plan: InspectionPlan) -> dict[str, Any]:
    """Route LineStrings, then each route's stops as Points with sequence, reason, arrival."""
    features: list[dict[str, Any]] = []
    for number, route in enumerate(plan.routes, start=1):
        features.append(_route_feature(plan, number, route))
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
                        "navigation": navigation,
                    },
                }
            )
            origin, origin_name = here, stop.target.name
    return {"type": "FeatureCollection", "features": features}


def _route_feature(plan: InspectionPlan, number: int, route: Route) -> dict[str, Any]:
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
        },
    }
