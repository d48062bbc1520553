"""Every full read of personal data is written to the audit log before the response leaves;
if the log cannot be written, the data is not sent. The same for each result a WebSocket
streams (each event of a subscription) as for a request's one answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from geo import audit
from schema.errors import coded


class AuditPersonalReads(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        yield
        await audited(self.execution_context.context, self.execution_context.result)

    async def on_stream_result(self, result: Any) -> AsyncIterator[None]:
        await audited(self.execution_context.context, result)
        yield


async def audited(context: Any, result: Any) -> None:
    """Writes the reads of personal data behind `result`, or withholds its data."""
    reads = context.take_personal_reads() if hasattr(context, "take_personal_reads") else []
    if not reads or result is None:
        return
    try:
        await context.write(audit.record_reads, context.caller, reads)
    except Exception as error:  # noqa: BLE001 - any failure must withhold the data
        result.data = None
        # Coded here: a streamed result leaves before ErrorCodes would see this error.
        result.errors = [
            coded(
                GraphQLError(
                    "personal data was read but could not be audited", original_error=error
                )
            )
        ]
