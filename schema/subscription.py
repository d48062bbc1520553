"""Live flag changes over WebSocket (graphql-transport-ws), from PostgreSQL LISTEN/NOTIFY."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from sqlalchemy.orm import Session

from geo import flag_history, layers, queries
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
                payload = await heard.get()
                if area_code is not None and area_code not in payload["areas"]:
                    continue
                # The primary: a notification can arrive before a replica has the change.
                event = await context.run(
                    _visible_event, context.caller, payload["id"], primary=True
                )
                if event is not None:
                    yield FlagChange(event=event)
