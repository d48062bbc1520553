"""OGC API – Features under /ogc (see api/ogc/routes.py)."""

from starlette.routing import Mount, Route

from api.ogc import routes

ogc = [
    Route("/ogc", routes.landing, methods=["GET"]),  # the landing page, without a redirect
    Mount(
        "/ogc",
        routes=[
            Route("/", routes.landing, methods=["GET"]),
            Route("/conformance", routes.conformance, methods=["GET"]),
            Route("/api", routes.api_document, methods=["GET"]),
            Route("/collections", routes.collections, methods=["GET"]),
            Route("/collections/{collection}", routes.collection, methods=["GET"]),
            Route("/collections/{collection}/queryables", routes.queryables, methods=["GET"]),
            Route("/collections/{collection}/items", routes.items, methods=["GET"]),
            Route("/collections/{collection}/items/{feature_id}", routes.item, methods=["GET"]),
        ],
    ),
]
