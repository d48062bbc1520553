"""Failures the data layer reports to its callers, each with a stable code.

FugongError
 ├── BadInput         BAD_USER_INPUT    the caller sent something unusable; nothing was changed
 ├── NotFound         NOT_FOUND         an id or code that names nothing
 ├── Unauthenticated  UNAUTHENTICATED   no valid credentials: a bad password, token or account
 ├── Forbidden        FORBIDDEN         outside the caller's scope or role
 ├── OutsideGeofence  OUTSIDE_GEOFENCE  a visit recorded away from its target
 └── IdempotencyConflict  IDEMPOTENCY_CONFLICT  a key sent again with another payload; the
                                                first is kept
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


class OutsideGeofence(FugongError):
    code = "OUTSIDE_GEOFENCE"


class IdempotencyConflict(FugongError):
    code = "IDEMPOTENCY_CONFLICT"
