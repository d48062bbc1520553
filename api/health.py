"""/health: the process answers (liveness: restart it if not). /ready: it can serve (readiness:
send it traffic only then): the database answers within FUGONG_READY_TIMEOUT_MS, its schema is
at the newest migration, and the live-update listener is connected."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from geo.outage import first_line


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def ready(request: Request) -> JSONResponse:
    state = request.app.state
    checks = {"database": "ok", "migrations": "ok", "listener": "ok"}
    timeout_s = state.settings.ready_timeout_ms / 1000
    try:
        revision = await asyncio.wait_for(
            run_in_threadpool(state.databases.read, _revision, primary=True), timeout_s
        )
    except TimeoutError:
        checks["database"] = f"no answer within {timeout_s:g} s"
        checks["migrations"] = "unknown"
    except Exception as error:  # any failure to reach it is the answer, not a 500
        checks["database"] = first_line(error)
        checks["migrations"] = "unknown"
    else:
        if revision != state.schema_head:
            checks["migrations"] = f"at {revision}, not {state.schema_head}: run fugong migrate"
    if not state.listener.connected:
        checks["listener"] = "not connected"
        if checks["database"] == "ok":
            state.listener.wake()  # the database is back: no need to wait out its backoff
    if all(value == "ok" for value in checks.values()):
        return JSONResponse({"status": "ready", "checks": checks})
    return JSONResponse(
        {"status": "not ready", "code": "SERVICE_UNAVAILABLE", "checks": checks},
        status_code=503,
        headers={"Retry-After": str(state.settings.retry_after_s)},
    )


def _revision(session: Session) -> str | None:
    return session.execute(text("SELECT version_num FROM alembic_version")).scalar()
