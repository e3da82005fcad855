/* liangshi offline collection and inspection: the service worker (scope /web/collect/).
 * Keeps the app shells (the offline collection and inspection pages, their scripts, the style sheet, the icons)
 * so that the apps open and reload without a connection. The assigned work and the outbox live in IndexedDB (collect-app.js), not here:
 * nothing the collector typed depends on this cache. */
"use strict";

const CACHE = "liangshi-collect-v2";
const SHELLS = ["/web/collect/app", "/web/collect/inspect"];
const ASSETS = [
  ...SHELLS,
  "/web/static/offline-outbox.js",
  "/web/static/inspect-app.js",
  "/web/static/app.css",
  "/web/static/collect-app.js",
  "/web/static/menu.js",
  "/web/static/vendor/htmx.min.js",
  "/web/collect/manifest.webmanifest",
  "/web/static/icons/collect.svg",
  "/web/static/icons/collect-192.png",
  "/web/static/icons/collect-512.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      // One missing asset (a vendor file not built) must not stop the shell from being kept.
      Promise.all(ASSETS.map((url) => cache.add(new Request(url, { credentials: "same-origin" })).catch(() => null)))
    ).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

function isShell(url) {
  return SHELLS.includes(url.pathname);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // The work downloads always go to the network: the apps store them themselves.
  if (url.pathname === "/web/collect/work.json" || url.pathname === "/web/collect/inspect/work.json") return;
  if (isShell(url) || request.mode === "navigate" && url.pathname.startsWith("/web/collect")) {
    // Network first (a fresh CSRF token and translations), the kept shell when offline.
    event.respondWith(
      fetch(request).then((response) => {
        if (response.ok && isShell(url) && !response.redirected) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
        }
        return response;
      }).catch(() => caches.match(isShell(url) ? url.pathname : SHELLS[0]))
    );
    return;
  }
  if (ASSETS.includes(url.pathname)) {
    event.respondWith(
      caches.match(request).then((hit) => hit || fetch(request).then((response) => {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(request, copy));
        return response;
      }))
    );
  }
});
