"""With introspection off, errors do not name what the schema holds: graphql-core's "Did you
mean 'contactPhone'?" would let anyone enumerate its fields, arguments and enum values."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

# graphql-core ends a message with its suggestions (graphql.pyutils.did_you_mean).
SUGGESTION = re.compile(r"\s*Did you mean .*\?$", re.DOTALL)


class NoSuggestions(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        _strip(context.pre_execution_errors or ())
        if context.result is not None:
            _strip(context.result.errors or ())


def _strip(errors: Iterable[GraphQLError]) -> None:
    for error in errors:
        error.message = SUGGESTION.sub("", error.message)
