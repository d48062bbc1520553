// The district map: fugong's vector tiles coloured by flag, a legend with counts, a town
// selector, details of a clicked feature, login, and live recolouring over flagChanged. A
// client of fugong's public API (GraphQL, tiles, graphql-transport-ws) like any other.
"use strict";

const config = JSON.parse(document.body.dataset.config);
const ORIGIN = window.location.origin;
const DISTRICT = "350112";
// Overlays are drawn in the base map's CRS, so that they land on its streets.
const CRS = config.basemapUrl && config.basemapCrs === "GCJ02" ? "GCJ02" : "WGS84";
const FLAG_COLORS = { GREEN: "#1a9641", YELLOW: "#f5c200", RED: "#d7191c" };
const flagColor = [
  "match",
  ["coalesce", ["feature-state", "flag"], ["get", "flag"]],
  "GREEN", FLAG_COLORS.GREEN, "YELLOW", FLAG_COLORS.YELLOW, "RED", FLAG_COLORS.RED,
  "#888888",
];
// Tile layers, bottom to top, and the map layers drawing each.
const LAYERS = {
  areas: { label: "镇街边界 Towns", draw: [
    { type: "fill", paint: { "fill-color": "#ffffff", "fill-opacity": 0.35 },
      filter: ["==", ["get", "level"], "TOWN"] },
    { type: "line", paint: { "line-color": "#4a5a70", "line-width": 1.2 },
      filter: ["==", ["get", "level"], "TOWN"] },
    { type: "line", paint: { "line-color": "#1d2b3a", "line-width": 2.5 },
      filter: ["==", ["get", "level"], "DISTRICT"] },
  ] },
  patrol_zones: { label: "巡查片区 Patrol zones", draw: [
    { type: "line", paint: { "line-color": "#7b4fa0", "line-width": 1, "line-dasharray": [3, 2] } },
  ] },
  construction_sites: { label: "在建工地 Construction sites", draw: [
    { type: "fill", paint: { "fill-color": flagColor, "fill-opacity": 0.6 } },
    { type: "line", paint: { "line-color": "#333333", "line-width": 1 } },
  ] },
  rental_properties: { label: "出租屋 Rentals (officers)", draw: [
    { type: "circle", paint: {
      "circle-radius": ["interpolate", ["linear"], ["zoom"], 10, 1.5, 16, 5],
      "circle-color": ["case", ["get", "filed"], "#3b7dd8", "#ff7f00"],
      "circle-stroke-color": "#ffffff", "circle-stroke-width": 0.5 } },
  ] },
  enterprises: { label: "企业 Enterprises", draw: [
    { type: "circle", paint: {
      "circle-radius": ["interpolate", ["linear"], ["zoom"], 10, 2.5, 16, 7],
      "circle-color": flagColor,
      "circle-stroke-color": "#222222", "circle-stroke-width": 0.6 } },
  ] },
  quarantine_sites: { label: "隔离点 Quarantine sites", draw: [
    { type: "circle", paint: {
      "circle-radius": 7, "circle-color": "#6a3d9a",
      "circle-stroke-color": "#ffffff", "circle-stroke-width": 2 } },
  ] },
};
const POINT_LAYERS = new Set(["rental_properties", "enterprises", "quarantine_sites"]);

const state = {
  token: window.sessionStorage.getItem("fugong.token"),
  username: window.sessionStorage.getItem("fugong.username"),
  areaCode: "",
  socket: null,
};
const $ = (id) => document.getElementById(id);

// --- GraphQL over HTTP ------------------------------------------------------------------------

async function gql(query, variables = {}) {
  const headers = {
    "Content-Type": "application/json",
    Accept: "application/graphql-response+json, application/json",
  };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  const response = await fetch("/graphql", {
    method: "POST", headers, body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors && body.errors.length) {
    const error = new Error(body.errors[0].message);
    error.code = body.errors[0].extensions && body.errors[0].extensions.code;
    throw error;
  }
  return body.data;
}

function showError(error) {
  $("error").textContent = error ? `${error.message}${error.code ? ` (${error.code})` : ""}` : "";
}

// --- The map --------------------------------------------------------------------------------

function tileJsonUrl(layer) {
  const query = new URLSearchParams();
  if (state.areaCode && layer !== "areas") query.set("areaCode", state.areaCode);
  if (CRS !== "WGS84") query.set("crs", CRS);
  const text = query.toString();
  return `${ORIGIN}/tiles/${layer}.json${text ? `?${text}` : ""}`;
}

function style() {
  const sources = {};
  const layers = [{ id: "background", type: "background", paint: { "background-color": "#eef1f4" } }];
  if (config.basemapUrl) {
    sources.basemap = { type: "raster", tiles: [config.basemapUrl], tileSize: 256, maxzoom: 19 };
    layers.push({ id: "basemap", type: "raster", source: "basemap" });
  }
  for (const [name, layer] of Object.entries(LAYERS)) {
    sources[name] = { type: "vector", url: tileJsonUrl(name), promoteId: { [name]: "id" } };
    layer.draw.forEach((draw, i) => {
      layers.push({ id: `${name}-${i}`, source: name, "source-layer": name, ...draw });
    });
  }
  return { version: 8, sources, layers };
}

maplibregl.setWorkerUrl("/static/vendor/maplibre-gl/maplibre-gl-csp-worker.js");
const map = new maplibregl.Map({
  container: "map",
  style: style(),
  center: [119.55, 25.88],
  zoom: 10,
  hash: true,
  attributionControl: { compact: true },
  canvasContextAttributes: { preserveDrawingBuffer: true }, // so tests can read its pixels
  transformRequest: (url) => {
    // The token goes only to this server, never to a base map's host.
    if (state.token && url.startsWith(ORIGIN)) {
      return { url, headers: { Authorization: `Bearer ${state.token}` } };
    }
    return { url };
  },
});
map.addControl(new maplibregl.NavigationControl(), "top-left");
map.addControl(new maplibregl.ScaleControl(), "bottom-left");

function mapLayersOf(name) {
  return LAYERS[name].draw.map((_, i) => `${name}-${i}`);
}

function reloadTiles() {
  for (const name of Object.keys(LAYERS)) map.getSource(name).setUrl(tileJsonUrl(name));
}

/** Features drawn per tile layer in the current view: points whose position is on screen,
 * and every polygon drawn; each feature once, however many tiles hold a piece of it. */
function drawn() {
  const bounds = map.getBounds();
  const counts = {};
  for (const name of Object.keys(LAYERS)) {
    const visible = mapLayersOf(name).filter((id) => map.getLayoutProperty(id, "visibility") !== "none");
    const ids = new Set();
    for (const feature of map.queryRenderedFeatures({ layers: visible })) {
      if (POINT_LAYERS.has(name) && !bounds.contains(feature.geometry.coordinates)) continue;
      ids.add(feature.properties.id);
    }
    counts[name] = ids.size;
  }
  return counts;
}

function reportDrawn() {
  const counts = drawn();
  $("drawn").textContent = "drawn: " + Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(", ");
  return counts;
}

function layerToggles() {
  for (const [name, layer] of Object.entries(LAYERS)) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = true;
    box.dataset.layer = name;
    box.addEventListener("change", () => {
      for (const id of mapLayersOf(name)) {
        map.setLayoutProperty(id, "visibility", box.checked ? "visible" : "none");
      }
    });
    label.append(box, " ", layer.label);
    $("layers").append(label);
  }
}

// --- Legend and town selector -----------------------------------------------------------------

async function loadLegend() {
  const data = await gql(
    "query ($code: String!) { area(code: $code) { flagCounts { green yellow red total } } }",
    { code: state.areaCode || DISTRICT },
  );
  const counts = data.area.flagCounts;
  for (const [flag, key] of [["GREEN", "green"], ["YELLOW", "yellow"], ["RED", "red"], ["TOTAL", "total"]]) {
    document.querySelector(`#legend tr[data-flag="${flag}"] .count`).textContent = counts[key];
  }
  return counts;
}

async function loadTowns() {
  const data = await gql("{ areas(level: TOWN) { code name } }");
  for (const town of data.areas) {
    const option = document.createElement("option");
    option.value = town.code;
    option.textContent = town.name;
    $("town").append(option);
  }
}

function boundsOf(geometry) {
  const box = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === "number") {
      box[0] = Math.min(box[0], c[0]); box[1] = Math.min(box[1], c[1]);
      box[2] = Math.max(box[2], c[0]); box[3] = Math.max(box[3], c[1]);
    } else c.forEach(walk);
  };
  walk(geometry.coordinates);
  return [[box[0], box[1]], [box[2], box[3]]];
}

async function selectTown(code) {
  state.areaCode = code;
  const data = await gql(
    "query ($code: String!, $crs: Crs!) { area(code: $code) { geometry(crs: $crs, simplifyMeters: 100) } }",
    { code: code || DISTRICT, crs: CRS },
  );
  map.fitBounds(boundsOf(data.area.geometry), { padding: 20, duration: 0 });
  reloadTiles();
  subscribe();
  await loadLegend();
}

// --- Details of a clicked feature -------------------------------------------------------------

const DETAILS = `query ($id: ID!) { node(id: $id) { __typename id
  ... on Enterprise { name category staffTotal staffReturned contactPhone signboardUpdatedOn
      flag { color reason since overridden } flagHistory { from to at reason } area { name } }
  ... on ConstructionSite { name keyProject resumption
      flag { color reason since overridden } flagHistory { from to at reason } area { name } }
  ... on RentalProperty { address filed landlordPhone area { name } }
  ... on QuarantineSite { name bedsTotal bedsOccupied area { name } }
  ... on PatrolZone { name team area { name } }
  ... on Area { name code } } }`;

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function renderDetails(node) {
  const box = $("details");
  box.replaceChildren();
  if (!node) {
    box.append(element("p", "不可见或已不存在 · not visible to you", "hint"));
    return;
  }
  box.append(element("h2", node.name || node.address || node.id));
  const list = element("dl");
  const row = (term, value) => {
    if (value === undefined || value === null) return;
    list.append(element("dt", term), element("dd", value));
  };
  row("id", node.id);
  row("area", node.area && node.area.name);
  if (node.flag) {
    row("flag", node.flag.color + (node.flag.overridden ? " (by hand)" : ""));
    row("reason", node.flag.reason);
    row("since", node.flag.since.slice(0, 10));
  }
  row("category", node.category);
  if (node.staffTotal !== undefined) row("staff back", `${node.staffReturned} / ${node.staffTotal}`);
  row("signboard", node.signboardUpdatedOn === undefined ? undefined : node.signboardUpdatedOn || "never");
  row("contact", node.contactPhone);
  row("key project", node.keyProject === undefined ? undefined : node.keyProject ? "yes" : "no");
  row("filed", node.filed === undefined ? undefined : node.filed ? "yes" : "no");
  row("landlord", node.landlordPhone);
  if (node.bedsTotal !== undefined) row("beds", `${node.bedsOccupied} / ${node.bedsTotal}`);
  row("team", node.team);
  box.append(list);
  if (node.flagHistory && node.flagHistory.length) {
    box.append(element("h3", "flag history"));
    const history = element("ol");
    for (const change of node.flagHistory.slice(-6)) {
      history.append(element("li", `${change.at.slice(0, 10)} ${change.from || "—"} → ${change.to}: ${change.reason}`));
    }
    box.append(history);
  }
}

async function showDetails(id) {
  try {
    const data = await gql(DETAILS, { id });
    renderDetails(data.node);
    document.body.dataset.details = id;
  } catch (error) {
    showError(error);
  }
}

map.on("click", (event) => {
  const layers = Object.keys(LAYERS).reverse().flatMap(mapLayersOf)
    .filter((id) => !id.startsWith("areas-"));
  const box = [[event.point.x - 4, event.point.y - 4], [event.point.x + 4, event.point.y + 4]];
  const hit = map.queryRenderedFeatures(box, { layers })[0]
    || map.queryRenderedFeatures(event.point, { layers: mapLayersOf("areas") })[0];
  if (hit) showDetails(hit.properties.id);
});

// --- Login --------------------------------------------------------------------------------

function showWho() {
  $("login").hidden = Boolean(state.token);
  $("who").hidden = !state.token;
  $("username").textContent = state.username || "";
}

function setToken(token, username) {
  state.token = token;
  state.username = username;
  if (token) {
    window.sessionStorage.setItem("fugong.token", token);
    window.sessionStorage.setItem("fugong.username", username);
  } else {
    window.sessionStorage.removeItem("fugong.token");
    window.sessionStorage.removeItem("fugong.username");
  }
  showWho();
  reloadTiles();
  subscribe();
}

$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const data = await gql(
      "mutation ($u: String!, $p: String!) { login(username: $u, password: $p) }",
      { u: form.get("username"), p: form.get("password") },
    );
    showError(null);
    event.target.reset();
    setToken(data.login, form.get("username"));
  } catch (error) {
    showError(error);
  }
});
$("logout").addEventListener("click", () => setToken(null, null));

// --- Live flags over graphql-transport-ws -----------------------------------------------------

const SUBSCRIPTION = `subscription ($area: String) { flagChanged(areaCode: $area) {
  target { __typename ... on Enterprise { id } ... on ConstructionSite { id } } to } }`;
const SOURCE_OF = { Enterprise: "enterprises", ConstructionSite: "construction_sites" };

function subscribe() {
  if (state.socket) {
    state.socket.onclose = null;
    state.socket.close();
  }
  const socket = new WebSocket(`${ORIGIN.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws");
  state.socket = socket;
  socket.onopen = () => {
    const payload = state.token ? { Authorization: `Bearer ${state.token}` } : {};
    socket.send(JSON.stringify({ type: "connection_init", payload }));
  };
  socket.onmessage = (message) => {
    const data = JSON.parse(message.data);
    if (data.type === "connection_ack") {
      socket.send(JSON.stringify({
        id: "flags", type: "subscribe",
        payload: { query: SUBSCRIPTION, variables: { area: state.areaCode || null } },
      }));
      $("live").textContent = "live: listening for flag changes";
      document.body.dataset.live = "on";
    } else if (data.type === "ping") {
      socket.send(JSON.stringify({ type: "pong" }));
    } else if (data.type === "next" && data.payload.data) {
      const change = data.payload.data.flagChanged;
      const source = SOURCE_OF[change.target.__typename];
      map.setFeatureState({ source, sourceLayer: source, id: change.target.id }, { flag: change.to });
      $("live").textContent = `live: ${change.target.id} is now ${change.to}`;
      loadLegend().catch(showError);
    }
  };
  socket.onclose = () => {
    document.body.dataset.live = "off";
    setTimeout(() => { if (state.socket === socket) subscribe(); }, 3000);
  };
}

// --- Start --------------------------------------------------------------------------------

$("town").addEventListener("change", (event) => {
  selectTown(event.target.value).catch(showError);
});
map.on("idle", reportDrawn);
layerToggles();
showWho();
// Not "load": that waits for every tile, and a base map that fails would hold the page.
map.once("style.load", async () => {
  try {
    await Promise.all([loadTowns(), loadLegend()]);
    subscribe();
  } catch (error) {
    showError(error);
  }
  document.body.dataset.state = "ready";
});

// What the page's tests (and a curious officer's console) read.
window.fugong = { map, drawn, selectTown, crs: CRS };
