"""The Starlette app: /graphql (HTTP and WebSocket), route exports, vector tiles, /health,
/ready and /metrics; the databases (a primary, and replicas for reads) made in the lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

import orjson
from graphql import ExecutionResult
from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

import migrations
from api.auth import Authentication, caller_of, issue_token
from api.cors import CrossOrigin
from api.daily import briefing_picture, signboard, status
from api.database import database_url
from api.errors import RETRY_LATER
from api.exports import route_export
from api.graphql_http import CODES, GraphQLOverHTTP
from api.health import health, ready
from api.hosts import TrustedHosts
from api.housekeeping import prune_every
from api.metrics import metrics, worker_exited
from api.observe import Observe
from api.ogc import ogc
from api.outage import OutageAnswers
from api.pages import STATIC, Assets, field_page, field_worker, map_page
from api.processes import exit_with_parent
from api.request_caps import RequestCaps
from api.security_headers import SecurityHeaders
from api.settings import Settings, get_settings
from api.tiles import catalogue, tilejson, vector_tile
from geo import tiles
from geo.callers import Callers
from geo.db import Databases, libpq_url, make_engine, make_sessionmaker
from geo.errors import Unauthenticated
from geo.live import Listener
from geo.outage import watch
from geo.scope import ANONYMOUS
from schema import build_schema
from schema.context import Context
from schema.framework import HTTPException
from schema.query_limits import Limits


def query_limits(settings: Settings) -> Limits:
    return Limits(
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
        max_cost=settings.max_query_cost,
        list_size=settings.cost_list_size,
        max_page_size=settings.max_page_size,
        max_string_chars=settings.max_string_chars,
        introspection=settings.introspection,
    )


log = logging.getLogger("fugong.app")


class FugongGraphQL(GraphQLOverHTTP):
    def __init__(self, settings: Settings) -> None:
        # The GraphiQL page needs introspection: both go, or neither.
        ide = "graphiql" if settings.introspection else None
        super().__init__(
            build_schema(query_limits(settings)),
            graphql_ide=ide,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],  # the maintained protocol only
            allowed_origins=tuple(settings.cors_origins),  # the pages CORS lets call (api/cors.py)
        )
        self.settings = settings
        self.hashing = asyncio.Semaphore(settings.login_limits.hashing)

    def decode_json(self, data: str | bytes) -> object:
        # strawberry lets undecodable or non-object bodies through to a 500; they are 400s.
        try:
            value = json.loads(data)
        except (ValueError, RecursionError):
            raise HTTPException(400, "the request body is not JSON") from None
        if not isinstance(value, dict | list):
            raise HTTPException(400, "a GraphQL request is a JSON object")
        return value

    async def execute_operation(self, request: Any, request_adapter: Any, **kwargs: Any) -> Any:
        # The operation's name (a batch's first), for the request's metrics (api/observe.py).
        data = kwargs.get("request_data")
        first = data[0] if isinstance(data, list) and data else data
        name = getattr(first, "operation_name", None)
        request.scope.setdefault("state", {})["operation"] = name or "anonymous"
        return await super().execute_operation(
            request=request, request_adapter=request_adapter, **kwargs
        )

    def create_response(self, response_data: Any, sub_response: Any) -> Any:
        # An answer cut short by the database is a 503 with Retry-After, as on every door.
        response = super().create_response(response_data, sub_response)
        answers = response_data if isinstance(response_data, list) else [response_data]
        codes = {
            (error.get("extensions") or {}).get("code")
            for answer in answers
            for error in answer.get("errors") or ()
        }
        if codes & RETRY_LATER:
            response.status_code = 503
            response.headers["Retry-After"] = str(self.settings.retry_after_s)
        return response

    async def process_result(self, request: Request, result: ExecutionResult) -> Any:
        # The first error's code (or OK), for the request's metrics.
        error = (result.errors or [None])[0]
        code = "OK" if error is None else (error.extensions or {}).get("code", "INTERNAL")
        request.scope.setdefault("state", {})["code"] = code
        return await super().process_result(request, result)

    def encode_json(self, data: object) -> str:
        # orjson: several times faster, and it writes what the database built (orjson.Fragment:
        # FeatureCollections, compiled pages) without parsing it. Text, since WebSocket
        # clients expect text frames.
        return orjson.dumps(data).decode()

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        return Context(
            databases=request.app.state.databases,
            max_page_size=self.settings.max_page_size,
            max_features=self.settings.max_features,
            issue_token=functools.partial(issue_token, self.settings),
            thresholds=self.settings.flag_thresholds,
            retention=self.settings.retention,
            fence=self.settings.fence,
            flag_changes=request.app.state.listener.subscribe,
            callers=request.app.state.callers,
            # WebSockets name their caller in connection_init (on_ws_connect), not per request.
            caller=getattr(request.state, "caller", ANONYMOUS),
            websocket=isinstance(request, WebSocket),
            client_address=request.client.host if request.client else None,
            login_limits=self.settings.login_limits,
            hashing=self.hashing,
            response=response,
        )

    async def on_ws_connect(self, context: Context) -> None:
        """Authenticate a WebSocket once, at connection: a token in connection_init's payload
        ({"Authorization": "Bearer …"}); none means anonymous, a bad one closes it (4403)."""
        params = context.connection_params or {}
        authorization = params.get("Authorization") or params.get("authorization")
        if not isinstance(authorization, str | None):
            raise ConnectionRejectionError()
        try:
            context.caller = await caller_of(
                self.settings, context.callers, context.databases.primary, authorization
            )
        except Unauthenticated:
            raise ConnectionRejectionError() from None


async def http_error(request: Request, error: Exception) -> JSONResponse:
    """A path no route matches (or a method it does not take) answered like every other
    failure of a non-GraphQL door: JSON with a code, not Starlette's plain text."""
    assert isinstance(error, StarletteHTTPException)
    code = CODES.get(error.status_code, "BAD_REQUEST")
    body = {"errors": [{"message": error.detail, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=error.status_code, headers=error.headers)


def _forget_old_tiles(sessions: sessionmaker[Session]) -> None:
    """Drop tiles kept by a deploy whose tiles differed. Housekeeping only (they are never
    served, their key holds the version), so a database down at start does not stop fugong."""
    try:
        with sessions.begin() as session:
            tiles.forget_other_versions(session)
    except OperationalError as error:
        log.warning("kept tiles of other versions not dropped: %s", error.orig)


def create_app(
    settings: Settings | None = None, sessions: sessionmaker[Session] | None = None
) -> Starlette:
    """The app; tests hand in `sessions` bound to their own transaction."""
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        exit_with_parent()
        engine = (
            None
            if sessions is not None
            else make_engine(database_url(settings), settings.pool_size, settings.timeouts)
        )
        app.state.settings = settings  # for routes that are not handed them (api/ogc)
        primary = sessions or make_sessionmaker(engine)  # type: ignore[arg-type]
        _forget_old_tiles(primary)
        read_url = settings.database_read_url
        replica = (
            None
            if read_url is None
            else make_engine(read_url, settings.pool_size, settings.timeouts)
        )
        app.state.databases = Databases(
            primary, None if replica is None else make_sessionmaker(replica)
        )
        app.state.engines = {"primary": engine, "replica": replica}
        for owned in (engine, replica):
            if owned is not None:
                watch(owned)
        app.state.schema_head = migrations.head()
        bind = primary.kw["bind"]
        app.state.callers = Callers()
        # Sessions bound to one connection (a test's transaction) never commit, so their account
        # changes are never heard: the callers are then read afresh on every request.
        app.state.listener = Listener(
            libpq_url(bind.engine.url.render_as_string(hide_password=False)),
            None if isinstance(bind, Connection) else app.state.callers,
        )
        app.state.listener.start()
        pruning = (
            None
            if engine is None or settings.retention_interval_s <= 0
            else asyncio.create_task(
                prune_every(engine, settings.retention, settings.retention_interval_s)
            )
        )
        try:
            yield
        finally:
            if pruning is not None:
                pruning.cancel()
            await app.state.listener.close()
            for owned in (engine, replica):
                if owned is not None:
                    owned.dispose()
            worker_exited(os.getpid())

    graphql = FugongGraphQL(settings)
    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/ready", ready),
            Route("/metrics", metrics),
            Route("/map", map_page, methods=["GET"]),
            Route("/field", field_page, methods=["GET"]),
            Route("/field-sw.js", field_worker, methods=["GET"]),
            Mount("/static", Assets(directory=STATIC), name="static"),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/routes/{zone_id}/{day}.{format:str}", route_export, methods=["GET"]),
            Route("/tiles/{layer}/{z}/{x}/{y}.mvt", vector_tile, methods=["GET"]),
            Route("/tiles/{layer}.json", tilejson, methods=["GET"]),
            Route("/tiles", catalogue, methods=["GET"]),
            Route("/briefing/{area_code}/{day}.{format:str}", briefing_picture, methods=["GET"]),
            Route("/signboards/{enterprise_id}.{format:str}", signboard, methods=["GET"]),
            Route("/status/{enterprise_id}", status, methods=["GET"]),
            *ogc,
            WebSocketRoute("/graphql", graphql),
        ],
        middleware=[
            # Outermost: every answer, refusals included, is counted and carries its id.
            Middleware(Observe, slow_ms=settings.slow_ms),
            # Preflights are answered, and every answer (refusals and 503s too) carries the
            # CORS headers a page on an allowed origin needs to read it.
            Middleware(CrossOrigin, origins=settings.cors_origins),
            Middleware(OutageAnswers, retry_after_s=settings.retry_after_s),
            Middleware(TrustedHosts, hosts=settings.allowed_hosts),
            Middleware(SecurityHeaders, basemap_url=settings.basemap_url),
            # An oversized request is refused before anything reads it.
            Middleware(
                RequestCaps,
                max_body_bytes=settings.max_body_bytes,
                max_query_string_bytes=settings.max_query_string_bytes,
            ),
            Middleware(Authentication, settings=settings),
            # Tiles and FeatureCollections shrink several times over.
            Middleware(GZipMiddleware, minimum_size=1024),
        ],
        exception_handlers={StarletteHTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
