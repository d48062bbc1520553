"""The estimated cost of a query, and the limits on its shape checked on the way: one pass over
the document with its fragments spread (schema/selections.py). The cost of a field is the
product of the sizes of the lists above it: their `first` or `limit`, a length the schema
states (LIST_SIZE metadata), or an assumed one; the estimate is the sum over fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
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
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
    value_from_ast_untyped,
)

from schema import framework, selections

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"

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


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.error = GraphQLError(message, extensions={"code": code})


# A selection set, the type it selects from, whether it is a page's content, and the fragments
# spread on the way to it (a fragment met again on its own path is a cycle, not walked again).
_Place = tuple[SelectionSetNode, GraphQLNamedType | None, bool, tuple[str, ...]]
_Field = tuple[FieldNode, GraphQLNamedType | None, bool, tuple[str, ...]]


class CostWalk:
    """One pass over a document with its fragments expanded, fields of one name at one place
    merged as execution merges them: the estimated cost of its costliest operation, the pairs
    of repeated fields that validation will compare, and whether its fragments are sound."""

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, list_size: int, max_page_size: int
    ) -> None:
        self.list_size = list_size  # the assumed length of a list without `first` or `limit`
        self.max_page_size = max_page_size  # a larger `first` is refused by the field
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
            raise Refused(
                QUERY_TOO_DEEP, f"fields nest more than {MAX_NESTING} deep, fragments expanded"
            )
        groups: dict[str, list[_Field]] = {}
        for place in places:
            self._collect(*place, groups)
        cost = 0
        for name, fields in groups.items():
            self.pairs += len(fields) * (len(fields) - 1) // 2
            if self.pairs > MAX_REPEATED_PAIRS:
                raise Refused(
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
        for selected in selections.spread(selection_set, self.fragments, path=path):
            self.fields += 1
            if self.fields > MAX_EXPANDED_FIELDS:
                raise Refused(
                    QUERY_TOO_COMPLEX,
                    f"the query has more than {MAX_EXPANDED_FIELDS:,} fields with its fragments"
                    " expanded",
                )
            node = selected.node
            if isinstance(node, FieldNode):
                scope = parent if selected.on is None else self.schema.get_type(selected.on)
                response = (node.alias or node.name).value
                groups.setdefault(response, []).append((node, scope, paged, selected.path))
            elif isinstance(node, FragmentSpreadNode):
                if selected.fragment is None:
                    self.sound = False
                elif len(selected.path) >= MAX_NESTING:
                    raise Refused(QUERY_TOO_DEEP, f"fragments nest more than {MAX_NESTING} deep")

    def _type(self, node: FragmentDefinitionNode) -> GraphQLNamedType | None:
        return self.schema.get_type(node.type_condition.name.value)

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
            return self._bounded(framework.field_metadata(field).get(LIST_SIZE))
        return 1

    def _bounded(self, value: Any) -> int:
        size = value if isinstance(value, int) and not isinstance(value, bool) else None
        size = self.list_size if size is None else size
        # At least one: a field under an empty page is still looked at, and still checked.
        return max(1, min(size, self.max_page_size))

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
