"""The raw-SQL baseline's statements, compiled once from geo's own query builders so that the
baseline runs the same WHERE clauses and JSON shapes as fugong, minus GraphQL and the ORM."""

from __future__ import annotations

import re
from datetime import date
from enum import Enum
from typing import Any

from sqlalchemy import JSON, String, event, func, literal, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

from geo import briefing as briefing_module
from geo import due as due_rules
from geo import features as features_module
from geo import flag_counts, layers, queries, tiles
from geo.crs import Crs
from geo.db import make_engine
from geo.filters import Near, SpatialFilter, compile_filter, within_nearest
from geo.models import Role
from geo.scope import ANONYMOUS, Caller

# The baseline is unauthenticated, but answers what the district officer sees (no scope clause).
DISTRICT = Caller(account_id=0, username="district", role=Role.DISTRICT_OFFICER)
DIALECT = postgresql.psycopg2.dialect()  # type: ignore[attr-defined]

Statement = tuple[str, dict[str, Any]]


class _Captured(Exception):
    def __init__(self, statement: ClauseElement, parameters: dict[str, Any] | None) -> None:
        self.statement = statement
        self.parameters = parameters


class _Recorder:
    """Stands in for a Session: the first statement a geo function runs is caught, not run."""

    def execute(
        self, statement: ClauseElement, parameters: dict[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        raise _Captured(statement, parameters)


def compiled(statement: ClauseElement, parameters: dict[str, Any] | None = None) -> Statement:
    if parameters:  # values given to execute() for the statement's named parameters
        statement = statement.params(parameters)
    # Expanded: an IN over a list (an expanding parameter) becomes one parameter per value.
    expanded = statement.compile(dialect=DIALECT).construct_expanded_state()
    return expanded.statement, {k: _plain(v) for k, v in expanded.parameters.items()}


def _plain(value: Any) -> Any:
    # psycopg2 adapts neither Python enums nor memoryview the way SQLAlchemy's types would.
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def caught(function: Any, *args: Any) -> ClauseElement:
    """The first statement a geo function runs, not compiled: to build on."""
    try:
        function(_Recorder(), *args)
    except _Captured as found:
        return found.statement if not found.parameters else found.statement.params(found.parameters)
    raise RuntimeError(f"{function.__name__} ran no statement")


def captured(function: Any, *args: Any) -> Statement:
    return compiled(caught(function, *args))


def as_graphql(field: str, statement: Statement) -> Statement:
    """Wrap a statement answering one JSON value as {"data": {field: value}}, built in SQL."""
    sql, params = statement
    return (
        f"SELECT json_build_object('data', json_build_object('{field}', ({sql})::json))::text",
        params,
    )


def features(bbox: list[float], limit: int) -> Statement:
    spatial = SpatialFilter(bbox=bbox)
    sql, params = captured(
        queries.feature_collection, DISTRICT, layers.ENTERPRISES, spatial, queries.Crs.WGS84, limit
    )
    # geo answers the collection and how many features it holds; the response needs the first.
    collection = f"SELECT fc.json FROM ({sql}) AS fc(json, features)"  # noqa: S608
    return as_graphql("features", (collection, params))


def ogc_items(bbox: list[float] | None, limit: int) -> Statement:
    """The OGC API page of enterprises as /ogc answers an anonymous caller (tipg has no logins):
    geo.features.items' one statement, its features, numberMatched and numberReturned joined
    into the FeatureCollection by PostgreSQL (without /ogc's links and timeStamp)."""
    chosen = (
        []
        if bbox is None
        else compile_filter(None, layers.ENTERPRISES, SpatialFilter(bbox=bbox)).clauses
    )  # type: ignore[arg-type]
    collection = features_module.COLLECTIONS["enterprises"]
    sql, params = captured(
        features_module.items, ANONYMOUS, collection, features_module.Frame(), chosen, limit, None
    )
    body = (
        """SELECT '{"type":"FeatureCollection","features":' || p.edges || ',"numberMatched":' """  # noqa: S608
        """|| p.matched || ',"numberReturned":' || p.returned || '}'"""
        f" FROM ({sql}) AS p(edges, returned, has_next, end_cursor, matched)"
    )
    return body, params


def briefing(database_url: str, area_code: str, day: str) -> Statement:
    """Every statement geo.briefing sends for the district officer's briefing, recorded from
    a real run, in one statement that answers how many rows each returned: PostgreSQL builds
    every row whole (count(r) reads each column) and sends none, so fugong/raw is what the
    briefing costs beyond executing its SQL."""
    parts, params = [], {}
    for n, (sql, given) in enumerate(briefing_sent(database_url, area_code, day)):
        # Each statement's own parameters, renamed so that they cannot meet another's.
        parts.append(
            "(SELECT count(r) FROM ("  # noqa: S608
            + re.sub(r"%\((\w+)\)s", rf"%(s{n}_\1)s", sql)
            + ") AS r)"
        )
        params |= {f"s{n}_{k}": v for k, v in given.items()}
    return as_graphql("dailyBriefing", (f"SELECT json_build_array({', '.join(parts)})", params))


def briefing_sent(database_url: str, area_code: str, day: str) -> list[Statement]:
    """The statements geo.briefing sends for the district officer's briefing of the day."""
    sent: list[Statement] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):  # not a session's SETs
            sent.append((statement, dict(parameters or {})))

    engine = make_engine(database_url, pool_size=1)
    try:
        with Session(engine) as session:
            caller = _account(session, "district")
            event.listen(engine, "before_cursor_execute", record)
            briefing_module.daily_briefing(session, caller, area_code, date.fromisoformat(day))
    finally:
        event.remove(engine, "before_cursor_execute", record)
        engine.dispose()
    return sent


def _account(session: Session, username: str) -> Caller:
    row = session.execute(
        text("SELECT id, role FROM account WHERE username = :u"), {"u": username}
    ).one()
    return Caller(account_id=row.id, username=username, role=Role(row.role))


def enterprises(spatial: SpatialFilter, first: int, near: bool = False) -> Statement:
    """The typed page as JSON rows: what `enterprises { edges { node {…} } }` selects."""
    table, area = layers.ENTERPRISES.table, layers.AREAS.table
    # The district officer sees every row: the filter's clauses are the query's.
    filtered = compile_filter(_Recorder(), layers.ENTERPRISES, spatial)  # type: ignore[arg-type]
    clauses, distance = list(filtered.clauses), filtered.distance_m
    if filtered.near is not None:  # as geo.queries.page does
        clauses.append(within_nearest(layers.ENTERPRISES, filtered, clauses, first))
    fields: list[Any] = [
        "id",
        literal("Enterprise:") + table.c.id.cast(String),
        "name",
        table.c.name,
        "category",
        table.c.category,
        "staffTotal",
        table.c.staff_total,
        "flag",
        func.json_build_object("color", table.c.flag_color, "reason", table.c.flag_reason),
        "area",
        func.json_build_object("name", area.c.name),
        "geometry",
        func.ST_AsGeoJSON(table.c.geom).cast(JSON),
    ]
    if near and distance is not None:
        fields += ["distanceMeters", distance]
    node = func.json_build_object(*[literal(f) if isinstance(f, str) else f for f in fields])
    order = [distance, table.c.id] if distance is not None else [table.c.id]
    rows = (
        select(func.json_build_object("node", node).label("edge"))
        .select_from(table.outerjoin(area, area.c.id == table.c.area_id))
        .where(*clauses)
        .order_by(*order)
        .limit(first)
        .subquery()
    )
    page = select(
        func.json_build_object(
            "edges", func.coalesce(func.json_agg(rows.c.edge), literal("[]").cast(JSON))
        )
    )
    return as_graphql("enterprises", compiled(page))


def counts(day: date | None) -> Statement:
    sql, params = captured(flag_counts.flag_counts, None, day)
    # S608: the SQL wrapped is geo's own, compiled; no user input reaches it.
    # The rows as fugong answers them: area { code name }, counts { green yellow red total }.
    wrapped = (
        "SELECT coalesce(json_agg(json_build_object('area', json_build_object('code', c.code, "  # noqa: S608
        "'name', c.name), 'counts', json_build_object('green', c.green, 'yellow', c.yellow, "
        f"'red', c.red, 'total', c.total))), '[]') FROM ({sql}) AS c"
    )
    return as_graphql("flagCounts", (wrapped, params))


def tile(z: int, x: int, y: int, crs: Crs = Crs.WGS84) -> Statement:
    return captured(tiles.tile, DISTRICT, layers.ENTERPRISES, z, x, y, None, None, crs)


def near(point: tuple[float, float], radius_m: float, first: int) -> Statement:
    spatial = SpatialFilter(near=Near({"type": "Point", "coordinates": list(point)}, radius_m))
    return enterprises(spatial, first, near=True)


def due(zone_id: int, day: date) -> Statement:
    """The zone's targets with what the due rules read (geo.due's one query), as JSON rows: the
    SQL an inspection plan needs; the rules and the solver are Python."""
    sql, params = captured(due_rules.candidates, zone_id, day)
    rows = f"SELECT coalesce(json_agg(c), '[]') FROM ({sql}) AS c"  # noqa: S608  (geo's own SQL)
    return as_graphql("dueCandidates", (rows, params))
