// The field page's service worker: it keeps the page and everything it loads, so that the page
// opens with no network at all. Each answer comes from the cache at once and is refreshed from
// the server behind it (ETag revalidation: a 304 costs headers only). GraphQL is never cached
// here: the page keeps its plan and its queue of visits in IndexedDB.
"use strict";

const CACHE = "fugong-field-v1";
const SHELL = [
  "/field",
  "/static/field.js",
  "/static/field.css",
  "/static/field.webmanifest",
  "/static/field-icon.svg",
  "/static/vendor/maplibre-gl/maplibre-gl-csp.js",
  "/static/vendor/maplibre-gl/maplibre-gl-csp-worker.js",
  "/static/vendor/maplibre-gl/maplibre-gl.css",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  const shell = url.origin === self.location.origin && event.request.method === "GET"
    && SHELL.includes(url.pathname);
  if (!shell) return; // the network as usual: GraphQL, tiles, exports
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const kept = await cache.match(url.pathname);
    const fresh = fetch(event.request).then(async (response) => {
      if (response.ok) await cache.put(url.pathname, response.clone());
      return response;
    });
    if (kept) {
      event.waitUntil(fresh.catch(() => undefined));
      return kept;
    }
    return fresh;
  })());
});
