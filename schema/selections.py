"""A selection set with its fragments spread, in document order: the one walk over a query's
fields that the cost estimate (schema/query_cost.py) and compiled pages (schema/compiled.py)
share. A spread that names no fragment, or a fragment met again on its own path (a cycle), is
yielded but not walked into; validation reports both."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionNode,
    SelectionSetNode,
)


@dataclass(frozen=True)
class Selected:
    node: SelectionNode  # a field, an inline fragment or a fragment spread
    on: str | None  # the type condition it is selected under; None: its parent's type
    path: tuple[str, ...]  # the named fragments spread on the way to it
    # What a fragment node spreads (the inline fragment itself, or the named definition);
    # None for a field, and for a spread that names no fragment or is a cycle.
    fragment: InlineFragmentNode | FragmentDefinitionNode | None = None


def spread(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    on: str | None = None,
    path: tuple[str, ...] = (),
) -> Iterator[Selected]:
    """Every selection, fragments walked into after the node that spreads them. A consumer
    that stops (raises) at a fragment node walks no further into it."""
    for node in selection_set.selections if selection_set else ():
        if isinstance(node, FieldNode):
            yield Selected(node, on, path)
            continue
        inner_path = path
        fragment: InlineFragmentNode | FragmentDefinitionNode | None = None
        if isinstance(node, InlineFragmentNode):
            fragment = node
        elif isinstance(node, FragmentSpreadNode):
            name = node.name.value
            fragment = None if name in path else fragments.get(name)
            inner_path = (*path, name)
        yield Selected(node, on, path, fragment)
        if fragment is not None:
            condition = fragment.type_condition
            inner_on = on if condition is None else condition.name.value
            yield from spread(fragment.selection_set, fragments, inner_on, inner_path)
