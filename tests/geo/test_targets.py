"""Target identity: one parse of global ids, whatever door asks, and the kinds' one table."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, func, select

from geo import targets
from geo.errors import BadInput
from geo.models import FlagChange, Inspection
from geo.targets import FLAGGED, KINDS, Target, TargetKind


@pytest.mark.parametrize("value", ["Enterprise:", "Enterprise:4x", "Enterprise:٤٢", "42", ":42"])
def test_a_malformed_id_says_what_an_id_reads_like(value: str):
    with pytest.raises(BadInput, match="ids read like Enterprise:42"):
        targets.parse_target(value)


def test_an_id_of_another_kind_is_refused_with_the_kinds_that_fit():
    with pytest.raises(BadInput) as refused:
        targets.parse_target("RentalProperty:3", FLAGGED, "an enterprise or construction site")
    assert refused.value.message == (
        "'RentalProperty:3' is not the id of an enterprise or construction site:"
        " ids read like Enterprise:42 (Enterprise, ConstructionSite)"
    )


def test_parse_reads_back_what_str_writes():
    for kind in TargetKind:
        assert targets.parse_target(str(Target(kind, 42))) == Target(kind, 42)


def test_sql_ids_match_python_ids(db: Connection):
    for kind, spec in KINDS.items():
        row_id = db.execute(select(spec.table.c.id).limit(1)).scalar_one()
        sql_id = select(targets.global_id(kind.value, spec.table.c.id)).where(
            spec.table.c.id == row_id
        )
        assert db.execute(sql_id).scalar_one() == str(Target(kind, row_id))


def test_every_kind_has_its_column_in_inspection():
    columns = Inspection.__table__.c
    assert {spec.column for spec in KINDS.values()} <= set(columns.keys())
    constraint = next(
        c for c in Inspection.__table__.constraints if c.name == "inspection_one_target"
    )
    assert all(spec.column in str(constraint.sqltext) for spec in KINDS.values())


def test_a_flagged_kind_has_its_column_in_flag_change(db: Connection):
    history = FlagChange.__table__.c
    for kind in FLAGGED:
        column = history[KINDS[kind].column]
        assert db.execute(select(func.count(column))).scalar_one() > 0
