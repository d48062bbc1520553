"""The retention bounds (geo/retention.py) kept by every worker in turn: each prunes every
interval, unless another worker or host is pruning at that moment."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import Engine, text

from geo.outage import noted
from geo.retention import Retention, prune

log = logging.getLogger("fugong.retention")

LOCK = "fugong:retention"


async def prune_every(engine: Engine, retention: Retention, interval_s: float) -> None:
    """From one interval after start (a fleet restarting together does not prune at once)."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            deleted = await asyncio.to_thread(prune_once, engine, retention)
        except Exception as error:
            if noted(error) is None:  # an outage is logged once, elsewhere
                log.exception("pruning tile_cache and route_plan failed")
        else:
            if deleted and any(deleted.values()):
                log.info("pruned %s", deleted, extra={"deleted": deleted})


def prune_once(engine: Engine, retention: Retention) -> dict[str, int] | None:
    """The rows deleted, or None when another process holds the turn."""
    with engine.begin() as connection:
        turn = connection.execute(
            text("SELECT pg_try_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": LOCK}
        ).scalar_one()
        return prune(connection, retention) if turn else None
