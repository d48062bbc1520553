"""Every door that takes a global id refuses a malformed one with the same error (geo.targets)."""

from __future__ import annotations

import pytest

from geo.targets import TargetKind
from schema.types import TARGET_TYPES

ENDPOINTS = {
    "node": '{ node(id: "Spaceship:1") { id } }',
    "overrideFlag": 'mutation { overrideFlag(targetId: "Spaceship:1", color: RED, reason: "x")'
    " { color } }",
    "clearFlagOverride": 'mutation { clearFlagOverride(targetId: "Spaceship:1") { color } }',
    "inspectionRoute": '{ inspectionRoute(zoneId: "Spaceship:1") { plannedAt } }',
}


@pytest.mark.parametrize("door", sorted(ENDPOINTS))
def test_every_door_refuses_a_malformed_id_the_same_way(gql, door: str):
    error = gql.error(ENDPOINTS[door])
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("'Spaceship:1' is not the id of ")
    assert "ids read like " in error["message"]


def test_the_inspection_target_union_has_a_type_for_every_kind():
    assert set(TARGET_TYPES) == {kind.value for kind in TargetKind}
