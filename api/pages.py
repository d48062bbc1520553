"""fugong's own pages (/map, GraphiQL, /field) and the files they load, all from
api/static: the pages' code beside them, the vendored libraries under vendor/ (assets/vendor.py,
`make assets`). Nothing a page needs comes from another origin."""

from __future__ import annotations

import functools
import html
import mimetypes
from pathlib import Path

import orjson
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).resolve().parent / "static"
mimetypes.add_type("application/manifest+json", ".webmanifest")  # unknown to older Pythons


class Assets(StaticFiles):
    """The static files; a browser revalidates each (ETag, 304) rather than keep a stale copy."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.setdefault("Cache-Control", "no-cache")
        return response


@functools.cache
def _template(name: str) -> str:
    return (STATIC / f"{name}.html").read_text()


def page(name: str, config: dict[str, object] | None = None) -> HTMLResponse:
    """static/{name}.html with the page's settings in its <body data-config>: pages carry no
    inline script, so that the CSP can forbid it."""
    attribute = html.escape(orjson.dumps(config or {}).decode(), quote=True)
    return HTMLResponse(
        _template(name).replace("{{config}}", attribute),
        headers={"Cache-Control": "no-cache"},
    )


async def map_page(request: Request) -> HTMLResponse:
    settings = request.app.state.settings
    return page(
        "map",
        {
            "basemapUrl": settings.basemap_url,
            "basemapCrs": settings.basemap_crs.value,
        },
    )


async def field_page(request: Request) -> HTMLResponse:
    return page("field", {"tokenMinutes": request.app.state.settings.token_minutes})


async def field_worker(request: Request) -> FileResponse:
    """The field page's service worker, from the root so that it may control /field; a
    browser checks it for a new version on every load."""
    return FileResponse(
        STATIC / "field-sw.js",
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )
