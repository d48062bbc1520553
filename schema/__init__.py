"""The GraphQL face of fugong: types, queries and their inputs."""

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionResult

from schema.audit import AuditPersonalReads
from schema.caller import CurrentCaller
from schema.documents import parse_and_validate_once
from schema.errors import ErrorCodes, coded
from schema.framework import PassThroughExecution
from schema.mutation import Mutation
from schema.operations import CompiledOperations
from schema.query import Query
from schema.query_limits import Limits, limit_extensions
from schema.scalars import SCALARS
from schema.subscription import Subscription


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """A caller's mistakes are answered, not logged; ErrorCodes logs the unexpected."""

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        # strawberry answers an exception raised inside an extension after every extension has
        # finished, so ErrorCodes never sees it: such errors get their code here.
        result = await super().execute(*args, **kwargs)
        if result.errors:
            result.errors = [coded(error) for error in result.errors]
        return result


def build_schema(limits: Limits) -> strawberry.Schema:
    parse, validate = parse_and_validate_once()
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALARS),
        execution_context_class=PassThroughExecution,
        # ErrorCodes first: it sees the errors of every extension after it.
        extensions=[
            ErrorCodes,
            parse,
            *limit_extensions(limits),
            CurrentCaller,  # before validation: an operation refused by it is not run
            validate,  # after the limits, which add their rules
            AuditPersonalReads,
            CompiledOperations,  # last: it answers in place of execution
        ],
    )
