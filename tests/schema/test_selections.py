"""The one walk over a selection set with its fragments spread (schema/selections.py)."""

from __future__ import annotations

from graphql import FieldNode, FragmentDefinitionNode, OperationDefinitionNode, parse

from schema import selections


def walked(query: str) -> list[tuple[str, str | None, tuple[str, ...], bool]]:
    document = parse(query, no_location=True)
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return [
        (
            s.node.name.value if isinstance(s.node, FieldNode) else type(s.node).__name__,
            s.on,
            s.path,
            s.fragment is not None,
        )
        for s in selections.spread(operation.selection_set, fragments)
    ]


def test_fragments_are_walked_in_document_order_under_their_type_conditions():
    query = """{ id ... on Enterprise { name ...more } ... { code } }
               fragment more on Node { id }"""
    assert walked(query) == [
        ("id", None, (), False),
        ("InlineFragmentNode", None, (), True),
        ("name", "Enterprise", (), False),
        ("FragmentSpreadNode", "Enterprise", (), True),
        ("id", "Node", ("more",), False),
        ("InlineFragmentNode", None, (), True),
        ("code", None, (), False),
    ]


def test_an_unknown_fragment_and_a_cycle_are_yielded_but_not_walked_into():
    query = "{ ...nowhere ...a } fragment a on Area { code ...a }"
    assert walked(query) == [
        ("FragmentSpreadNode", None, (), False),
        ("FragmentSpreadNode", None, (), True),
        ("code", "Area", ("a",), False),
        ("FragmentSpreadNode", "Area", ("a",), False),
    ]
