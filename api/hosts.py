"""Only the Host names a deployment answers to (FUGONG_ALLOWED_HOSTS): a request for any other
is refused before a route can build anything from it. Absolute URLs come from
FUGONG_PUBLIC_URL in any case (api/settings.py), never from the Host header."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from api.refusal import refuse


class TrustedHosts:
    def __init__(self, app: ASGIApp, hosts: frozenset[str]) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if "*" in self.hosts or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if name.lower() in self.hosts:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            message = f"this server does not answer for host {host!r}"
            await refuse(send, 400, "BAD_HOST", message)
