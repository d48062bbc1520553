"""Numbers at the edge: out of range is a coded refusal, and zero is a number, not a default."""

from __future__ import annotations

import pytest

HUGE = "9" * 5000


@pytest.mark.parametrize(
    "path",
    [f"/tiles/enterprises/{HUGE}/0/0.mvt", f"/tiles/enterprises/12/{HUGE}/0.mvt",
     f"/tiles/enterprises/12/0/{HUGE}.mvt", "/tiles/enterprises/12/0/99999999999.mvt"],
)  # fmt: skip
def test_huge_tile_numbers_are_refused(client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "query",
    [f"inspectors={HUGE}", f"shiftMinutes={HUGE}", "inspectors=0", "shiftMinutes=0",
     "inspectors=21", "shiftMinutes=29"],
)  # fmt: skip
def test_route_export_numbers_out_of_range_are_refused(client, tokens, zone_id, query):
    response = client.get(
        f"/routes/PatrolZone:{zone_id}/2020-02-28.geojson?{query}",
        headers={"Authorization": f"Bearer {tokens['district']}"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("argument", ["inspectors: 0", "shiftMinutes: 0", "inspectors: -1"])
def test_zero_inspectors_or_minutes_is_refused_not_defaulted(gql, zone_id, argument):
    error = gql.error(
        f'{{ inspectionRoute(zoneId: "PatrolZone:{zone_id}", date: "2020-02-28", {argument})'
        " { plannedAt } }"
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    name = argument.split(":")[0]
    assert name in error["message"]


def test_an_unknown_path_is_a_coded_json_error(client):
    response = client.get("/tiles//12/0/0.mvt")
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
