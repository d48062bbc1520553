// The field inspector's day on a phone: log in for the shift, today's plan of the zone (list and
// map), navigation links, check-ins with the phone's position, and a queue of visits kept in
// IndexedDB until the server has answered each. A client of fugong's GraphQL API like any other.
"use strict";

const config = JSON.parse(document.body.dataset.config);
const FENCE_M = 100; // what the server allows around a point target (geo/inspections.py Fence)
const MAX_ACCURACY_M = 50; // a fix worse than this is refused by the server
const CLOCK_WARN_S = 120;
const PRIORITY_LABEL = { URGENT: "紧急 urgent", FOLLOW_UP: "跟进 follow-up", ROUTINE: "例行 routine" };
const $ = (id) => document.getElementById(id);

const TARGET = `__typename ... on Node { id }
  ... on Enterprise { name staffTotal staffReturned problems resumption geometry }
  ... on ConstructionSite { name resumption entrance }
  ... on RentalProperty { address filed geometry }`;
const PLAN = `query ($zone: ID!, $day: Date, $here: RestOfDayInput) {
  inspectionRoute(zoneId: $zone, date: $day, restOfDayFrom: $here) {
    date plannedAt distanceModel progress { due visited }
    routes { geometry stops { sequence visited reason priority plannedArrival
      navigation { app navigationUrl } target { ${TARGET} } } }
    unvisited { ${TARGET} } } }`;
const ZONES = "{ patrolZones { id name team geometry } }";
const RECORD = `mutation ($input: RecordInspectionInput!) { recordInspection(input: $input) { id at } }`;

const state = {
  session: JSON.parse(window.localStorage.getItem("fugong.field.session") || "null"),
  clockOffsetMs: Number(window.localStorage.getItem("fugong.field.clockOffsetMs") || 0),
  zones: [],
  plan: null, // the plan shown: {zone, day, answer, here (where it was re-planned from, or null)}
  stop: null, // the stop being checked in
  fix: null,
};

// --- The phone's clock, corrected by the server's ---------------------------------------------

function now() {
  return new Date(Date.now() + state.clockOffsetMs);
}

function noteServerClock(response) {
  const served = Date.parse(response.headers.get("Date") || "");
  if (Number.isNaN(served)) return;
  state.clockOffsetMs = served - Date.now();
  window.localStorage.setItem("fugong.field.clockOffsetMs", String(state.clockOffsetMs));
  showClock();
}

function showClock() {
  const off = Math.round(state.clockOffsetMs / 1000);
  $("clock").hidden = Math.abs(off) < CLOCK_WARN_S;
  $("clock").textContent = `本机时钟${off > 0 ? "慢" : "快"}了 ${Math.round(Math.abs(off) / 60)} 分钟 · `
    + `the phone's clock is ${Math.round(Math.abs(off) / 60)} min ${off > 0 ? "behind" : "ahead"}: `
    + "visits are stamped with the server's time";
}

function shanghaiDay(date) {
  return new Date(date.getTime() + 8 * 3600e3).toISOString().slice(0, 10);
}

function isoShanghai(date) {
  return `${new Date(date.getTime() + 8 * 3600e3).toISOString().slice(0, 19)}+08:00`;
}

function hhmm(iso) {
  return isoShanghai(new Date(iso)).slice(11, 16);
}

// --- GraphQL over HTTP ------------------------------------------------------------------------

class Offline extends Error {}

async function gql(query, variables = {}) {
  const headers = {
    "Content-Type": "application/json",
    Accept: "application/graphql-response+json, application/json",
  };
  if (state.session) headers.Authorization = `Bearer ${state.session.token}`;
  let response;
  try {
    response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  } catch (error) {
    throw new Offline(error.message);
  }
  if (response.status >= 500) throw new Offline(`the server answered ${response.status}`);
  noteServerClock(response);
  const body = await response.json();
  if (body.errors && body.errors.length) {
    const error = new Error(body.errors[0].message);
    error.code = body.errors[0].extensions && body.errors[0].extensions.code;
    if (error.code === "UNAUTHENTICATED") endSession("登录已过期，请重新登录 · the session has ended: log in again");
    throw error;
  }
  return body.data;
}

function showError(error) {
  $("error").textContent = error ? `${error.message}${error.code ? ` (${error.code})` : ""}` : "";
}

// --- IndexedDB: the visits queue and the last plan ----------------------------------------------

const database = new Promise((resolve, reject) => {
  const request = indexedDB.open("fugong-field", 1);
  request.onupgradeneeded = () => {
    request.result.createObjectStore("visits", { keyPath: "key" });
    request.result.createObjectStore("plans", { keyPath: "zone" });
  };
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});

async function store(name, mode, work) {
  const db = await database;
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(name, mode);
    const request = work(transaction.objectStore(name));
    transaction.oncomplete = () => resolve(request && request.result);
    transaction.onerror = () => reject(transaction.error);
  });
}

const put = (name, value) => store(name, "readwrite", (s) => s.put(value));
const getOne = (name, key) => store(name, "readonly", (s) => s.get(key));
const getAll = (name) => store(name, "readonly", (s) => s.getAll());

// --- Session for the shift ---------------------------------------------------------------------

function tokenExpiry(token) {
  const payload = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  return payload.exp * 1000;
}

function sessionValid() {
  return Boolean(state.session) && state.session.expires > Date.now();
}

function endSession(message) {
  state.session = null;
  window.localStorage.removeItem("fugong.field.session");
  showError(message ? { message } : null);
  render();
}

$("token-hours").textContent = String(Math.round(config.tokenMinutes / 6) / 10);

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const data = await gql("mutation ($u: String!, $p: String!) { login(username: $u, password: $p) }",
      { u: form.get("username"), p: form.get("password") });
    state.session = { token: data.login, username: form.get("username"), expires: tokenExpiry(data.login) };
    window.localStorage.setItem("fugong.field.session", JSON.stringify(state.session));
    showError(null);
    event.target.reset();
    await start();
  } catch (error) {
    showError(error);
  }
});

$("logout").addEventListener("click", async () => {
  const waiting = (await getAll("visits")).filter((v) => v.state === "waiting").length;
  if (waiting && !window.confirm(`${waiting} 条记录未发送，登录后再发送 · ${waiting} visits wait to be sent; they stay on this phone until the next login. Log out?`)) return;
  await store("plans", "readwrite", (s) => s.clear());
  endSession(null);
});

// --- The day's plan ------------------------------------------------------------------------------

async function loadZones() {
  try {
    state.zones = (await gql(ZONES)).patrolZones;
    window.localStorage.setItem("fugong.field.zones", JSON.stringify(state.zones));
  } catch (error) {
    if (!(error instanceof Offline)) throw error;
    state.zones = JSON.parse(window.localStorage.getItem("fugong.field.zones") || "[]");
  }
  $("zone").replaceChildren(...state.zones.map((z) => new Option(`${z.name} · ${z.team}`, z.id)));
}

// The zone's plan for today: the copy on this phone at once, then the server's when online. A
// re-planned day stays re-planned (from the same place and time) when it is pulled again.
async function loadPlan(here = undefined) {
  const zone = $("zone").value;
  if (!zone) return;
  const day = shanghaiDay(now());
  const cached = await getOne("plans", zone);
  if (cached && (!state.plan || state.plan.zone !== zone)) {
    state.plan = cached;
    await renderPlan();
  }
  const from = here === undefined ? (cached && cached.day === day ? cached.here : null) : here;
  try {
    const answer = (await gql(PLAN, { zone, day, here: from })).inspectionRoute;
    state.plan = { zone, day, answer, here: from };
    await put("plans", state.plan);
  } catch (error) {
    if (!(error instanceof Offline)) throw error;
    state.plan = cached || null;
  }
  await renderPlan();
}

// Where the inspector goes: the target's point, a site's entrance.
function stopPoint(target) {
  return (target.entrance || target.geometry).coordinates;
}

function nameOf(target) {
  return target.name || target.address || target.id;
}

async function renderPlan() {
  const plan = state.plan && state.plan.answer;
  const queued = new Set((await getAll("visits")).filter((v) => v.state !== "refused").map((v) => v.targetId));
  document.body.dataset.plan = plan ? plan.date : "";
  if (!plan) {
    $("progress").textContent = "没有计划 · no plan on this phone yet: connect once";
    $("stops").replaceChildren();
    return;
  }
  const stops = plan.routes.flatMap((route) => route.stops);
  $("progress").textContent = `已巡查 ${plan.progress.visited} / 应巡查 ${plan.progress.due} · visited ${plan.progress.visited} of ${plan.progress.due} due`;
  $("plan-note").textContent = `${plan.date} · ${state.plan.here ? "从当前位置重新规划 re-planned from your position" : "规划于 planned"} ${hhmm(plan.plannedAt)}`;
  $("stops").replaceChildren(...stops.map((stop) => stopItem(stop, queued.has(stop.target.id))));
  $("unfit-count").textContent = String(plan.unvisited.length);
  $("unfit-list").replaceChildren(...plan.unvisited.map((t) => {
    const li = document.createElement("li");
    li.textContent = nameOf(t);
    li.dataset.id = t.id;
    return li;
  }));
  drawMap(plan, stops);
}

function stopItem(stop, recorded) {
  const li = document.createElement("li");
  li.className = `p-${stop.priority}${stop.visited || recorded ? " done" : ""}`;
  li.dataset.id = stop.target.id;
  li.dataset.sequence = String(stop.sequence);
  li.dataset.priority = stop.priority;
  const head = document.createElement("div");
  head.className = "head";
  for (const [cls, text] of [["seq", `${stop.sequence}.`], ["time", hhmm(stop.plannedArrival)],
    ["name", nameOf(stop.target)], ["chip", stop.visited ? "✓ 已巡查 visited" : recorded ? "✓ 已记录 recorded" : PRIORITY_LABEL[stop.priority]]]) {
    const span = document.createElement("span");
    span.className = cls;
    span.textContent = text;
    head.append(span);
  }
  const reason = document.createElement("p");
  reason.className = "reason hint";
  reason.textContent = stop.reason;
  const actions = document.createElement("div");
  actions.className = "actions";
  for (const link of stop.navigation) {
    const a = document.createElement("a");
    a.href = link.navigationUrl;
    a.target = "_blank";
    a.rel = "noopener";
    a.dataset.app = link.app;
    a.textContent = link.app === "AMAP" ? "高德 AMap" : "百度 Baidu";
    actions.append(a);
  }
  const button = document.createElement("button");
  button.type = "button";
  button.className = "checkin";
  button.textContent = "签到 Check in";
  button.addEventListener("click", () => openCheckIn(stop));
  actions.append(button);
  li.append(head, reason, actions);
  return li;
}

// --- The map: the route, numbered stops coloured by priority, the zone --------------------------

maplibregl.setWorkerUrl("/static/vendor/maplibre-gl/maplibre-gl-csp-worker.js");
let map = null;
let markers = [];

function drawMap(plan, stops) {
  const line = { type: "FeatureCollection", features: plan.routes.map((r) => ({ type: "Feature", geometry: r.geometry, properties: {} })) };
  const zone = state.zones.find((z) => z.id === state.plan.zone);
  const outline = { type: "FeatureCollection", features: zone ? [{ type: "Feature", geometry: zone.geometry, properties: {} }] : [] };
  if (!map) {
    map = new maplibregl.Map({
      container: "map",
      style: {
        version: 8,
        sources: { zone: { type: "geojson", data: outline }, route: { type: "geojson", data: line } },
        layers: [
          { id: "background", type: "background", paint: { "background-color": "#eef1f4" } },
          { id: "zone", type: "line", source: "zone", paint: { "line-color": "#7b4fa0", "line-width": 1.5, "line-dasharray": [3, 2] } },
          { id: "route", type: "line", source: "route", paint: { "line-color": "#1d2b3a", "line-width": 3, "line-opacity": 0.8 } },
        ],
      },
      attributionControl: false,
      canvasContextAttributes: { preserveDrawingBuffer: true },
    });
  } else {
    map.getSource("zone") ? map.getSource("zone").setData(outline) : null;
    map.getSource("route") ? map.getSource("route").setData(line) : null;
  }
  markers.forEach((m) => m.remove());
  markers = stops.map((stop) => {
    const element = document.createElement("div");
    element.className = `stop-marker ${stop.visited ? "visited" : `p-${stop.priority}`}`;
    element.textContent = String(stop.sequence);
    element.dataset.id = stop.target.id;
    return new maplibregl.Marker({ element }).setLngLat(stopPoint(stop.target)).addTo(map);
  });
  const coordinates = line.features.flatMap((f) => f.geometry.coordinates);
  if (coordinates.length) {
    const bounds = coordinates.reduce((b, c) => b.extend(c), new maplibregl.LngLatBounds(coordinates[0], coordinates[0]));
    map.fitBounds(bounds, { padding: 30, animate: false, maxZoom: 16 });
  }
}

// --- Check in ------------------------------------------------------------------------------------

function distanceM(a, b) {
  const rad = Math.PI / 180;
  const h = Math.sin(((b[1] - a[1]) * rad) / 2) ** 2
    + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(((b[0] - a[0]) * rad) / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
}

function locate() {
  return new Promise((resolve, reject) => {
    navigator.geolocation.getCurrentPosition(resolve, reject, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
  });
}

async function takeFix() {
  state.fix = null;
  $("visit-send").disabled = true;
  $("fix-text").textContent = "定位中 locating…";
  $("fence").textContent = "";
  try {
    const position = await locate();
    const { longitude, latitude, accuracy } = position.coords;
    state.fix = { lon: longitude, lat: latitude, accuracy };
    $("fix-text").textContent = `${latitude.toFixed(6)}, ${longitude.toFixed(6)} · 精度 accuracy ±${Math.round(accuracy)} m`;
    const site = state.stop.target.__typename === "ConstructionSite";
    const away = site ? null : distanceM([longitude, latitude], stopPoint(state.stop.target));
    const inside = away === null || away <= FENCE_M;
    $("fence").className = inside ? "inside" : "outside";
    $("fence").textContent = away === null
      ? "工地：须在工地范围内 · a site: record it inside its footprint"
      : `距目标约 ${Math.round(away)} m · about ${Math.round(away)} m from the stop (fence ${FENCE_M} m): ${inside ? "inside" : "outside, the server will refuse it"}`;
    if (accuracy > MAX_ACCURACY_M) {
      $("fence").className = "outside";
      $("fence").textContent += ` · 精度不足 accuracy worse than ${MAX_ACCURACY_M} m: locate again`;
    }
    $("visit-send").disabled = accuracy > MAX_ACCURACY_M;
  } catch (error) {
    $("fix-text").textContent = `无法定位 no position: ${error.message}`;
  }
}

function openCheckIn(stop) {
  state.stop = stop;
  const target = stop.target;
  const form = $("visit");
  form.reset();
  $("visit-title").textContent = `${stop.sequence}. ${nameOf(target)}`;
  $("visit-reason").textContent = stop.reason;
  const rental = target.__typename === "RentalProperty";
  $("flagged").hidden = rental;
  $("flagged").disabled = rental;
  $("rental").hidden = !rental;
  $("rental").disabled = !rental;
  if (rental) {
    form.elements.filed.value = target.filed ? "yes" : "no";
  } else {
    form.elements.status.value = target.resumption;
    form.elements.staff.value = target.staffReturned ?? "";
    form.elements.problems.value = (target.problems || []).join("\n");
  }
  $("checkin").showModal();
  takeFix();
}

$("locate").addEventListener("click", takeFix);
$("visit-cancel").addEventListener("click", () => $("checkin").close());

function lines(text) {
  return text.split("\n").map((l) => l.trim()).filter(Boolean);
}

// What the daily round checks, as the findings text; facts behind a flag as a status report too.
function findingsOf(form, target) {
  const f = form.elements;
  const out = [];
  let resumption = null;
  if (target.__typename === "RentalProperty") {
    out.push(`备案 filed: ${f.filed.value}`, `外省租户 out-of-province tenants: ${Number(f.tenants.value || 0)}`);
    const problems = lines(f.rentalProblems.value);
    if (problems.length) out.push(`问题 problems: ${problems.join("; ")}`);
  } else {
    const staff = f.staff.value === "" ? null : Number(f.staff.value);
    const problems = lines(f.problems.value);
    out.push(`复工 status: ${f.status.value}`);
    if (staff !== null) out.push(`在岗 staff on site: ${staff}`);
    out.push(`问题 problems: ${problems.length ? problems.join("; ") : "none"}`);
    const before = target.__typename === "Enterprise"
      ? { status: target.resumption, staff: target.staffReturned, problems: target.problems.join("\n") }
      : { status: target.resumption, staff: null, problems: null };
    const changed = f.status.value !== before.status || (staff !== null && staff !== before.staff)
      || (before.problems !== null && problems.join("\n") !== before.problems)
      || (before.problems === null && problems.length > 0);
    if (changed) resumption = { status: f.status.value, staffReturned: staff, problems };
  }
  out.push(`防疫措施 epidemic-control measures: ${f.measures.value === "yes" ? "in place" : "NOT in place"}`);
  const notes = f.notes.value.trim();
  if (notes) out.push(`备注 notes: ${notes}`);
  return { findings: out.join("\n"), resumption };
}

$("visit").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!state.fix || !state.stop) return;
  // The key is made at the tap: every later send of this visit is the same visit.
  const { findings, resumption } = findingsOf(event.target, state.stop.target);
  const visit = {
    key: crypto.randomUUID(),
    state: "waiting",
    targetId: state.stop.target.id,
    targetName: nameOf(state.stop.target),
    at: isoShanghai(now()),
    location: [state.fix.lon, state.fix.lat],
    accuracy: state.fix.accuracy,
    findings,
    resumption,
  };
  await put("visits", visit);
  $("checkin").close();
  await renderQueue();
  await renderPlan();
  flush();
});

// --- The queue: every visit stays until the server has answered it ----------------------------

function inputOf(visit) {
  return {
    idempotencyKey: visit.key,
    targetId: visit.targetId,
    at: visit.at,
    location: { type: "Point", coordinates: visit.location },
    gpsAccuracyMeters: visit.accuracy,
    findings: visit.findings,
    resumption: visit.resumption,
  };
}

let flushing = false;

async function flush() {
  if (flushing || !sessionValid()) return;
  flushing = true;
  let sent = 0;
  try {
    const visits = (await getAll("visits")).filter((v) => v.state === "waiting");
    for (const visit of visits.sort((a, b) => a.at.localeCompare(b.at))) {
      try {
        const data = await gql(RECORD, { input: inputOf(visit) });
        Object.assign(visit, { state: "sent", inspectionId: data.recordInspection.id });
        sent += 1;
      } catch (error) {
        if (error instanceof Offline || error.code === "UNAUTHENTICATED") break;
        Object.assign(visit, { state: "refused", code: error.code || "ERROR", message: error.message });
      }
      await put("visits", visit);
      await renderQueue();
    }
  } finally {
    flushing = false;
  }
  if (sent) await loadPlan().catch(showError);
}

async function renderQueue() {
  const visits = (await getAll("visits")).sort((a, b) => b.at.localeCompare(a.at));
  const labels = { waiting: "待发送 waiting", sent: "已发送 sent", refused: "被拒 refused" };
  $("queue").replaceChildren(...visits.map((visit) => {
    const li = document.createElement("li");
    li.dataset.key = visit.key;
    li.dataset.state = visit.state;
    const what = document.createElement("span");
    what.textContent = `${hhmm(visit.at)} ${visit.targetName}`;
    const chip = document.createElement("span");
    chip.className = `chip state-${visit.state}`;
    chip.textContent = visit.state === "refused" ? `${labels.refused} ${visit.code}` : labels[visit.state];
    li.append(what, chip);
    if (visit.state === "refused") {
      const why = document.createElement("span");
      why.className = "why";
      why.textContent = visit.message;
      li.append(why);
    }
    return li;
  }));
  document.body.dataset.waiting = String(visits.filter((v) => v.state === "waiting").length);
}

// --- Re-plan from here ------------------------------------------------------------------------

$("replan").addEventListener("click", async () => {
  showError(null);
  try {
    const position = await locate();
    const here = {
      position: { type: "Point", coordinates: [position.coords.longitude, position.coords.latitude] },
      at: isoShanghai(now()),
    };
    await loadPlan(here);
  } catch (error) {
    showError(error instanceof Offline ? { message: "离线时无法重新规划 · re-planning needs a connection" } : error);
  }
});

// --- Start --------------------------------------------------------------------------------------

function showNetwork() {
  $("network").textContent = navigator.onLine ? "在线 online" : "离线 offline";
  $("network").className = `chip ${navigator.onLine ? "online" : "offline"}`;
}

function render() {
  const inside = sessionValid();
  $("login").hidden = inside;
  $("day").hidden = !inside;
  $("who").hidden = !inside;
  $("username").textContent = inside ? state.session.username : "";
  if (!inside) document.body.dataset.state = "login";
}

async function start() {
  render();
  showClock();
  await renderQueue();
  if (!sessionValid()) return;
  try {
    await loadZones();
    await loadPlan();
    document.body.dataset.state = "ready";
    flush();
  } catch (error) {
    showError(error);
    document.body.dataset.state = "error";
  }
}

$("zone").addEventListener("change", () => loadPlan().catch(showError));
window.addEventListener("online", () => { showNetwork(); flush(); });
window.addEventListener("offline", showNetwork);
window.setInterval(flush, 30000);
showNetwork();
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/field-sw.js", { scope: "/field" });
start();
