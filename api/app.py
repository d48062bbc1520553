"""The Starlette app: /graphql (HTTP and WebSocket), route exports, vector tiles, /health; the
databases (a primary, and replicas for reads) made in the lifespan."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from api.auth import Authentication, caller_of, issue_token
from api.cors import CrossOrigin
from api.database import database_url
from api.exports import route_export
from api.graphql_http import CODES, GraphQLOverHTTP
from api.hosts import TrustedHosts
from api.pages import STATIC, Assets, field_page, field_worker, map_page
from api.request_caps import RequestCaps
from api.security_headers import SecurityHeaders
from api.settings import Settings, get_settings
from api.tiles import catalogue, tilejson, vector_tile
from geo import tiles
from geo.db import Databases, libpq_url, make_engine, make_sessionmaker
from geo.errors import Unauthenticated
from geo.live import Listener
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

    def decode_json(self, data: str | bytes) -> object:
        # strawberry lets undecodable or non-object bodies through to a 500; they are 400s.
        try:
            value = json.loads(data)
        except (ValueError, RecursionError):
            raise HTTPException(400, "the request body is not JSON") from None
        if not isinstance(value, dict | list):
            raise HTTPException(400, "a GraphQL request is a JSON object")
        return value

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
            fence=self.settings.fence,
            flag_changes=request.app.state.listener.subscribe,
            # WebSockets name their caller in connection_init (on_ws_connect), not per request.
            caller=getattr(request.state, "caller", ANONYMOUS),
            websocket=isinstance(request, WebSocket),
        )

    async def on_ws_connect(self, context: Context) -> None:
        """Authenticate a WebSocket once, at connection: a token in connection_init's payload
        ({"Authorization": "Bearer …"}); none means anonymous, a bad one closes it (4403)."""
        params = context.connection_params or {}
        authorization = params.get("Authorization") or params.get("authorization")
        if not isinstance(authorization, str | None):
            raise ConnectionRejectionError()
        try:
            context.caller = await run_in_threadpool(
                caller_of, self.settings, context.databases.primary, authorization
            )
        except Unauthenticated:
            raise ConnectionRejectionError() from None


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


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
    settings.check()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = (
            None
            if sessions is not None
            else make_engine(database_url(settings), settings.pool_size)
        )
        primary = sessions or make_sessionmaker(engine)  # type: ignore[arg-type]
        _forget_old_tiles(primary)
        read_url = settings.database_read_url
        replica = None if read_url is None else make_engine(read_url, settings.pool_size)
        app.state.databases = Databases(
            primary, None if replica is None else make_sessionmaker(replica)
        )
        bind = primary.kw["bind"]
        app.state.listener = Listener(
            libpq_url(bind.engine.url.render_as_string(hide_password=False))
        )
        try:
            yield
        finally:
            await app.state.listener.close()
            for owned in (engine, replica):
                if owned is not None:
                    owned.dispose()

    graphql = FugongGraphQL(settings)
    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/map", map_page, methods=["GET"]),
            Route("/field", field_page, methods=["GET"]),
            Route("/field-sw.js", field_worker, methods=["GET"]),
            Mount("/static", Assets(directory=STATIC), name="static"),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/routes/{zone_id}/{day}.{format:str}", route_export, methods=["GET"]),
            Route("/tiles/{layer}/{z}/{x}/{y}.mvt", vector_tile, methods=["GET"]),
            Route("/tiles/{layer}.json", tilejson, methods=["GET"]),
            Route("/tiles", catalogue, methods=["GET"]),
            WebSocketRoute("/graphql", graphql),
        ],
        middleware=[
            # Outermost: preflights are answered, and every answer (refusals too) carries the
            # CORS headers a page on an allowed origin needs to read it.
            Middleware(CrossOrigin, origins=settings.cors_origins),
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
