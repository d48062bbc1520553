"""Per request: an id (X-Request-Id, taken from the caller when it sends a sane one), its count
and latency in the metrics by door, operation and code, and a log line when it is slow."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import STATUS
from api.logs import REQUEST_ID
from api.metrics import LATENCY, REQUESTS, sample_state

log = logging.getLogger("fugong.requests")

HEADER = b"x-request-id"
SANE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")
DOORS = {"graphql", "tiles", "routes", "health", "ready", "metrics"}
CODE_OF_STATUS = {status: code for code, status in STATUS.items() if status != 503}
MAX_OPERATION_NAMES = 200  # distinct GraphQL operation names kept as labels; others: "other"
_operation_names: set[str] = set()


class Observe:
    def __init__(self, app: ASGIApp, slow_ms: int) -> None:
        self.app = app
        self.slow_s = slow_ms / 1000

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope["headers"]).get(HEADER, b"")
        request_id = sent.decode() if SANE_ID.fullmatch(sent) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        state = scope.setdefault("state", {})
        status = 500  # unless a response starts

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (HEADER, request_id.encode())]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            door = _door(scope["path"])
            operation = _operation(scope, state)
            code = state.get("code") or _code(status)
            REQUESTS.labels(door, operation, code).inc()
            LATENCY.labels(door, operation).observe(seconds)
            app_state = scope["app"].state
            sample_state(getattr(app_state, "engines", {}), getattr(app_state, "listener", None))
            if seconds >= self.slow_s:
                log.warning(
                    "slow request: %s %s took %.0f ms",
                    door,
                    operation,
                    seconds * 1000,
                    extra={"door": door, "operation": operation, "ms": round(seconds * 1000)},
                )
            REQUEST_ID.reset(token)


def _door(path: str) -> str:
    first = path.strip("/").split("/", 1)[0].split(".", 1)[0]
    return first if first in DOORS else "other"


def _operation(scope: Scope, state: dict[str, object]) -> str:
    """The GraphQL operation's name, else the route's name (vector_tile, route_export…)."""
    name = state.get("operation")
    if isinstance(name, str):
        if name in _operation_names or len(_operation_names) < MAX_OPERATION_NAMES:
            _operation_names.add(name)
            return name
        return "other"
    route = scope.get("route")
    return getattr(route, "name", None) or "-"


def _code(status: int) -> str:
    if status < 400:
        return "OK"
    if status == 503:
        return "SERVICE_UNAVAILABLE"
    return CODE_OF_STATUS.get(status, f"HTTP_{status}")
