"""Headers that make fugong's pages (map, GraphiQL, field) safe to open: a Content Security
Policy that lets them load only what fugong serves (and the configured base map), no framing,
no MIME sniffing, no referrer sent elsewhere. Set on every answer, so routes added later
(and their error pages) carry them too."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def content_security_policy(basemap_url: str | None) -> str:
    # The base map's tiles are the one thing a page may load from elsewhere, when configured.
    basemap = ""
    if basemap_url:
        parts = urlsplit(basemap_url.replace("{", "").replace("}", ""))
        basemap = f" {parts.scheme}://{parts.netloc}"
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",  # no inline script: every page's code is a file of its own
            "style-src 'self' 'unsafe-inline'",  # GraphiQL's editor sets styles inline
            f"img-src 'self' data: blob:{basemap}",
            f"connect-src 'self'{basemap}",  # 'self' covers ws:/wss: to the same host
            "worker-src 'self' blob:",
            "font-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class SecurityHeaders:
    def __init__(self, app: ASGIApp, basemap_url: str | None) -> None:
        self.app = app
        self.headers = {
            "Content-Security-Policy": content_security_policy(basemap_url),
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    answer.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)
