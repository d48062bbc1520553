"""/map in Debian's chromium: what it draws is what GraphQL answers for the same view, for the
caller it is logged in as; a flag changed through GraphQL recolours the open page; nothing is
loaded from another origin."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from tests.live import login
from tests.pages.conftest import Watched, graphql

DOCS = Path(__file__).resolve().parents[2] / "docs"
GUHUAI = "350112105"
VIEW = "#15/25.895/119.52"  # around 古槐镇's government, at a zoom where tiles keep every point
COLORS = {"GREEN": (26, 150, 65), "YELLOW": (245, 194, 0), "RED": (215, 25, 28)}


def ready(watched: Watched) -> Watched:
    """Waits until the page has loaded its data and drawn every tile of the view."""
    page = watched.page
    page.wait_for_selector("body[data-state=ready]", timeout=30_000)
    page.wait_for_function(
        "() => fugong.map.loaded() && fugong.map.areTilesLoaded() && !fugong.map.isMoving()",
        timeout=30_000,
    )
    page.wait_for_timeout(300)  # the frame after the last tile
    return watched


def view_bbox(watched: Watched) -> list[float]:
    (west, south), (east, north) = watched.page.evaluate("fugong.map.getBounds().toArray()")
    return [west, south, east, north]


def counts_in(base: str, bbox: list[float], token: str | None = None) -> dict[str, int]:
    """What GraphQL counts in the view, as the same caller."""
    data = graphql(
        base,
        """query ($box: [Float!]!) {
          enterprises(where: {bbox: $box}) { totalCount }
          constructionSites(where: {bbox: $box}) { totalCount }
          rentalProperties(where: {bbox: $box}) { totalCount }
          quarantineSites(where: {bbox: $box}) { id } }""",
        token,
        box=bbox,
    )
    return {
        "enterprises": data["enterprises"]["totalCount"],
        "construction_sites": data["constructionSites"]["totalCount"],
        "rental_properties": data["rentalProperties"]["totalCount"],
        "quarantine_sites": len(data["quarantineSites"]),
    }


def drawn(watched: Watched) -> dict[str, int]:
    return {k: v for k, v in watched.page.evaluate("fugong.drawn()").items() if k in COUNTED}


COUNTED = ("enterprises", "construction_sites", "rental_properties", "quarantine_sites")


def pixel(watched: Watched, x: float, y: float) -> tuple[int, int, int]:
    """The colour the map drew at a point of its canvas."""
    return tuple(  # type: ignore[return-value]
        watched.page.evaluate(
            """([x, y]) => {
              const source = fugong.map.getCanvas(), ratio = window.devicePixelRatio;
              const copy = document.createElement("canvas");
              copy.width = source.width; copy.height = source.height;
              const context = copy.getContext("2d");
              context.drawImage(source, 0, 0);
              return Array.from(context.getImageData(Math.round(x * ratio), Math.round(y * ratio), 1, 1).data.slice(0, 3));
            }""",
            [x, y],
        )
    )


def near(color: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 12 for a, b in zip(color, expected, strict=True))


def lonely_enterprise(watched: Watched, flag: str) -> dict[str, Any]:
    """An enterprise of this flag drawn in the view with no other within 20 px: its id and
    where it is drawn, so that its pixels are its own."""
    return watched.page.evaluate(  # type: ignore[no-any-return]
        """(flag) => {
          const map = fugong.map, size = [map.getCanvas().clientWidth, map.getCanvas().clientHeight];
          const all = map.queryRenderedFeatures({layers: ["enterprises-0"]}).map((f) => {
            const p = map.project(f.geometry.coordinates);
            return {id: f.properties.id, flag: f.properties.flag, x: p.x, y: p.y};
          });
          return all.find((e) => e.flag === flag && e.x > 30 && e.y > 30
            && e.x < size[0] - 30 && e.y < size[1] - 30
            && all.every((o) => o.id === e.id || Math.hypot(o.x - e.x, o.y - e.y) > 20));
        }""",
        flag,
    )


def test_the_map_draws_what_graphql_counts_in_the_view(live_server, open_page):
    watched = ready(open_page(f"{live_server}/map{VIEW}"))
    counts = drawn(watched)
    assert counts == counts_in(live_server, view_bbox(watched))
    assert counts["enterprises"] > 10 and counts["rental_properties"] == 0
    # The legend shows the district's counts, as PostgreSQL counts the flags flying now.
    district = graphql(live_server, '{ area(code: "350112") { flagCounts { green red total } } }')
    legend = watched.page.locator("#legend tr[data-flag=TOTAL] .count").inner_text()
    assert int(legend) == district["area"]["flagCounts"]["total"]
    red = watched.page.locator("#legend tr[data-flag=RED] .count").inner_text()
    assert int(red) == district["area"]["flagCounts"]["red"]
    assert watched.errors == [] and watched.outside == []


def test_the_town_selector_zooms_and_filters(live_server, open_page):
    watched = ready(open_page(f"{live_server}/map"))
    DOCS.mkdir(exist_ok=True)
    watched.page.screenshot(path=str(DOCS / "map.png"))  # the README's: the whole district
    watched.page.select_option("#town", GUHUAI)
    town = graphql(
        live_server,
        "query ($c: String!) { area(code: $c) { flagCounts { total } } }",
        c=GUHUAI,
    )["area"]["flagCounts"]["total"]
    watched.page.wait_for_function(
        f"() => document.querySelector('#legend tr[data-flag=TOTAL] .count').textContent === '{town}'"
    )
    ready(watched)
    assert any(f"areaCode={GUHUAI}" in url for url in watched.requests if ".mvt" in url)
    # The view is the town, and every enterprise drawn is one of the town's: all of them but
    # those that tiles below zoom 14 thin out where points crowd (one per 4 px).
    bbox = view_bbox(watched)
    assert 119.40 < bbox[0] < 119.52 < bbox[2] < 119.62
    page = graphql(
        live_server,
        "query ($c: String!) { enterprises(where: {areaCode: $c}, first: 1000) { edges { node { id } } } }",
        c=GUHUAI,
    )
    in_town = {edge["node"]["id"] for edge in page["enterprises"]["edges"]}
    shown = set(watched.page.evaluate(
        "() => fugong.map.queryRenderedFeatures({layers: ['enterprises-0']}).map((f) => f.properties.id)"
    ))  # fmt: skip
    assert shown <= in_town and len(shown) >= 0.9 * len(in_town)
    assert watched.errors == [] and watched.outside == []


def test_rentals_only_for_an_officer_after_logging_in(live_server, open_page):
    watched = ready(open_page(f"{live_server}/map{VIEW}"))
    assert drawn(watched)["rental_properties"] == 0
    page = watched.page
    page.fill("#login input[name=username]", "district")
    page.fill("#login input[name=password]", "demo")
    page.click("#login button")
    page.wait_for_selector("#who:not([hidden])")
    token = login(live_server, "district")
    expected = counts_in(live_server, view_bbox(watched), token)
    assert expected["rental_properties"] > 0
    page.wait_for_function(
        f"() => fugong.drawn().rental_properties === {expected['rental_properties']}"
    )
    ready(watched)
    assert drawn(watched) == expected
    # Logging out takes them away again.
    page.click("#logout")
    page.wait_for_function("() => fugong.drawn().rental_properties === 0")
    assert watched.errors == [] and watched.outside == []


def test_clicking_a_feature_shows_its_details_from_graphql(live_server, open_page):
    watched = ready(open_page(f"{live_server}/map{VIEW}"))
    target = lonely_enterprise(watched, "YELLOW")
    watched.page.mouse.click(target["x"], target["y"])
    watched.page.wait_for_selector(f"body[data-details='{target['id']}']")
    node = graphql(
        live_server,
        "query ($id: ID!) { node(id: $id) { ... on Enterprise { name flag { reason } } } }",
        id=target["id"],
    )["node"]
    details = watched.page.locator("#details").inner_text()
    assert node["name"] in details and node["flag"]["reason"] in details
    assert "signboard" in details and "flag history" in details
    assert watched.errors == [] and watched.outside == []


def test_a_flag_overridden_through_graphql_recolours_the_open_page(live_server, open_page):
    watched = ready(open_page(f"{live_server}/map{VIEW}"))
    watched.page.wait_for_selector("body[data-live=on]")
    target = lonely_enterprise(watched, "GREEN")
    assert near(pixel(watched, target["x"], target["y"]), COLORS["GREEN"])
    graphql(
        live_server,
        'mutation ($id: ID!) { overrideFlag(targetId: $id, color: RED, reason: "test: seen on the map") { color } }',
        login(live_server, "district"),
        id=target["id"],
    )
    sent = time.monotonic()
    watched.page.wait_for_function(
        "([x, y]) => fugong.map.queryRenderedFeatures([x, y], {layers: ['enterprises-0']})"
        ".some((f) => f.state.flag === 'RED')",
        arg=[target["x"], target["y"]],
        timeout=5_000,
    )
    watched.page.wait_for_timeout(300)
    assert near(pixel(watched, target["x"], target["y"]), COLORS["RED"])
    assert time.monotonic() - sent < 5
    assert watched.errors == [] and watched.outside == []


def test_bytes_transferred_on_first_load_and_on_reload(live_server, open_page):
    """The page's weight, written to docs/map-load.json for the README: a reload revalidates
    (ETag, 304) or reuses fresh tiles instead of fetching again."""
    watched = ready(open_page(f"{live_server}/map{VIEW}", block=False))
    first = watched.transferred_since(0)
    start = len(watched.finished)
    watched.page.reload()
    again = ready(watched).transferred_since(start)
    assert again["bytes"] < first["bytes"] / 5
    assert watched.outside == []
    (DOCS / "map-load.json").write_text(json.dumps({"first": first, "reload": again}, indent=2))
