"""The mutations of the contract."""

from __future__ import annotations

import strawberry

from geo import accounts, throttle
from geo.errors import Unauthenticated
from schema.briefing import BriefingMutation
from schema.flags import FlagMutation
from schema.inspections import InspectionMutation
from schema.types import Ctx


@strawberry.type
class Mutation(FlagMutation, InspectionMutation, BriefingMutation):
    @strawberry.mutation(description="A bearer token for 'Authorization: Bearer <token>'")
    async def login(self, info: Ctx, username: str, password: str) -> str:
        context = info.context
        counted = throttle.keys(context.login_limits, username, context.client_address)
        # The whole attempt holds a slot, so that a flood holds neither memory for hashes
        # nor database connections beyond the slots (a blocked key is refused before hashing).
        async with context.rate_limited(), context.login_slot():
            account_id = await context.write(accounts.log_in, username, password, counted)
        if account_id is None:
            raise Unauthenticated(accounts.WRONG_CREDENTIALS)
        return context.issue_token(account_id)
