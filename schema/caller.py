"""A WebSocket names its caller once, at connection_init, and may live for hours: each operation
over it acts as the account stands when it starts (and a subscription checks again at each
event), so an expired token or a disabled account stops it with UNAUTHENTICATED."""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from geo.errors import Unauthenticated


class CurrentCaller(SchemaExtension):
    async def on_validate(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if getattr(context, "websocket", False) and execution.pre_execution_errors is None:
            try:
                await context.refresh_caller()
            except Unauthenticated as error:
                # Set before validation, the error stands in for it: nothing runs.
                execution.pre_execution_errors = [GraphQLError(error.message, original_error=error)]
        yield
