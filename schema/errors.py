"""Every GraphQL error carries `extensions.code`; unexpected failures are masked and logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from geo.errors import FugongError

log = logging.getLogger("fugong.errors")

INTERNAL = "INTERNAL_SERVER_ERROR"


def coded(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, FugongError):
        code, message = original.code, original.message
    elif isinstance(original, GraphQLError):
        # A variable that does not fit its type: the caller's input, said in GraphQL's words.
        code, message = "BAD_USER_INPUT", error.message
    elif original is None:
        # Raised by GraphQL itself: the document or its variables do not fit the schema.
        parse = error.message.startswith("Syntax Error")
        fallback = "GRAPHQL_PARSE_FAILED" if parse else "GRAPHQL_VALIDATION_FAILED"
        code = (error.extensions or {}).get("code") or fallback
        message = error.message
    else:
        log.error("unexpected error in %s", error.path, exc_info=original)
        code, message = INTERNAL, "Internal server error; it has been logged"
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), "code": code},
    )


class ErrorCodes(SchemaExtension):
    """Codes the errors of a request's answer, and of each result a WebSocket streams."""

    def on_operation(self) -> Iterator[None]:
        yield
        _code(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        _code(result)
        yield


def _code(result: Any) -> None:
    if result is not None and getattr(result, "errors", None):
        result.errors = [coded(error) for error in result.errors]
