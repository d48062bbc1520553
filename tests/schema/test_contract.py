"""The schema keeps every name and type of ../shared/contract.graphql."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    build_schema,
)

from api.app import query_limits
from api.settings import get_settings
from schema import build_schema as fugong_schema
from schema import framework

CONTRACT = Path(__file__).resolve().parents[2].parent / "shared" / "contract.graphql"


@pytest.fixture(scope="module")
def schemas():
    if not CONTRACT.exists():
        pytest.skip(f"{CONTRACT} is not beside this checkout")
    ours = framework.core_schema(fugong_schema(query_limits(get_settings())))
    return build_schema(CONTRACT.read_text(encoding="utf-8")), ours


def test_every_contract_name_is_in_the_schema(schemas):
    contract, ours = schemas
    missing = []
    for name, contract_type in contract.type_map.items():
        if name.startswith("__"):
            continue
        our_type = ours.type_map.get(name)
        if our_type is None:
            missing.append(name)
            continue
        if isinstance(contract_type, GraphQLObjectType | GraphQLInterfaceType):
            for interface in contract_type.interfaces:
                assert interface.name in {i.name for i in our_type.interfaces}, (name, interface)
        if isinstance(
            contract_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType
        ):
            for field_name, field in contract_type.fields.items():
                ours_field = our_type.fields.get(field_name)
                if ours_field is None:
                    missing.append(f"{name}.{field_name}")
                    continue
                assert str(ours_field.type) == str(field.type), (name, field_name)
                for arg_name, arg in getattr(field, "args", {}).items():
                    assert arg_name in ours_field.args, (name, field_name, arg_name)
                    assert str(ours_field.args[arg_name].type) == str(arg.type), (
                        name,
                        field_name,
                        arg_name,
                    )
        elif hasattr(contract_type, "values"):
            assert set(contract_type.values) <= set(our_type.values), name
    assert missing == [], missing
