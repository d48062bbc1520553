"""The tile cache between two transactions: a tile built while a write is under way is served
but not kept, and a write waits for a tile being kept, so no kept tile misses a write."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from geo import layers, tiles
from geo.models import Role
from geo.scope import Caller

DISTRICT = Caller(account_id=1, username="district", role=Role.DISTRICT_OFFICER)
ASKED = tiles.Asked(layers.ENTERPRISES, 12, 3408, 1743)
TOUCH = (
    "UPDATE enterprise SET staff_total = staff_total WHERE id = (SELECT min(id) FROM enterprise)"
)


def kept_count(session: Session) -> int:
    return session.execute(text("SELECT count(*) FROM tile_cache")).scalar_one()  # type: ignore[no-any-return]


def test_a_tile_built_during_a_write_is_served_but_not_kept(engine: Engine) -> None:
    with engine.connect() as writer, Session(engine) as builder:
        writer.begin()
        writer.execute(text(TOUCH))
        tile = tiles.built(builder, DISTRICT, ASKED)
        assert tile.mvt and tile.etag.startswith('W/"')
        assert kept_count(builder) == 0
        builder.rollback()
        writer.rollback()


def test_a_write_waits_for_a_tile_being_kept(engine: Engine) -> None:
    with engine.connect() as writer, Session(engine) as builder:
        tile = tiles.built(builder, DISTRICT, ASKED)
        assert kept_count(builder) == 1
        assert tiles.kept(builder, DISTRICT, ASKED) == tile
        assert tiles.kept(builder, DISTRICT, ASKED, known={tile.etag}) == tiles.Tile(
            None, tile.etag
        )
        writer.begin()
        writer.execute(text("SET LOCAL lock_timeout = '200ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            writer.execute(text(TOUCH))
        writer.rollback()
        builder.rollback()
