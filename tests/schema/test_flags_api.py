"""Flags through the API: counts as of a date, history, status reports, overrides, and who may."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, text

JINFENG = "350112109"
COUNTS = """query ($d: Date) { flagCounts(date: $d) { area { name } counts { green yellow red total } } }"""
UPDATE = """mutation ($id: ID!, $input: ResumptionInput!) {
  updateResumption(targetId: $id, input: $input) { color reason overridden since } }"""
OVERRIDE = """mutation ($id: ID!, $color: FlagColor!, $reason: String!) {
  overrideFlag(targetId: $id, color: $color, reason: $reason) { color reason overridden } }"""
CLEAR = """mutation ($id: ID!) { clearFlagOverride(targetId: $id) { color reason overridden } }"""
HISTORY = """query ($id: ID!) { node(id: $id) { ... on Enterprise {
  flag { color reason } flagHistory { from to at reason source target { __typename } } } } }"""


def totals(rows: list[dict]) -> dict[str, int]:
    return {k: sum(r["counts"][k] for r in rows) for k in ("green", "yellow", "red", "total")}


def test_counts_tell_februarys_story(anonymous):
    early = anonymous.data(COUNTS, d="2020-02-10")["flagCounts"]
    late = anonymous.data(COUNTS, d="2020-02-27")["flagCounts"]
    assert len(early) == len(late) == 18
    early_total, late_total = totals(early), totals(late)
    assert early_total["red"] > early_total["total"] * 0.8
    assert late_total["green"] > early_total["green"] and late_total["red"] < early_total["red"]


def test_area_flag_counts_match_the_per_town_rows(anonymous):
    rows = anonymous.data(COUNTS, d="2020-02-20")["flagCounts"]
    district = anonymous.data(
        '{ area(code: "350112") { flagCounts(date: "2020-02-20") { green yellow red total } } }'
    )["area"]["flagCounts"]
    per_town = totals(rows)
    assert district["total"] >= per_town["total"]  # the district also holds what no town does
    jinfeng = next(r for r in rows if r["area"]["name"] == "金峰镇")["counts"]
    own = anonymous.data(
        f'{{ area(code: "{JINFENG}") {{ flagCounts(date: "2020-02-20") {{ green yellow red total }} }} }}'
    )["area"]["flagCounts"]
    assert own == jinfeng


def test_future_dates_and_unknown_areas_are_refused(anonymous):
    error = anonymous.error(COUNTS, d="2999-01-01")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    error = anonymous.error('{ flagCounts(areaCode: "350112999") { counts { total } } }')
    assert error["extensions"]["code"] == "NOT_FOUND"


def yellow_in_jinfeng_with_one_problem(db: Connection) -> int:
    return db.execute(text(
        "SELECT e.id FROM enterprise e JOIN area a ON a.id = e.area_id"
        " WHERE a.code LIKE :town AND e.flag_color = 'YELLOW' AND NOT e.flag_overridden"
        " AND cardinality(e.problems) = 1 AND e.resumption = 'FULL'"
        " AND e.staff_returned >= 0.8 * e.staff_total AND coalesce(e.capacity_pct, 100) >= 70"
        " ORDER BY e.id LIMIT 1"
    ), {"town": JINFENG + "%"}).scalar_one()  # fmt: skip


def test_fixing_the_last_problem_turns_a_yellow_enterprise_green(db, as_user):
    town = as_user("town")
    enterprise = f"Enterprise:{yellow_in_jinfeng_with_one_problem(db)}"
    before = town.data(HISTORY, id=enterprise)["node"]
    flag = town.data(UPDATE, id=enterprise, input={"status": "FULL", "problems": []})[
        "updateResumption"
    ]
    assert flag["color"] == "GREEN" and flag["reason"] != before["flag"]["reason"]
    after = town.data(HISTORY, id=enterprise)["node"]
    assert len(after["flagHistory"]) == len(before["flagHistory"]) + 1
    last = after["flagHistory"][-1]
    assert (last["from"], last["to"], last["source"]) == ("YELLOW", "GREEN", "RULE")
    assert last["target"]["__typename"] == "Enterprise"
    # The same report again changes nothing and appends nothing.
    town.data(UPDATE, id=enterprise, input={"status": "FULL", "problems": []})
    assert len(town.data(HISTORY, id=enterprise)["node"]["flagHistory"]) == len(
        after["flagHistory"]
    )


def test_override_holds_until_cleared(db, as_user):
    district = as_user("district")
    enterprise = f"Enterprise:{yellow_in_jinfeng_with_one_problem(db)}"
    flag = district.data(OVERRIDE, id=enterprise, color="RED", reason="疫情防控措施未落实")
    assert flag["overrideFlag"] == {
        "color": "RED",
        "reason": "疫情防控措施未落实",
        "overridden": True,
    }
    cleared = district.data(CLEAR, id=enterprise)["clearFlagOverride"]
    assert cleared["color"] == "YELLOW" and not cleared["overridden"]
    sources = [c["source"] for c in district.data(HISTORY, id=enterprise)["node"]["flagHistory"]]
    assert sources[-2:] == ["OVERRIDE", "OVERRIDE_CLEARED"]


def flag_row(db: Connection, enterprise_id: int) -> tuple:
    return db.execute(
        text("SELECT flag_color, flag_reason, resumption, problems FROM enterprise WHERE id = :i"),
        {"i": enterprise_id},
    ).one()


def test_who_may_change_a_flag(db, anonymous, as_user):
    inside = yellow_in_jinfeng_with_one_problem(db)
    outside = db.execute(text(
        "SELECT e.id FROM enterprise e JOIN area a ON a.id = e.area_id"
        " WHERE a.code NOT LIKE :town ORDER BY e.id LIMIT 1"
    ), {"town": JINFENG + "%"}).scalar_one()  # fmt: skip
    report = {"status": "NOT_RESUMED"}
    cases = [
        (anonymous, inside, "UNAUTHENTICATED"),
        (as_user("inspector"), inside, "FORBIDDEN"),
        (as_user("town"), outside, "FORBIDDEN"),
    ]
    for client, target, code in cases:
        before = flag_row(db, target)
        for query, variables in [
            (UPDATE, {"input": report}),
            (OVERRIDE, {"color": "GREEN", "reason": "x"}),
            (CLEAR, {}),
        ]:
            error = client.error(query, id=f"Enterprise:{target}", **variables)
            assert error["extensions"]["code"] == code
        assert flag_row(db, target) == before
    missing = as_user("district").error(UPDATE, id="Enterprise:999999999", input=report)
    assert missing["extensions"]["code"] == "NOT_FOUND"


def test_bad_reports_change_nothing(db, as_user):
    town = as_user("town")
    target = yellow_in_jinfeng_with_one_problem(db)
    before = flag_row(db, target)
    for variables, words in [
        ({"input": {"status": "FULL", "staffReturned": -1}}, "returned"),
        ({"input": {"status": "FULL", "capacityPct": 140}}, "capacity"),
        ({"input": {"status": "FULL", "problems": [""]}}, "problem"),
    ]:
        error = town.error(UPDATE, id=f"Enterprise:{target}", **variables)
        assert error["extensions"]["code"] == "BAD_USER_INPUT" and words in error["message"]
    error = town.error(OVERRIDE, id=f"Enterprise:{target}", color="GREEN", reason="  ")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    error = town.error(UPDATE, id="RentalProperty:1", input={"status": "FULL"})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert flag_row(db, target) == before


def test_construction_sites_take_reports_too(db, as_user):
    site = db.execute(text(
        "SELECT id FROM construction_site WHERE resumption = 'NOT_RESUMED' ORDER BY id LIMIT 1"
    )).scalar_one()  # fmt: skip
    flag = as_user("district").data(
        UPDATE, id=f"ConstructionSite:{site}", input={"status": "PARTIAL", "problems": ["物流不畅"]}
    )["updateResumption"]
    assert flag["color"] == "YELLOW" and "物流不畅" in flag["reason"]


def test_stale_signboards_in_jinfeng(db, as_user):
    query = """query ($after: String) { staleSignboards(areaCode: "350112109", date: "2020-02-27",
        first: 5, after: $after) { edges { cursor node { id area { code } } } pageInfo { hasNextPage endCursor } } }"""
    town = as_user("town")
    page = town.data(query)["staleSignboards"]
    assert page["edges"] and all(
        e["node"]["area"]["code"].startswith(JINFENG) for e in page["edges"]
    )
    if page["pageInfo"]["hasNextPage"]:
        more = town.data(query, after=page["pageInfo"]["endCursor"])["staleSignboards"]["edges"]
        assert {e["node"]["id"] for e in more}.isdisjoint({e["node"]["id"] for e in page["edges"]})
    stale = int(page["edges"][0]["node"]["id"].split(":")[1])
    town.data(
        'mutation ($id: ID!) { recordSignboard(enterpriseId: $id, date: "2020-02-27") }',
        id=f"Enterprise:{stale}",
    )
    again = {e["node"]["id"] for e in town.data(query)["staleSignboards"]["edges"]}
    assert f"Enterprise:{stale}" not in again


def test_stale_signboards_say_how_many_and_since_when(db, as_user):
    query = """query ($after: String) { staleSignboards(areaCode: "350112109", date: "2020-02-27",
        first: 50, after: $after) { totalCount edges { lastUpdatedOn daysStale node { id } }
        pageInfo { hasNextPage endCursor } } }"""
    town = as_user("town")
    page = town.data(query)["staleSignboards"]
    edges, after = list(page["edges"]), page["pageInfo"]
    while after["hasNextPage"]:
        more = town.data(query, after=after["endCursor"])["staleSignboards"]
        edges, after = edges + more["edges"], more["pageInfo"]
    expected = db.execute(text(
        "SELECT count(*) FROM enterprise e JOIN area a ON a.id = e.area_id"
        " WHERE a.code LIKE '350112109%' AND NOT EXISTS (SELECT FROM signboard s"
        "   WHERE s.enterprise_id = e.id AND s.days @> DATE '2020-02-27')"
        " AND (SELECT c.to_color FROM flag_change c WHERE c.enterprise_id = e.id"
        "   AND c.at < TIMESTAMPTZ '2020-02-28 00:00+08' ORDER BY c.at DESC, c.id DESC LIMIT 1)"
        "   IN ('GREEN', 'YELLOW')"
    )).scalar_one()  # fmt: skip
    assert page["totalCount"] == len(edges) == expected > 0
    dated = [e for e in edges if e["lastUpdatedOn"] is not None]
    assert dated
    for edge in dated:
        updated = date.fromisoformat(edge["lastUpdatedOn"])
        assert edge["daysStale"] == (date(2020, 2, 27) - updated).days >= 1
        between = db.execute(text(
            "SELECT s.days @> CAST(:u AS date), s.days && daterange(CAST(:u AS date) + 1,"
            " DATE '2020-02-27', '[]') FROM signboard s WHERE s.enterprise_id = :id"
        ), {"u": updated, "id": int(edge["node"]["id"].split(":")[1])}).one()  # fmt: skip
        assert between == (True, False)  # updated that day, and not since
    assert all(e["daysStale"] is None for e in edges if e["lastUpdatedOn"] is None)


def test_the_officers_see_who_overrode_a_flag(db, anonymous, as_user):
    enterprise = f"Enterprise:{yellow_in_jinfeng_with_one_problem(db)}"
    as_user("town").data(OVERRIDE, id=enterprise, color="RED", reason="复查发现问题")
    history = """query ($id: ID!) { node(id: $id) { ... on Enterprise {
      flagHistory { to source actor } } } }"""
    seen = {}
    for who, client in [("anonymous", anonymous), *((r, as_user(r)) for r in
                        ("inspector", "town", "district"))]:  # fmt: skip
        node = client.data(history, id=enterprise)["node"]
        if node is not None:
            seen[who] = node["flagHistory"][-1]
    assert seen["town"] == seen["district"] == {"to": "RED", "source": "OVERRIDE", "actor": "town"}
    assert seen["anonymous"]["actor"] is None
    assert all(change["actor"] is None for who, change in seen.items() if who == "inspector")
    audited = db.execute(text(
        "SELECT a.username, l.fields FROM audit_log l JOIN account a ON a.id = l.account_id"
        " WHERE l.target = :t"), {"t": enterprise}).all()  # fmt: skip
    assert ("town", ["actor"]) in audited and ("district", ["actor"]) in audited


def test_every_answer_tells_time_in_the_readmes_zone(db, as_user):
    """Asia/Shanghai (+08:00) in queries and mutations alike, whatever the session's zone."""
    enterprise = f"Enterprise:{yellow_in_jinfeng_with_one_problem(db)}"
    town = as_user("town")
    changed = town.data(
        """mutation ($id: ID!) { updateResumption(targetId: $id, input: {status: FULL,
           problems: []}) { since } }""", id=enterprise,
    )["updateResumption"]["since"]  # fmt: skip
    read = town.data(HISTORY.replace("flag { color reason }", "flag { since }"), id=enterprise)
    assert changed.endswith("+08:00") and read["node"]["flag"]["since"].endswith("+08:00")
    assert datetime.fromisoformat(changed) == datetime.fromisoformat(read["node"]["flag"]["since"])
