"""Live flag changes over WebSocket (graphql-transport-ws), from PostgreSQL LISTEN/NOTIFY.

Each event is read, masked and audited exactly as a query's answer (the same types, the same
AuditPersonalReads), for the caller as their account stands at that event: an expired token or
a disabled account ends the subscription with UNAUTHENTICATED, at the next event or, for the
expiry, at the moment it comes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any

import strawberry
from sqlalchemy.orm import Session

from geo import flag_history, layers, queries
from geo.errors import Unauthenticated
from geo.filters import area_id_of
from geo.flag_rules import FlagEvent
from geo.scope import Caller
from schema.types import Ctx, FlagChange


def _visible_event(session: Session, caller: Caller, change_id: int) -> FlagEvent | None:
    """The change, if the caller may see its target: scope is checked for every event."""
    event = flag_history.flag_event(session, change_id)
    if event is None:
        return None
    layer = layers.BY_TYPE_NAME[event.target.kind.value]
    return event if queries.rows_by_id(session, caller, layer, [event.target.id]) else None


async def _next_change(heard: asyncio.Queue[dict[str, Any]], caller: Caller) -> dict[str, Any]:
    """The next change heard, or Unauthenticated when the caller's token expires first."""
    if caller.expires_at is None:
        return await heard.get()
    left_s = (caller.expires_at - datetime.now(UTC)).total_seconds()
    try:
        return await asyncio.wait_for(heard.get(), max(left_s, 0))
    except TimeoutError:
        raise Unauthenticated("the token has expired; log in again") from None


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Flag changes of enterprises and sites in the area (default: anywhere),"
        " from whichever server process made them"
    )
    async def flag_changed(
        self, info: Ctx, area_code: str | None = None
    ) -> AsyncGenerator[FlagChange, None]:
        context = info.context
        if area_code is not None:
            await context.run(area_id_of, area_code)  # NOT_FOUND before anything is heard
        async with context.flag_changes() as heard:
            while True:
                payload = await _next_change(heard, context.caller)
                if area_code is not None and area_code not in payload["areas"]:
                    continue
                caller = await context.refresh_caller()
                # The primary: a notification can arrive before a replica has the change.
                event = await context.run(_visible_event, caller, payload["id"], primary=True)
                if event is not None:
                    yield FlagChange(event=event)
