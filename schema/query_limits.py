"""Query limits, checked before anything runs; each refusal carries its own `extensions.code`.
The cost estimate, and the limits on a document's shape it checks on the way, are
schema/query_cost.py's.

Refusals
 ├── QUERY_TOO_LONG          more tokens than max_tokens (checked while parsing)
 ├── QUERY_TOO_DEEP          fields nested deeper than max_depth, or fields or fragments nested
 │                           more than MAX_NESTING deep with fragments expanded
 ├── QUERY_TOO_MANY_ALIASES  more aliases than max_aliases
 ├── QUERY_TOO_COMPLEX       an estimated cost above max_cost, more than MAX_EXPANDED_FIELDS fields
 │                           with fragments expanded, or one field repeated over and over in a place
 └── BAD_USER_INPUT          a string argument or variable longer than max_string_chars, or one
                             PostgreSQL cannot hold (a NUL, half a surrogate pair)
Introspection, when turned off, is refused as GRAPHQL_VALIDATION_FAILED.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLError,
    GraphQLSyntaxError,
    ObjectFieldNode,
    StringValueNode,
    ValidationContext,
    ValidationRule,
    VariableDefinitionNode,
)
from graphql.language import Lexer, Source, TokenKind
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from geo.prepared import prepared
from schema import framework
from schema.documents import variables_key
from schema.query_cost import QUERY_TOO_COMPLEX, QUERY_TOO_DEEP, CostWalk, Refused
from schema.suggestions import NoSuggestions

QUERY_TOO_LONG = "QUERY_TOO_LONG"
QUERY_TOO_MANY_ALIASES = "QUERY_TOO_MANY_ALIASES"
BAD_USER_INPUT = "BAD_USER_INPUT"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_tokens: int
    max_cost: int
    list_size: int  # the assumed length of a list without `first` or `limit`, such as `areas`
    max_page_size: int  # a larger `first` is refused by the field, so the estimate stops here
    max_string_chars: int
    introspection: bool


def limit_extensions(limits: Limits) -> list[Callable[[], SchemaExtension]]:
    """The schema extensions that enforce `limits`, one instance per request."""
    extensions: list[Callable[[], SchemaExtension]] = [
        functools.partial(TokenLimit, max_token_count=limits.max_tokens),
        functools.partial(QueryLimits, limits),
    ]
    if not limits.introspection:
        extensions += [DisableIntrospection, NoSuggestions]
    return extensions


def _stamp(error: GraphQLError, code: str) -> GraphQLError:
    error.extensions = {**(error.extensions or {}), "code": code}
    return error


class TokenLimit(MaxTokensLimiter):
    """strawberry's token limit, its refusal told apart from other syntax errors by a code."""

    def on_parse(self) -> Iterator[None]:
        yield
        context = self.execution_context
        for error in context.pre_execution_errors or ():
            if isinstance(error, GraphQLSyntaxError) and _more_tokens_than(
                context.query or "", self.max_token_count
            ):
                _stamp(error, QUERY_TOO_LONG)


def _more_tokens_than(query: str, most: int) -> bool:
    """Counted as graphql-core's parser counts them; only run once parsing has failed."""
    lexer = Lexer(Source(query))
    try:
        for _ in range(most + 1):
            if lexer.advance().kind is TokenKind.EOF:
                return False
    except GraphQLSyntaxError:
        return False
    return True


class QueryLimits(SchemaExtension):
    """Refuses a request before validation when its strings, cost or shape are out of bounds;
    otherwise adds the depth, alias and string rules to graphql-core's validation."""

    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self.limits = limits

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        try:
            sound = self._passed(context)
        except Refused as refusal:
            # Set before validation, these errors stand in for it: validation does not run.
            context.pre_execution_errors = [refusal.error]
        else:
            # strawberry's limiters walk as many fields as the walk did, now known to be few. They
            # assume every spread names a fragment and none spreads itself: where that fails,
            # graphql-core's own rules say so, and the limiters stay out.
            limiters = _limiters(self.limits) if sound else ()
            strings = _long_literals(self.limits.max_string_chars)
            context.validation_rules = (*context.validation_rules, *limiters, strings)
        yield

    def _passed(self, context: Any) -> bool:
        """Refused, or whether the document's fragments are sound. The shape, strings and cost
        depend on the document and the variables only: a pass is kept for them."""
        variables = variables_key(context.variables)
        if variables is None:
            return self._check(context)
        key = ("limits", self.limits, context.schema, context.query, variables)
        return prepared(key, lambda: (self._check(context),))[0]

    def _check(self, context: Any) -> bool:
        assert context.graphql_document is not None  # validation only follows a parse
        _check_selections(context.graphql_document)
        _check_variables(context.variables or {}, self.limits.max_string_chars)
        walk = CostWalk(
            framework.core_schema(context.schema),
            context.graphql_document,
            self.limits.list_size,
            self.limits.max_page_size,
        )
        cost = walk.run(context.variables or {})
        if cost > self.limits.max_cost:
            raise Refused(
                QUERY_TOO_COMPLEX,
                f"the query's estimated cost is {cost:,}, above the maximum of"
                f" {self.limits.max_cost:,}: ask for smaller pages (first) or fewer"
                " nested lists",
            )
        return walk.sound


def _check_selections(document: DocumentNode) -> None:
    """graphql-core parses `{ }` and `{ area { } }`, which the spec forbids and which the
    limiters (and the cost walk) cannot measure: refused first, as validation would."""
    for definition in document.definitions:
        stack = [getattr(definition, "selection_set", None)]
        while stack:
            selections = stack.pop()
            if selections is None:
                continue
            if not selections.selections:
                raise Refused(
                    GRAPHQL_VALIDATION_FAILED,
                    "a selection set ({ }) selects at least one field",
                )
            stack.extend(getattr(s, "selection_set", None) for s in selections.selections)


@functools.cache
def _limiters(limits: Limits) -> tuple[type[ValidationRule], ...]:
    """strawberry's depth and alias limiters, their errors with our codes."""
    depth = QueryDepthLimiter(max_depth=limits.max_depth).validation_rules
    aliases = MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules
    return (
        *(_coded(rule, QUERY_TOO_DEEP) for rule in depth),
        *(_coded(rule, QUERY_TOO_MANY_ALIASES) for rule in aliases),
    )


class _Stamping:
    """A validation context that puts `code` on every error reported through it."""

    def __init__(self, context: ValidationContext, code: str) -> None:
        self._context = context
        self._code = code

    def report_error(self, error: GraphQLError) -> None:
        self._context.report_error(_stamp(error, self._code))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def _coded(rule: type[ValidationRule], code: str) -> type[ValidationRule]:
    def __init__(self: ValidationRule, context: ValidationContext) -> None:
        rule.__init__(self, cast(ValidationContext, _Stamping(context, code)))

    return type(rule.__name__, (rule,), {"__init__": __init__})


@functools.cache
def _long_literals(most: int) -> type[ValidationRule]:
    class Strings(ValidationRule):
        def enter_string_value(
            self, node: StringValueNode, _key: Any, parent: Any, _path: Any, ancestors: list[Any]
        ) -> None:
            problem = _string_problem(node.value, most)
            if problem is not None:
                message = f"{_literal_name([*ancestors, parent])} {problem}"
                self.report_error(GraphQLError(message, node, extensions={"code": BAD_USER_INPUT}))

    return Strings


def _string_problem(value: str, most: int) -> str | None:
    """Why no field should see this string, or None. PostgreSQL text holds neither NUL nor
    half a surrogate pair, and the database driver would fail on them with a 500."""
    if len(value) > most:
        return f"is {len(value):,} characters long; at most {most:,} are allowed"
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.isascii() or value.encode()
    except UnicodeEncodeError:
        return "is not valid Unicode (half a surrogate pair)"
    return None


def _literal_name(ancestors: list[Any]) -> str:
    """The argument a string literal is given to, as `where.areaCode` or `$code` (a default)."""
    names: list[str] = []
    for node in ancestors:
        if isinstance(node, ArgumentNode | ObjectFieldNode):
            names.append(node.name.value)
        elif isinstance(node, VariableDefinitionNode):
            names.append(f"${node.variable.name.value}")
    return ".".join(names) or "a string"


def _check_variables(variables: Mapping[str, Any], most: int) -> None:
    # A loop, not recursion: JSON nested a few hundred deep must not exhaust the stack here.
    stack: list[tuple[str, Any]] = [(f"${name}", value) for name, value in variables.items()]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            problem = _string_problem(value, most)
            if problem is not None:
                raise Refused(BAD_USER_INPUT, f"{path} {problem}")
        elif isinstance(value, dict):
            stack.extend((f"{path}.{key}", item) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
