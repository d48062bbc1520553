"""Inspection routes: a prize-collecting vehicle-routing plan for a patrol zone's day, and its
GPX, GeoJSON and map-app exports. No web framework here: usable from scripts and benchmarks."""

from geo.routing.export import to_geojson, to_gpx
from geo.routing.matrix import Matrix, MatrixProvider, StraightLine
from geo.routing.navigation import NavigationLink, links
from geo.routing.plan import (
    DEFAULT_SETTINGS,
    InspectionPlan,
    PlanSettings,
    Route,
    RouteStop,
    inspection_plan,
    plan_routes,
)

__all__ = [
    "DEFAULT_SETTINGS",
    "InspectionPlan",
    "Matrix",
    "MatrixProvider",
    "NavigationLink",
    "PlanSettings",
    "Route",
    "RouteStop",
    "StraightLine",
    "inspection_plan",
    "links",
    "plan_routes",
    "to_geojson",
    "to_gpx",
]
