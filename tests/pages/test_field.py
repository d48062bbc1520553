"""/field in Debian's chromium as a phone (390x844, touch, geolocation): log in, the day's plan
as list and map against `inspectionRoute`, check-ins inside and outside the fence, visits
queued offline through a reload, two tabs sending one visit, and the page opened offline."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route
from sqlalchemy import text

from geo.days import TIMEZONE, today
from geo.db import make_engine
from tests.live import login
from tests.pages.conftest import CHROMIUM_ARGS, graphql  # noqa: F401 (CHROMIUM_ARGS: the launch)

DOCS = Path(__file__).resolve().parents[2] / "docs"
PHONE = {"width": 390, "height": 844}
PLAN = """query ($zone: ID!, $day: Date) { inspectionRoute(zoneId: $zone, date: $day) {
  progress { due visited }
  routes { geometry stops { sequence priority reason visited target {
    ... on Enterprise { id geometry } ... on RentalProperty { id geometry }
    ... on ConstructionSite { id entrance } } } }
  unvisited { ... on Enterprise { id } ... on RentalProperty { id } ... on ConstructionSite { id } }
} }"""


@pytest.fixture
def phone(browser: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """A phone's browser: a context of its own (storage, service worker), touch, geolocation."""
    contexts: list[BrowserContext] = []

    def open_(at: tuple[float, float] = (119.6, 25.9)) -> BrowserContext:
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
            permissions=["geolocation"], geolocation={"longitude": at[0], "latitude": at[1],
                                                       "accuracy": 8},
            service_workers="allow", locale="zh-CN", timezone_id="Asia/Shanghai",
        )  # fmt: skip
        contexts.append(context)
        return context

    yield open_
    for context in contexts:
        context.close()


def watch(page: Page) -> dict[str, list[Any]]:
    seen: dict[str, list[Any]] = {"errors": [], "finished": []}
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.on(
        "console",
        lambda m: seen["errors"].append(m.text) if m.type == "error" else None,
    )
    page.on("requestfinished", lambda request: seen["finished"].append(request))
    return seen


def log_in(page: Page, base: str) -> None:
    page.goto(f"{base}/field")
    page.wait_for_selector("#login:not([hidden])")
    page.fill("#login [name=username]", "inspector")
    page.fill("#login [name=password]", "demo")
    page.tap("#login button")
    page.wait_for_selector("body[data-state=ready], body[data-state=error]", state="attached")
    assert page.get_attribute("body", "data-state") == "ready", page.text_content("#error")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")


def inspections(live: str) -> int:
    engine = make_engine(live)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM inspection")).scalar_one()  # type: ignore[no-any-return]
    finally:
        engine.dispose()


def zone_and_plan(base: str, page: Page) -> tuple[str, dict[str, Any]]:
    token = login(base, "inspector")
    zone = page.eval_on_selector("#zone", "select => select.value")
    day = page.eval_on_selector("body", "body => body.dataset.plan")
    plan = graphql(base, PLAN, token, zone=zone, day=day)["inspectionRoute"]
    return zone, plan


def point(target: dict[str, Any]) -> list[float]:
    return (target.get("entrance") or target["geometry"])["coordinates"]  # type: ignore[no-any-return]


def open_stops(plan: dict[str, Any], kinds: tuple[str, ...] = ("Enterprise", "RentalProperty")):
    """The plan's stops not yet visited whose fence is a circle round a point."""
    stops = plan["routes"][0]["stops"]
    return [s for s in stops if not s["visited"] and s["target"]["id"].startswith(kinds)]


def check_in(page: Page, target_id: str) -> None:
    page.tap(f"#stops li[data-id='{target_id}'] .checkin")
    page.wait_for_selector("#visit-send:not([disabled])")
    page.fill("#visit [name=notes]", "test visit")
    page.tap("#visit-send")
    page.wait_for_selector("#checkin", state="hidden")


def queue_states(page: Page) -> list[str]:
    return page.eval_on_selector_all("#queue li", "items => items.map(li => li.dataset.state)")


def on_phone(
    phone: Callable[..., BrowserContext], base: str
) -> tuple[BrowserContext, Page, dict[str, list[Any]], dict[str, Any]]:
    """A phone logged in on /field, what its page reported, and the plan it should show."""
    context = phone()
    page = context.new_page()
    seen = watch(page)
    log_in(page, base)
    _, plan = zone_and_plan(base, page)
    return context, page, seen, plan


def mid_shift(page: Page) -> None:
    """10:00 in Changle today, whatever the hour the suite runs at: the page sets its clock by
    the server's Date header, and a shift that has ended leaves nothing to re-plan."""
    at = datetime.combine(today(), time(10, 0), TIMEZONE).astimezone(UTC)

    def dated(route: Route) -> None:
        response = route.fetch()
        route.fulfill(
            response=response,
            headers={**response.headers, "date": format_datetime(at, usegmt=True)},
        )

    page.route("**/graphql", dated)
    page.reload()
    page.wait_for_selector("body[data-state=ready]")


def east(lonlat: list[float], metres: float) -> tuple[float, float]:
    return lonlat[0] + metres / (111_320 * math.cos(math.radians(lonlat[1]))), lonlat[1]


def test_the_plan_as_list_and_map_is_inspection_route(live_server, phone):
    context, page, seen, plan = on_phone(phone, live_server)
    stops = plan["routes"][0]["stops"]
    assert stops
    listed = page.eval_on_selector_all(
        "#stops li", "items => items.map(li => [li.dataset.id, li.dataset.priority])"
    )
    assert listed == [[s["target"]["id"], s["priority"]] for s in stops]
    marked = page.evaluate(
        "markers.map(m => [m.getElement().textContent, m.getLngLat().toArray()])"
    )
    expected = [[str(s["sequence"]), point(s["target"])] for s in stops]
    assert [m[0] for m in marked] == [e[0] for e in expected]
    for (_, got), (_, want) in zip(marked, expected, strict=True):
        assert got == pytest.approx(want, abs=1e-9)
    drawn = page.evaluate("map.getSource('route')._data.features[0].geometry.coordinates")
    assert drawn == plan["routes"][0]["geometry"]["coordinates"]
    colours = page.evaluate("markers.map(m => getComputedStyle(m.getElement()).backgroundColor)")
    by_priority = {"URGENT": "rgb(215, 25, 28)", "FOLLOW_UP": "rgb(230, 168, 0)",
                   "ROUTINE": "rgb(59, 125, 216)"}  # fmt: skip
    assert colours == [by_priority[s["priority"]] for s in stops]
    assert page.text_content("#unfit-count") == str(len(plan["unvisited"]))
    progress = plan["progress"]
    assert f"visited {progress['visited']} of {progress['due']} due" in page.text_content(
        "#progress"
    )
    # Navigation: each leg from the stop before (the first from the base).
    first = page.get_attribute("#stops li:first-child a[data-app=AMAP]", "href")
    assert first.startswith("https://uri.amap.com/navigation?") and "mode=ride" in first
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "field-plan.png"))
    assert seen["errors"] == []
    # The session outlives the tab: a new tab of the same phone is still logged in.
    again = context.new_page()
    again.goto(f"{live_server}/field")
    again.wait_for_selector("body[data-state=ready]")
    again.tap("#logout")
    again.wait_for_selector("body[data-state=login]")
    assert again.evaluate("localStorage.getItem('fugong.field.session')") is None


def test_a_check_in_at_the_stop_is_accepted_and_300_m_away_refused(live_server, phone, pages_db):
    context, page, seen, plan = on_phone(phone, live_server)
    near, far = open_stops(plan)[:2]
    before = inspections(pages_db)

    lon, lat = point(near["target"])
    context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 8})
    page.tap(f"#stops li[data-id='{near['target']['id']}'] .checkin")
    page.wait_for_selector("#visit-send:not([disabled])")
    assert "±8 m" in page.text_content("#fix-text")  # the accuracy, before anything is sent
    assert "inside" in page.text_content("#fence")
    page.fill("#visit [name=notes]", "门口检查 checked at the gate")
    page.screenshot(path=str(DOCS / "field-checkin.png"))
    page.tap("#visit-send")
    page.wait_for_selector("#queue li[data-state=sent]")
    assert inspections(pages_db) == before + 1

    away = east(point(far["target"]), 300)
    context.set_geolocation({"longitude": away[0], "latitude": away[1], "accuracy": 8})
    page.tap(f"#stops li[data-id='{far['target']['id']}'] .checkin")
    page.wait_for_selector("#visit-send:not([disabled])")
    assert "outside" in page.text_content("#fence")
    page.tap("#visit-send")
    refused = page.wait_for_selector("#queue li[data-state=refused]")
    assert "OUTSIDE_GEOFENCE" in refused.text_content()
    assert "m from" in refused.text_content()  # the server's reason, as it said it
    assert inspections(pages_db) == before + 1  # nothing stored
    assert seen["errors"] == []


def test_three_visits_offline_survive_a_reload_and_are_stored_once(live_server, phone, pages_db):
    context, page, _, plan = on_phone(phone, live_server)
    targets = open_stops(plan)[:3]
    assert len(targets) == 3
    before = inspections(pages_db)
    context.set_offline(True)
    for stop in targets:
        lon, lat = point(stop["target"])
        context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 5})
        check_in(page, stop["target"]["id"])
    assert queue_states(page).count("waiting") == 3
    page.reload()  # still offline: the service worker opens the page, IndexedDB the queue
    page.wait_for_selector("body[data-state=ready]")
    assert queue_states(page).count("waiting") == 3
    assert page.eval_on_selector_all("#stops li", "items => items.length") > 0
    assert inspections(pages_db) == before
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function("() => document.body.dataset.waiting === '0'")
    assert queue_states(page).count("sent") == 3
    assert inspections(pages_db) == before + 3
    # Replaying the whole queue (every visit sent again, same keys) adds nothing.
    page.evaluate(REQUEUE)
    page.evaluate("() => renderQueue()")
    assert queue_states(page).count("waiting") == 3
    sends: list[str] = []
    page.on(
        "request",
        lambda r: sends.append(r.url) if "recordInspection" in (r.post_data or "") else None,
    )
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_function("() => document.body.dataset.waiting === '0'")
    assert queue_states(page).count("sent") == 3 and len(sends) == 3
    assert inspections(pages_db) == before + 3


# Puts every sent visit of the phone's queue back to waiting, as a crash before the answer
# was saved would leave it.
REQUEUE = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("fugong-field");
  open.onsuccess = () => {
    const tx = open.result.transaction("visits", "readwrite");
    const visits = tx.objectStore("visits");
    visits.getAll().onsuccess = (event) => {
      for (const v of event.target.result) if (v.state === "sent") visits.put({...v, state: "waiting"});
    };
    tx.oncomplete = () => { open.result.close(); resolve(); };
    tx.onerror = () => reject(tx.error);
  };
})"""


def test_one_queued_visit_sent_from_two_tabs_at_once_is_stored_once(live_server, phone, pages_db):
    context, first, _, plan = on_phone(phone, live_server)
    stop = open_stops(plan)[0]
    lon, lat = point(stop["target"])
    context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 5})
    second = context.new_page()
    second.goto(f"{live_server}/field")
    second.wait_for_selector("body[data-state=ready]")
    before = inspections(pages_db)
    context.set_offline(True)
    check_in(first, stop["target"]["id"])
    second.evaluate("() => renderQueue()")
    sends: list[str] = []
    for tab in (first, second):
        tab.on(
            "request",
            lambda r: sends.append(r.url) if "recordInspection" in (r.post_data or "") else None,
        )
    # Back online, both tabs read the same queue and send the visit at the same moment.
    context.set_offline(False)
    for tab in (first, second):
        tab.wait_for_function(
            "() => document.querySelector('#queue li') && document.body.dataset.waiting === '0'"
        )
    assert len(sends) == 2  # each tab sent it
    assert inspections(pages_db) == before + 1


def test_first_load_reload_and_offline_reload(live_server, phone):
    context = phone()
    finished: list[Any] = []  # the page's requests and its service worker's own
    context.on("requestfinished", lambda request: finished.append(request))
    page = context.new_page()
    log_in(page, live_server)
    page.wait_for_timeout(500)  # the worker's install fetches
    first = _bytes(finished)
    start = len(finished)
    page.reload()
    page.wait_for_selector("body[data-state=ready]")
    page.wait_for_timeout(500)  # the worker's revalidations behind the cached answers
    reload = _bytes(finished[start:])
    context.set_offline(True)
    start = len(finished)
    page.reload()
    page.wait_for_selector("body[data-state=ready]")
    page.wait_for_timeout(500)
    assert page.eval_on_selector_all("#stops li", "items => items.length") > 0
    assert page.text_content("#network").endswith("offline")
    assert _bytes(finished[start:])["bytes"] == 0  # nothing came over the network
    served = [r for r in finished[start:] if _from_worker(r)]
    figures = {"first_load": first, "reload": reload, "offline_reload": {
        "from_service_worker": len(served), "network_bytes": 0},
        "at": datetime.now(UTC).replace(microsecond=0).isoformat()}  # fmt: skip
    (DOCS / "field-load.json").write_text(json.dumps(figures, indent=2) + "\n")


def _from_worker(request: Any) -> bool:
    response = request.response()
    return response is not None and response.from_service_worker


def _bytes(requests: list[Any]) -> dict[str, int]:
    # Answers the service worker gave from its cache crossed no network: they count nothing.
    wire = [r for r in requests if not _from_worker(r)]
    total = sum(r.sizes()["responseHeadersSize"] + r.sizes()["responseBodySize"] for r in wire)
    return {"requests": len(wire), "bytes": total}


def test_a_phone_clock_an_hour_ahead_is_corrected_by_the_servers(live_server, phone, pages_db):
    context = phone()
    page = context.new_page()
    page.clock.set_system_time(datetime.now(UTC) + timedelta(hours=1))
    log_in(page, live_server)
    assert "60 min ahead" in page.text_content("#clock") and page.is_visible("#clock")
    _, plan = zone_and_plan(live_server, page)
    stop = open_stops(plan)[0]
    lon, lat = point(stop["target"])
    context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 5})
    check_in(page, stop["target"]["id"])
    sent = page.wait_for_selector("#queue li[data-state=sent]")
    key = sent.get_attribute("data-key")
    engine = make_engine(pages_db)
    try:
        with engine.connect() as connection:
            at = connection.execute(
                text("SELECT at FROM inspection WHERE idempotency_key = :key"), {"key": key}
            ).scalar_one()
    finally:
        engine.dispose()
    assert abs((at - datetime.now(UTC)).total_seconds()) < 60  # the server's time, not the phone's


def test_re_plan_from_here_keeps_the_visited_and_leaves_from_the_phone(live_server, phone):
    context, page, seen, plan = on_phone(phone, live_server)
    stop = open_stops(plan)[0]
    lon, lat = point(stop["target"])
    context.set_geolocation({"longitude": lon, "latitude": lat, "accuracy": 5})
    check_in(page, stop["target"]["id"])
    page.wait_for_selector(f"#stops li[data-id='{stop['target']['id']}'] .chip >> text=visited")
    visited = {s["target"]["id"] for s in plan["routes"][0]["stops"] if s["visited"]}
    visited.add(stop["target"]["id"])
    mid_shift(page)
    here = east([lon, lat], 200)
    context.set_geolocation({"longitude": here[0], "latitude": here[1], "accuracy": 10})
    page.tap("#replan")
    page.wait_for_function(
        "() => document.querySelector('#plan-note').textContent.includes('re-planned')"
    )
    listed = page.eval_on_selector_all(
        "#stops li", "items => items.map(li => [li.dataset.id, li.classList.contains('done')])"
    )
    assert [done for _, done in listed[: len(visited)]] == [True] * len(visited)
    assert {i for i, _ in listed[: len(visited)]} == visited
    line = page.evaluate("map.getSource('route')._data.features[0].geometry.coordinates")
    assert line[0] == pytest.approx(list(here), abs=1e-9)  # from the phone, not the base
    page.reload()  # the re-planned day stays on the phone
    page.wait_for_selector("body[data-state=ready]")
    assert "re-planned" in page.text_content("#plan-note")
    assert seen["errors"] == []
