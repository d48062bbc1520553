"""Coded failures as HTTP answers for the doors that are not GraphQL: the status for each code,
and Retry-After when waiting helps."""

from __future__ import annotations

from starlette.responses import JSONResponse

from geo.errors import FugongError

STATUS = {
    "BAD_USER_INPUT": 400,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "SERVICE_UNAVAILABLE": 503,
    "TIMEOUT": 503,
}
RETRY_LATER = {"SERVICE_UNAVAILABLE", "TIMEOUT"}


def error_response(error: FugongError, retry_after_s: int = 2) -> JSONResponse:
    """A failure of a non-GraphQL route, shaped like a GraphQL error, with its HTTP status."""
    body = {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}
    headers = {"Retry-After": str(retry_after_s)} if error.code in RETRY_LATER else None
    return JSONResponse(body, status_code=STATUS.get(error.code, 400), headers=headers)
