"""The rest of a day re-planned from where the inspector is: the stops already visited stay in
the route as they were, and what is still due is solved afresh from the inspector's position
and time to the base, within what is left of the shift. Not stored: the day's plan stays the
zone's, and this is one inspector's answer of the moment."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, func, select

from geo.crs import Crs
from geo.days import TIMEZONE
from geo.due import sort_key
from geo.errors import BadInput
from geo.geometry import to_sql
from geo.routing.codec import plan_targets
from geo.routing.matrix import LonLat, StraightLine
from geo.routing.plan import DEFAULT_SETTINGS, InspectionPlan, PlanSettings, Route, plan_routes
from geo.routing.road_network import RoadNetwork
from geo.routing.stored import StoredPlan


def rest_of_day(
    connection: Connection,
    stored: StoredPlan,
    shift_minutes: int,
    position: BaseGeometry,
    crs: Crs,
    start: datetime,
    settings: PlanSettings = DEFAULT_SETTINGS,
) -> InspectionPlan:
    """`stored`'s day from `position` (a Point in `crs`) at `start` (aware; on the plan's day
    in Asia/Shanghai)."""
    plan = stored.plan
    if len(plan.routes) != 1:
        raise BadInput("the rest of the day is re-planned for one inspector: ask inspectors: 1")
    if start.tzinfo is None or start.astimezone(TIMEZONE).date() != plan.day:
        raise BadInput(f"re-plan from a time on {plan.day} with its UTC offset, not {start}")
    kept = [stop for stop in plan.routes[0].stops if stop.target.global_id in stored.visited]
    due = sorted((t for t in plan_targets(plan) if t.global_id not in stored.visited), key=sort_key)
    shift_end = datetime.combine(plan.day, settings.shift_start, TIMEZONE) + timedelta(
        minutes=shift_minutes
    )
    left_minutes = int((shift_end - start).total_seconds() // 60)
    if left_minutes < 1 or not due:
        line = plan.routes[0].geometry
        route = Route(kept, 0.0, 0.0, line)
        return replace(plan, routes=[route], unvisited=sorted(due, key=sort_key, reverse=True))
    roads = plan.distance_model == "ROAD_NETWORK"
    matrix = RoadNetwork(connection) if roads else StraightLine()
    wgs84 = to_sql(position, crs)
    origin: LonLat = tuple(connection.execute(select(func.ST_X(wgs84), func.ST_Y(wgs84))).one())
    rest = plan_routes(
        plan.zone_id, plan.day, plan.base, due, 1, left_minutes, replace(settings, matrix=matrix),
        origin=origin, start=start,
    )  # fmt: skip
    ahead = rest.routes[0]
    # Visited stops first, numbered as before; the new ones follow on.
    stops = [
        *(replace(stop, sequence=n) for n, stop in enumerate(kept, start=1)),
        *(replace(stop, sequence=len(kept) + stop.sequence) for stop in ahead.stops),
    ]
    route = Route(stops, ahead.distance_m, ahead.duration_min, ahead.geometry)
    return replace(plan, routes=[route], unvisited=rest.unvisited)
