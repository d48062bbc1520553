"""A request refused before any route runs: a GraphQL-shaped JSON error with a code, as every
door answers its errors."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from starlette.types import Send


async def refuse(
    send: Send,
    status: int,
    code: str,
    message: str,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    start = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": start + [*headers]})
    await send({"type": "http.response.body", "body": body})
