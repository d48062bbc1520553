"""Cross-origin access for every HTTP door, present and future: preflights answered before any
route runs, and the CORS headers on every answer to an allowed origin. No cookies are read
(tokens travel in Authorization), so credentials are never allowed and "*" stays a plain
wildcard. The WebSocket door checks the same origins (strawberry's allowed_origins, api/app.py).
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.refusal import refuse
from schema.framework import normalize_origin

METHODS = "GET, POST, OPTIONS"
# What a client sends beyond the CORS-safelisted headers: its token, JSON, and revalidation.
REQUEST_HEADERS = frozenset({"authorization", "content-type", "accept", "if-none-match"})
# What a page may read beyond the safelisted response headers.
EXPOSED_HEADERS = "ETag, Retry-After, WWW-Authenticate"
PREFLIGHT_MAX_AGE_S = 600


class CrossOrigin:
    def __init__(self, app: ASGIApp, origins: frozenset[str]) -> None:
        self.app = app
        self.origins = origins

    def allowed(self, origin: str) -> bool:
        return "*" in self.origins or normalize_origin(origin) in self.origins

    def allow_origin(self, origin: str) -> list[tuple[str, str]]:
        if "*" in self.origins:
            return [("Access-Control-Allow-Origin", "*")]
        return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope) if scope["type"] == "http" else Headers()
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await self.preflight(send, origin, headers)
            return
        if not self.allowed(origin):
            await self.app(scope, receive, send)  # the browser keeps the answer from the page
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer = MutableHeaders(scope=message)
                for name, value in self.allow_origin(origin):
                    if name == "Vary":
                        answer.add_vary_header(value)
                    else:
                        answer[name] = value
                answer["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
            await send(message)

        await self.app(scope, receive, with_cors)

    async def preflight(self, send: Send, origin: str, headers: Headers) -> None:
        if not self.allowed(origin):
            message = f"pages on {origin} may not call this server; add it to FUGONG_CORS_ORIGINS"
            await refuse(send, 403, "FORBIDDEN_ORIGIN", message, [(b"vary", b"Origin")])
            return
        method = headers["access-control-request-method"].upper()
        asked = {
            name.strip().lower()
            for name in headers.get("access-control-request-headers", "").split(",")
            if name.strip()
        }
        if method not in METHODS.split(", ") or not asked <= REQUEST_HEADERS:
            allowed = ", ".join(sorted(REQUEST_HEADERS))
            message = f"cross-origin requests use {METHODS} with at most the headers {allowed}"
            await refuse(send, 403, "FORBIDDEN_ORIGIN", message, [(b"vary", b"Origin")])
            return
        answer = [
            *self.allow_origin(origin),
            ("Access-Control-Allow-Methods", METHODS),
            ("Access-Control-Allow-Headers", ", ".join(sorted(REQUEST_HEADERS))),
            ("Access-Control-Max-Age", str(PREFLIGHT_MAX_AGE_S)),
        ]
        if ("Vary", "Origin") not in answer:
            answer.append(("Vary", "Origin"))
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [(k.lower().encode(), v.encode()) for k, v in answer],
            }
        )
        await send({"type": "http.response.body", "body": b""})
