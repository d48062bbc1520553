"""Finding a target by a part of its name, in Chinese: every list and `features`, on an index."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from geo import layers
from geo.filters import name_contains

LISTS = {"enterprises": "enterprise", "constructionSites": "construction_site"}


def names(db: Connection, table: str) -> dict[int, str]:
    return dict(db.execute(text(f"SELECT id, name FROM {table}")).all())  # noqa: S608


@pytest.mark.parametrize("part", ["通宇", "通宇电缆", "电", "垃圾填埋", "恒申", "no such name"])
@pytest.mark.parametrize("field", LISTS)
def test_a_part_of_the_name_finds_every_row_holding_it(db, gql, field, part):
    query = f"""query ($name: String) {{ {field}(where: {{name: $name}}, first: 1000) {{
        totalCount edges {{ node {{ id name }} }} }} }}"""
    page = gql.data(query, name=part)[field]
    expected = {i for i, name in names(db, LISTS[field]).items() if part.lower() in name.lower()}
    found = {int(e["node"]["id"].split(":")[1]) for e in page["edges"]}
    assert found == expected and page["totalCount"] == len(expected)
    if part == "通宇" and field == "enterprises":
        assert any(e["node"]["name"] == "福建通宇电缆有限公司" for e in page["edges"])


def test_name_combines_with_the_other_filters_and_features(db, anonymous):
    jinfeng = "350112109"
    both = anonymous.data(
        """{ enterprises(where: {name: "科技", areaCode: "350112109"}, first: 1000) {
           edges { node { id } } } features(layer: ENTERPRISES, where: {name: "科技"}) }"""
    )
    expected = set(db.execute(text(
        "SELECT 'Enterprise:' || e.id FROM enterprise e JOIN area a ON a.id = e.area_id"
        " WHERE a.code LIKE :town AND strpos(e.name, '科技') > 0"), {"town": jinfeng + "%"}
    ).scalars())  # fmt: skip
    assert {e["node"]["id"] for e in both["enterprises"]["edges"]} == expected
    everywhere = {f["id"] for f in both["features"]["features"]}
    assert (
        expected <= everywhere
        and len(everywhere)
        == db.execute(
            text("SELECT count(*) FROM enterprise WHERE strpos(name, '科技') > 0")
        ).scalar_one()
    )


def test_a_layer_without_names_says_so(gql):
    error = gql.error('{ rentalProperties(where: {name: "华阳"}) { totalCount } }')
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "no name" in error["message"]


@pytest.mark.parametrize("part", ["通宇", "通宇电缆"])
def test_the_search_reads_the_index(db, part):
    layer = layers.ENTERPRISES
    clause = name_contains(layer, part).compile(
        dialect=db.dialect, compile_kwargs={"literal_binds": True}
    )
    db.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(
        db.execute(text(f"EXPLAIN SELECT id FROM enterprise WHERE {clause}")).scalars()  # noqa: S608
    )
    assert "idx_enterprise_name_grams" in plan, plan
