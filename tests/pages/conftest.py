"""Pages in a real browser: Debian's chromium driven by Playwright, against `fugong serve` on a
seeded database of its own. Every page watches its console and its network: a request to any
origin but the server's (or one a test allows) is blocked and recorded.

    def test_x(live_server, open_page):
        page = open_page(f"{live_server}/map")   # console errors in page.errors,
        ...                                       # blocked requests in page.outside
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Request, Route, sync_playwright
from sqlalchemy import Engine

from tests.live import post, seeded_database, serving

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1200, "height": 800}
# Chromium's own chatter that no page caused (software WebGL reading back its pixels).
BENIGN_CONSOLE = ("GPU stall due to ReadPixels",)


# Package-scoped: Playwright's sync API keeps an event loop running in this thread while it
# lives, and asyncio.run() in later tests must not find one.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="package")
def pages_db(engine: Engine) -> Iterator[str]:
    """The demo district for the page tests; they may commit (flag overrides) there."""
    with seeded_database(engine, "pages") as url:
        yield url


class Origins:
    """Small servers on other local ports, each a different origin serving an empty page:
    a second site that calls fugong from the browser, or a base map's tile server."""

    def __init__(self) -> None:
        self.servers: list[ThreadingHTTPServer] = []

    def start(self, body: bytes = b"<!doctype html><title>elsewhere</title>",
              content_type: str = "text/html") -> str:  # fmt: skip
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                # As tile servers do: WebGL draws only images that allow other origins.
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.address_family = socket.AF_INET
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="package")
def origins() -> Iterator[Origins]:
    started = Origins()
    yield started
    started.stop()


@pytest.fixture(scope="package")
def elsewhere(origins: Origins) -> dict[str, str]:
    """Two other sites: one fugong allows (FUGONG_CORS_ORIGINS), one it does not."""
    return {"allowed": origins.start(), "refused": origins.start()}


@pytest.fixture(scope="package")
def live_server(pages_db: str, elsewhere: dict[str, str]) -> Iterator[str]:
    """fugong as deployed: CORS open to one other origin only, hosts checked."""
    with serving(
        pages_db,
        FUGONG_CORS_ORIGINS=elsewhere["allowed"],
        FUGONG_ALLOWED_HOSTS="127.0.0.1",
    ) as (base, _):
        yield base


@dataclass
class Watched:
    page: Page
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    finished: list[Request] = field(default_factory=list)  # every request answered, in order

    def transferred_since(self, start: int) -> dict[str, int]:
        """Requests finished since `start` and their bytes on the wire (headers and encoded
        bodies; a response from the browser's cache counts nothing)."""
        sizes = [request.sizes() for request in self.finished[start:]]
        total = sum(s["responseHeadersSize"] + s["responseBodySize"] for s in sizes)
        return {"requests": len(sizes), "bytes": total}


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Watched]]:
    """Opens a URL in a fresh browser context (no cache, no storage); requests to origins
    other than the URL's (and `allow`) are blocked and recorded in `outside`. With
    block=False they are only recorded, and the browser's HTTP cache works (Playwright turns
    it off for contexts that intercept requests)."""
    contexts = []

    def open_(url: str, allow: tuple[str, ...] = (), block: bool = True) -> Watched:
        context = browser.new_context(viewport=VIEWPORT)
        contexts.append(context)
        page = context.new_page()
        watched = Watched(page)
        home = _origin(url)

        def outside(url: str) -> bool:
            watched.requests.append(url)
            mine = url.startswith(("data:", "blob:")) or _origin(url) in (home, *allow)
            if not mine:
                watched.outside.append(url)
            return not mine

        def route(route: Route) -> None:
            if outside(route.request.url):
                route.abort("blockedbyclient")
            else:
                route.continue_()

        if block:
            context.route("**/*", route)
        else:
            page.on("request", lambda request: outside(request.url))
        page.on("console", lambda m: _console(watched, m.type, m.text))
        page.on("pageerror", lambda error: watched.errors.append(f"pageerror: {error}"))
        page.on("requestfinished", lambda request: watched.finished.append(request))
        page.goto(url)
        return watched

    yield open_
    for context in contexts:
        context.close()


def _console(watched: Watched, kind: str, text: str) -> None:
    if kind in ("error", "warning") and not any(b in text for b in BENIGN_CONSOLE):
        watched.errors.append(f"{kind}: {text}")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def graphql(base: str, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
    """A query's data (errors fail the test)."""
    body = post(base, token, query, **variables)
    assert not body.get("errors"), body["errors"]
    return body["data"]  # type: ignore[no-any-return]
