"""The mutations of the contract."""

from __future__ import annotations

import strawberry

from geo import accounts, throttle
from geo.errors import Unauthenticated
from schema.flags import FlagMutation
from schema.routes import InspectionMutation
from schema.types import Ctx


@strawberry.type
class Mutation(FlagMutation, InspectionMutation):
    @strawberry.mutation(description="A bearer token for 'Authorization: Bearer <token>'")
    async def login(self, info: Ctx, username: str, password: str) -> str:
        context = info.context
        counted = throttle.keys(context.login_limits, username, context.client_address)
        async with context.rate_limited():
            await context.run(throttle.refuse_if_blocked, counted)  # before queueing to hash
            async with context.hashing_slot():
                account_id = await context.write(accounts.log_in, username, password, counted)
        if account_id is None:
            raise Unauthenticated(accounts.WRONG_CREDENTIALS)
        return context.issue_token(account_id)
