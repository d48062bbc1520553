"""The Starlette app: /graphql, /health, and the database made in the lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from api.database import database_url
from api.settings import Settings, get_settings
from geo.db import make_engine, make_sessionmaker
from schema import build_schema
from schema.context import Context


class FugongGraphQL(GraphQL[Context, None]):
    def __init__(self, settings: Settings) -> None:
        super().__init__(build_schema())
        self.settings = settings

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        return Context(
            sessions=request.app.state.sessions,
            max_page_size=self.settings.max_page_size,
            max_features=self.settings.max_features,
        )


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_app(
    settings: Settings | None = None, sessions: sessionmaker[Session] | None = None
) -> Starlette:
    """The app; tests hand in `sessions` bound to their own transaction."""
    settings = settings or get_settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if sessions is not None:
            app.state.sessions = sessions
            yield
            return
        engine = make_engine(database_url(settings), settings.pool_size)
        app.state.sessions = make_sessionmaker(engine)
        try:
            yield
        finally:
            engine.dispose()

    graphql = FugongGraphQL(settings)
    return Starlette(
        routes=[Route("/health", health), Route("/graphql", graphql, methods=["GET", "POST"])],
        lifespan=lifespan,
    )
