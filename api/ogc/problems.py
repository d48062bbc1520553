"""Failures of the OGC API door as RFC 9457 problem bodies, with fugong's error code beside."""

from __future__ import annotations

import orjson
from starlette.responses import Response

from geo.errors import FugongError

PROBLEM = "application/problem+json"
PREFIX = "/ogc"
STATUS = {"BAD_USER_INPUT": 400, "UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404}
TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}


def body(status: int, code: str, detail: str) -> bytes:
    problem = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status}
    return orjson.dumps(problem | {"detail": detail, "code": code})


def problem(status: int, code: str, detail: str) -> Response:
    return Response(body(status, code, detail), status_code=status, media_type=PROBLEM)


def of(error: FugongError) -> Response:
    return problem(STATUS.get(error.code, 400), error.code, error.message)
