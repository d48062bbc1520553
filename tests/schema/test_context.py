"""SQL runs in worker threads, so a slow query never stalls the event loop."""

import asyncio

from sqlalchemy import text

from geo.db import Databases
from schema.context import Context


def test_a_slow_query_leaves_the_event_loop_free(sessions):
    context = Context(
        databases=Databases(sessions), max_page_size=10, max_features=10, issue_token=str
    )

    async def scenario() -> int:
        ticks = 0
        query = asyncio.create_task(
            context.run(lambda session: session.execute(text("SELECT pg_sleep(0.5)")))
        )
        while not query.done():
            ticks += 1
            await asyncio.sleep(0.01)
        await query
        return ticks

    assert asyncio.run(scenario()) >= 20
