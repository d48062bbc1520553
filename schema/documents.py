"""A query text is parsed and validated once per process, not once per request: clients send
the same few queries over and over, and graphql-core's validation walks every node each time."""

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import orjson
from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache

CACHED_DOCUMENTS = 512  # distinct query texts kept; bounded, as texts come from anyone
MAX_KEPT_VARIABLES = 4096  # bytes of JSON: what is worked out for longer variables is not kept


class CachedParse(ParserCache):
    """strawberry's parser cache for documents that parse; a syntax error is left to
    strawberry's own parse, so it is reported (and coded) like any other."""

    def on_parse(self) -> Iterator[None]:
        try:
            yield from super().on_parse()
        except GraphQLError:
            yield


class CachedValidation(ValidationCache):
    """strawberry's validation cache, except that a query the limits refused stays refused
    (it overwrites pre_execution_errors unconditionally)."""

    def on_validate(self) -> Iterator[None]:
        if self.execution_context.pre_execution_errors is None:
            yield from super().on_validate()
        else:
            yield


def parse_and_validate_once() -> tuple[
    Callable[[], SchemaExtension], Callable[[], SchemaExtension]
]:
    """Parsing goes first; validation must come after the extensions that add rules to it."""
    return (
        lambda: CachedParse(maxsize=CACHED_DOCUMENTS),
        lambda: CachedValidation(maxsize=CACHED_DOCUMENTS),
    )


def variables_key(variables: Mapping[str, Any] | None) -> bytes | None:
    """Variables as part of the key of what is worked out once per document and variables
    (query limits, plans of operations); None when they are too long to keep (a polygon), or
    not text JSON can write (half a surrogate pair: the limits refuse it)."""
    try:
        key = orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return None
    return key if len(key) <= MAX_KEPT_VARIABLES else None
