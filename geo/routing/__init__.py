"""Inspection routes: a prize-collecting vehicle-routing plan for a patrol zone's day, stored
and answered again while its inputs hold, and its GPX, GeoJSON and map-app exports. No web
framework here: usable from scripts and benchmarks."""

from geo.routing.access import plan_key, reused_plan, solved_plan
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
from geo.routing.rest_of_day import rest_of_day
from geo.routing.stored import PlanKey, StoredPlan, reused, solved, stored_plan

__all__ = [
    "DEFAULT_SETTINGS",
    "InspectionPlan",
    "Matrix",
    "MatrixProvider",
    "NavigationLink",
    "PlanKey",
    "PlanSettings",
    "Route",
    "RouteStop",
    "StoredPlan",
    "StraightLine",
    "inspection_plan",
    "links",
    "plan_key",
    "plan_routes",
    "rest_of_day",
    "reused",
    "reused_plan",
    "solved",
    "solved_plan",
    "stored_plan",
    "to_geojson",
    "to_gpx",
]
