"""Query limits, checked before anything runs; each refusal carries its own `extensions.code`.

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
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSyntaxError,
    InlineFragmentNode,
    NamedTypeNode,
    ObjectFieldNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    Undefined,
    ValidationContext,
    ValidationRule,
    VariableDefinitionNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
    value_from_ast_untyped,
)
from graphql.language import Lexer, Source, TokenKind
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

QUERY_TOO_LONG = "QUERY_TOO_LONG"
QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
QUERY_TOO_MANY_ALIASES = "QUERY_TOO_MANY_ALIASES"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
BAD_USER_INPUT = "BAD_USER_INPUT"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"

# Arguments that set how many items a field returns: a connection's `first`, `features`' `limit`.
PAGE_ARGUMENTS = ("first", "limit")
LIST_SIZE = "list_size"  # strawberry field metadata: the most items a list field holds
# Fields (fragments expanded) or fragments nested this deep: far past any real client (the
# introspection query nests 13 deep), and well short of where recursive walks of the document
# (ours, strawberry's limiters, graphql-core's rules) run out of stack.
MAX_NESTING = 64
# strawberry's depth and alias limiters expand every fragment spread afresh, so a few fragments
# that each spread the next twice make them run for hours; nothing walks more fields than this.
MAX_EXPANDED_FIELDS = 5_000
# graphql-core compares every pair of same-named fields at one place (OverlappingFieldsCanBeMerged),
# about 25 µs a pair: 400 copies of one field would cost it two seconds of CPU.
MAX_REPEATED_PAIRS = 2_000


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
        extensions.append(DisableIntrospection)
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
        assert context.graphql_document is not None  # validation only follows a parse
        try:
            _check_selections(context.graphql_document)
            _check_variables(context.variables or {}, self.limits.max_string_chars)
            walk = _Walk(self.limits, context.schema._schema, context.graphql_document)
            cost = walk.run(context.variables or {})
            if cost > self.limits.max_cost:
                raise _Refused(
                    QUERY_TOO_COMPLEX,
                    f"the query's estimated cost is {cost:,}, above the maximum of"
                    f" {self.limits.max_cost:,}: ask for smaller pages (first) or fewer"
                    " nested lists",
                )
        except _Refused as refusal:
            # Set before validation, these errors stand in for it: validation does not run.
            context.pre_execution_errors = [refusal.error]
        else:
            # strawberry's limiters walk as many fields as the walk did, now known to be few. They
            # assume every spread names a fragment and none spreads itself: where that fails,
            # graphql-core's own rules say so, and the limiters stay out.
            limiters = _limiters(self.limits) if walk.sound else ()
            strings = _long_literals(self.limits.max_string_chars)
            context.validation_rules = (*context.validation_rules, *limiters, strings)
        yield


class _Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.error = GraphQLError(message, extensions={"code": code})


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
                raise _Refused(
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
                raise _Refused(BAD_USER_INPUT, f"{path} {problem}")
        elif isinstance(value, dict):
            stack.extend((f"{path}.{key}", item) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((f"{path}[{index}]", item) for index, item in enumerate(value))


# A selection set, the type it selects from, whether it is a page's content, and the fragments
# spread on the way to it (a fragment met again on its own path is a cycle, not walked again).
_Place = tuple[SelectionSetNode, GraphQLNamedType | None, bool, tuple[str, ...]]
_Field = tuple[FieldNode, GraphQLNamedType | None, bool, tuple[str, ...]]


class _Walk:
    """One pass over a document with its fragments expanded, fields of one name at one place
    merged as execution merges them: the estimated cost of its costliest operation, the pairs
    of repeated fields that validation will compare, and whether its fragments are sound."""

    def __init__(self, limits: Limits, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.limits = limits
        self.schema = schema
        self.document = document
        self.variables: Mapping[str, Any] = {}
        self.defaults: dict[str, Any] = {}
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.sound = True  # every spread names a fragment, and no fragment spreads itself
        self.fields = 0
        self.pairs = 0

    def run(self, variables: Mapping[str, Any]) -> int:
        self.variables = variables
        cost = 0
        for definition in self.document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                self.defaults = {
                    v.variable.name.value: v.default_value
                    for v in definition.variable_definitions or ()
                }
                root = self.schema.get_root_type(definition.operation)
                cost = max(cost, self._merged([(definition.selection_set, root, False, ())], 1, 0))
            elif isinstance(definition, FragmentDefinitionNode):
                # Validation checks fragments on their own, used or not, so their repeats count.
                place = (definition.selection_set, self._type(definition), False, ())
                self._merged([place], 1, 0)
        return cost

    def _merged(self, places: list[_Place], times: int, depth: int) -> int:
        """The cost of `places` merged, each field counted `times`: once per item of every list
        above it, the estimate being the sum over fields of the product of those lists' sizes."""
        if depth > MAX_NESTING:
            raise _Refused(
                QUERY_TOO_DEEP, f"fields nest more than {MAX_NESTING} deep, fragments expanded"
            )
        groups: dict[str, list[_Field]] = {}
        for place in places:
            self._collect(*place, groups)
        cost = 0
        for name, fields in groups.items():
            self.pairs += len(fields) * (len(fields) - 1) // 2
            if self.pairs > MAX_REPEATED_PAIRS:
                raise _Refused(
                    QUERY_TOO_COMPLEX,
                    f"the query repeats fields too often ({self.pairs:,} pairs of same-named fields"
                    f" in one place, at most {MAX_REPEATED_PAIRS:,}; '{name}' is selected"
                    f" {len(fields)} times in one place): select each field once there",
                )
            node, parent, paged, _ = fields[0]
            field = _field_of(parent, node.name.value)
            cost += times
            children = [
                (f.selection_set, _child_type(_field_of(p, f.name.value)), _is_paged(field), path)
                for f, p, _, path in fields
                if f.selection_set is not None
            ]
            if children:
                cost += self._merged(children, times * self._size(node, field, paged), depth + 1)
        return cost

    def _collect(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType | None,
        paged: bool,
        path: tuple[str, ...],
        groups: dict[str, list[_Field]],
    ) -> None:
        for selection in selection_set.selections:
            self.fields += 1
            if self.fields > MAX_EXPANDED_FIELDS:
                raise _Refused(
                    QUERY_TOO_COMPLEX,
                    f"the query has more than {MAX_EXPANDED_FIELDS:,} fields with its fragments"
                    " expanded",
                )
            if isinstance(selection, FieldNode):
                response = (selection.alias or selection.name).value
                groups.setdefault(response, []).append((selection, parent, paged, path))
            elif isinstance(selection, InlineFragmentNode):
                scope = self._type(selection) if selection.type_condition else parent
                self._collect(selection.selection_set, scope, paged, path, groups)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in path:
                    self.sound = False
                    continue
                if len(path) >= MAX_NESTING:
                    raise _Refused(QUERY_TOO_DEEP, f"fragments nest more than {MAX_NESTING} deep")
                scope = self._type(fragment)
                self._collect(fragment.selection_set, scope, paged, (*path, name), groups)

    def _type(self, node: InlineFragmentNode | FragmentDefinitionNode) -> GraphQLNamedType | None:
        condition: NamedTypeNode | None = node.type_condition
        return None if condition is None else self.schema.get_type(condition.name.value)

    def _size(self, node: FieldNode, field: GraphQLField | None, paged: bool) -> int:
        """How many items a field stands for: its page, a list's assumed length, or one."""
        if field is None:
            return 1
        for name in PAGE_ARGUMENTS:
            if name in field.args:
                return self._bounded(self._argument(node, name, field.args[name]))
        if is_list_type(get_nullable_type(field.type)):  # type: ignore[arg-type]
            # The edges of a connection are its page, already counted by `first`.
            if paged:
                return 1
            # A list whose length the schema knows says so: strawberry.field(metadata=...).
            definition = (field.extensions or {}).get("strawberry-definition")
            known = getattr(definition, "metadata", None) or {}
            return self._bounded(known.get(LIST_SIZE))
        return 1

    def _bounded(self, value: Any) -> int:
        size = value if isinstance(value, int) and not isinstance(value, bool) else None
        size = self.limits.list_size if size is None else size
        # At least one: a field under an empty page is still looked at, and still checked.
        return max(1, min(size, self.limits.max_page_size))

    def _argument(self, node: FieldNode, name: str, argument: GraphQLArgument) -> Any:
        for given in node.arguments or ():
            if given.name.value != name:
                continue
            if isinstance(given.value, VariableNode):
                variable = given.value.name.value
                if variable in self.variables:
                    return self.variables[variable]
                default = self.defaults.get(variable)
                return None if default is None else value_from_ast_untyped(default)
            return value_from_ast_untyped(given.value)
        return None if argument.default_value is Undefined else argument.default_value


def _field_of(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    """None for an unknown type or field, and for introspection (its lists are the schema's
    own, short): such fields are counted, never multiplied."""
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return None if parent.name.startswith("__") else parent.fields.get(name)
    return None


def _child_type(field: GraphQLField | None) -> GraphQLNamedType | None:
    return None if field is None else get_named_type(field.type)


def _is_paged(field: GraphQLField | None) -> bool:
    return field is not None and any(name in field.args for name in PAGE_ARGUMENTS)
