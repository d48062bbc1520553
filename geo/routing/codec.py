"""An inspection plan as plain JSON and back, exactly: what `route_plan` stores, and the target
fields a plan's fingerprint reads. No personal data: a target is its kind, id, name, place,
priority and reason (a rental's name is its id, never its address or landlord)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from shapely.geometry import LineString

from geo.days import TIMEZONE
from geo.due import DueTarget, Priority
from geo.routing.plan import InspectionPlan, Route, RouteStop
from geo.targets import TargetKind


def target_json(target: DueTarget) -> dict[str, Any]:
    return {
        "kind": target.kind.value,
        "id": target.id,
        "name": target.name,
        "priority": int(target.priority),
        "reason": target.reason,
        "lon": target.lon,
        "lat": target.lat,
        "service_minutes": target.service_minutes,
        "key_project": target.key_project,
    }


def target_of(data: dict[str, Any]) -> DueTarget:
    return DueTarget(
        kind=TargetKind(data["kind"]),
        id=data["id"],
        name=data["name"],
        priority=Priority(data["priority"]),
        reason=data["reason"],
        lon=data["lon"],
        lat=data["lat"],
        service_minutes=data["service_minutes"],
        key_project=data["key_project"],
    )


def plan_json(plan: InspectionPlan) -> dict[str, Any]:
    return {
        "zone_id": plan.zone_id,
        "day": plan.day.isoformat(),
        "base": list(plan.base),
        "distance_model": plan.distance_model,
        "routes": [
            {
                "distance_m": route.distance_m,
                "duration_min": route.duration_min,
                "line": [list(point) for point in route.geometry.coords],
                "stops": [
                    {"arrival": stop.planned_arrival.isoformat(), **target_json(stop.target)}
                    for stop in route.stops
                ],
            }
            for route in plan.routes
        ],
        "unvisited": [target_json(target) for target in plan.unvisited],
    }


def plan_of(data: dict[str, Any]) -> InspectionPlan:
    return InspectionPlan(
        zone_id=data["zone_id"],
        day=date.fromisoformat(data["day"]),
        base=(data["base"][0], data["base"][1]),
        distance_model=data["distance_model"],
        routes=[_route_of(route) for route in data["routes"]],
        unvisited=[target_of(target) for target in data["unvisited"]],
    )


def _route_of(data: dict[str, Any]) -> Route:
    stops = [
        RouteStop(
            sequence,
            target_of(stop),
            datetime.fromisoformat(stop["arrival"]).astimezone(TIMEZONE),
        )
        for sequence, stop in enumerate(data["stops"], start=1)
    ]
    line = LineString([tuple(point) for point in data["line"]])
    return Route(stops, data["distance_m"], data["duration_min"], line)


def plan_targets(plan: InspectionPlan) -> list[DueTarget]:
    """Every target the plan places: its stops, then the unvisited."""
    return [*(stop.target for route in plan.routes for stop in route.stops), *plan.unvisited]
