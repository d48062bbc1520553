"""The mutations of the contract."""

from __future__ import annotations

import strawberry

from geo import accounts
from schema.flags import FlagMutation
from schema.inspections import InspectionMutation
from schema.types import Ctx


@strawberry.type
class Mutation(FlagMutation, InspectionMutation):
    @strawberry.mutation(description="A bearer token for 'Authorization: Bearer <token>'")
    async def login(self, info: Ctx, username: str, password: str) -> str:
        account_id = await info.context.run(accounts.authenticate, username, password)
        return info.context.issue_token(account_id)
