"""A request that fails on the database itself is answered with a coded JSON error (503 and
Retry-After) instead of a 500 and a traceback; a WebSocket is closed with 1013 (try again
later). The outage is logged once, when it starts and when it ends (geo/outage.py)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from geo.outage import noted

TRY_AGAIN_LATER = 1013  # RFC 6455's close code for a temporary condition


class OutageAnswers:
    def __init__(self, app: ASGIApp, retry_after_s: int) -> None:
        self.app = app
        self.retry_after_s = retry_after_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = closed = False

        async def watched(message: Message) -> None:
            nonlocal started, closed
            started = started or message["type"] in ("http.response.start", "websocket.accept")
            closed = closed or message["type"] == "websocket.close"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as error:
            failure = noted(error)
            if failure is None:
                raise
            scope.setdefault("state", {})["code"] = failure.code
            if scope["type"] == "websocket":
                if not closed:
                    close = {"type": "websocket.close", "code": TRY_AGAIN_LATER}
                    await send({**close, "reason": failure.code})
            elif not started:
                await error_response(failure, self.retry_after_s)(scope, receive, send)
