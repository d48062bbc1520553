"""Failures the data layer reports to its callers, each with a stable code.

FugongError
 ├── BadInput        BAD_USER_INPUT  the caller sent something unusable; nothing was changed
 ├── NotFound        NOT_FOUND       an id or code that names nothing
 └── Forbidden       FORBIDDEN       outside the caller's scope or role
"""


class FugongError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInput(FugongError):
    code = "BAD_USER_INPUT"


class NotFound(FugongError):
    code = "NOT_FOUND"


class Unauthenticated(FugongError):
    code = "UNAUTHENTICATED"


class Forbidden(FugongError):
    code = "FORBIDDEN"
