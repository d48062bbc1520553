"""Failures the data layer reports to its callers, each with a stable code.

FugongError
 ├── BadInput         BAD_USER_INPUT    the caller sent something unusable; nothing was changed
 │    └── InconsistentCounts  INCONSISTENT_COUNTS  counts that cannot all be true together
 ├── NotFound         NOT_FOUND         an id or code that names nothing
 ├── Unauthenticated  UNAUTHENTICATED   no valid credentials: a bad password, token or account
 ├── Forbidden        FORBIDDEN         outside the caller's scope or role
 ├── OutsideGeofence  OUTSIDE_GEOFENCE  a visit recorded away from its target
 ├── IdempotencyConflict  IDEMPOTENCY_CONFLICT  a key sent again with another payload; the
 │                                              first is kept
 ├── RateLimited      RATE_LIMITED      too many failed logins, or logins at once: retry later
 ├── Unavailable      SERVICE_UNAVAILABLE  the database cannot be reached; nothing was changed
 └── Timeout          TIMEOUT           a statement or lock wait ran past its limit; rolled back

geo/outage.py turns the database driver's failures into the last two.
"""


class FugongError(Exception):
    code = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInput(FugongError):
    code = "BAD_USER_INPUT"


class InconsistentCounts(BadInput):
    code = "INCONSISTENT_COUNTS"


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


class RateLimited(FugongError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(f"{message}; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class Unavailable(FugongError):
    code = "SERVICE_UNAVAILABLE"


class Timeout(FugongError):
    code = "TIMEOUT"
