"""Every full read of personal data is written to the audit log before the response leaves;
if the log cannot be written, the data is not sent."""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from geo import audit


class AuditPersonalReads(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        reads = getattr(context, "personal_reads", None)
        result = self.execution_context.result
        if not reads or result is None:
            return
        try:
            await context.write(audit.record_reads, context.caller, reads)
        except Exception as error:  # noqa: BLE001 - any failure must withhold the data
            result.data = None
            result.errors = [
                GraphQLError(
                    "personal data was read but could not be audited", original_error=error
                )
            ]
