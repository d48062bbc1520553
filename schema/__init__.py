"""The GraphQL face of fugong: types, queries and their inputs."""

import strawberry
from strawberry.schema.config import StrawberryConfig

from schema.errors import ErrorCodes
from schema.query import Query
from schema.scalars import SCALARS


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        config=StrawberryConfig(scalar_map=SCALARS),
        extensions=[ErrorCodes],
    )
