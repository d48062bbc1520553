"""Request caps before any route runs: the body's and the query string's size."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.refusal import refuse

PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"


class _TooLarge(Exception):
    pass


class RequestCaps:
    """Refuses a body over `max_body_bytes` with 413, whether it says its length up front or
    streams in chunks, and a query string over `max_query_string_bytes` (GET queries) with 414;
    both with a GraphQL-shaped JSON error coded PAYLOAD_TOO_LARGE."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_query_string_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_query_string_bytes = max_query_string_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > self.max_query_string_bytes:
            most = self.max_query_string_bytes
            message = f"the query string is over {most:,} bytes; send the query by POST"
            await _refuse(send, 414, message)
            return
        if _declared_length(scope) > self.max_body_bytes:
            await _refuse(send, 413, self._body_message())
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _TooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except _TooLarge:
            if started:  # too late for a clean refusal; the server drops the connection
                raise
            await _refuse(send, 413, self._body_message())

    def _body_message(self) -> str:
        return f"the request body is over {self.max_body_bytes:,} bytes"


def _declared_length(scope: Scope) -> int:
    """The Content-Length, or 0 without a usable one: then the streamed bytes are counted."""
    try:
        return int(Headers(scope=scope).get("content-length", "0"))
    except ValueError:
        return 0


async def _refuse(send: Send, status: int, message: str) -> None:
    await refuse(send, status, PAYLOAD_TOO_LARGE, message)
