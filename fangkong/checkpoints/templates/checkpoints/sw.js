{% load static %}{% get_static_prefix as static_prefix %}// 防控 · service worker of the checkpoint verifier (scope /checkpoints/), rendered by Django with
// `assets` (static URLs to precache) and `version` (a new version empties the old caches).
//
// - The verifier's scripts and styles are precached and served cache-first, so the page works
//   with no network at all.
// - Pages under /checkpoints/ are network-first with the cached copy as fallback: a verifier
//   page opened once reopens offline, and online it is always current.
// - The checkpoint bundle (GET /api/checkpoints/<id>/bundle: keys and requirements) is
//   network-first with cache fallback. No other API answer and no POST is ever cached: a verify
//   or upload must reach the server or fail visibly (the page then queues it itself).

const VERSION = "{{ version|escapejs }}";
const CACHE_PREFIX = "fk-verifier-";
const CACHE = CACHE_PREFIX + VERSION;
const ASSETS = [{% for url in assets %}
  "{{ url|escapejs }}",{% endfor %}
];
const STATIC_PATH = new URL("{{ static_prefix|escapejs }}", self.location.href).pathname;
const SCOPE_PATH = new URL(self.registration.scope).pathname;
const ASSET_PATHS = new Set(ASSETS.map((url) => new URL(url, self.location.href).pathname));
const BUNDLE_PATH = /^\/api\/checkpoints\/[^/]+\/bundle\/?$/;
// On a network that answers slowly or not at all, fall back to the copy after this long.
const NAVIGATION_WAIT_MS = 4000;
const BUNDLE_WAIT_MS = 5000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // One by one, so a single missing file does not stop the worker from installing.
      const results = await Promise.allSettled(ASSETS.map((url) => cache.add(url)));
      results.forEach((result, i) => {
        if (result.status === "rejected") console.warn("not precached", ASSETS[i], result.reason);
      });
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names.filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE).map((name) => caches.delete(name)),
      );
      await self.clients.claim();
    })(),
  );
});

// Only complete same-origin answers are kept: never an error page, and never the login page a
// redirect led to (it would then be shown in place of the verifier).
function cacheable(response) {
  return response && response.ok && response.type === "basic" && !response.redirected;
}

async function networkFirst(request, waitMs) {
  const cache = await caches.open(CACHE);
  const network = fetch(request).then(async (response) => {
    if (cacheable(response)) await cache.put(request, response.clone());
    return response;
  });
  // Django varies pages on Cookie and Accept-Language; a copy stored from the page's own
  // request would never match a navigation's headers, and on this device it is the right copy.
  const fallback = async () => (await cache.match(request, { ignoreVary: true })) || network;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fallback().then(resolve, reject), waitMs);
    network.then(
      (response) => {
        clearTimeout(timer);
        resolve(response);
      },
      () => {
        clearTimeout(timer);
        fallback().then(resolve, reject);
      },
    );
  });
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (cacheable(response)) await cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return; // POSTs go to the network untouched
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/")) {
    if (BUNDLE_PATH.test(url.pathname)) event.respondWith(networkFirst(request, BUNDLE_WAIT_MS));
    return;
  }
  if (request.mode === "navigate") {
    if (url.pathname.startsWith(SCOPE_PATH)) event.respondWith(networkFirst(request, NAVIGATION_WAIT_MS));
    return;
  }
  if (ASSET_PATHS.has(url.pathname) || url.pathname.startsWith(STATIC_PATH)) {
    event.respondWith(cacheFirst(request));
  }
});

// The page asks for a copy of itself and of the static files it loaded: they were fetched before
// this worker controlled the page. Only pages in scope and static files are taken.
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type !== "cache-page" || typeof data.url !== "string") return;
  const inScope = (url) => url.origin === self.location.origin && url.pathname.startsWith(SCOPE_PATH);
  const isStatic = (url) =>
    url.origin === self.location.origin &&
    (ASSET_PATHS.has(url.pathname) || url.pathname.startsWith(STATIC_PATH));
  const page = new URL(data.url, self.location.href);
  const files = (Array.isArray(data.files) ? data.files : [])
    .map((name) => new URL(String(name), self.location.href))
    .filter(isStatic);
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      const keep = async (url) => {
        if (await cache.match(url.href)) return;
        const response = await fetch(url.href, { credentials: "same-origin" });
        if (cacheable(response)) await cache.put(url.href, response);
      };
      const jobs = files.map(keep);
      if (inScope(page)) {
        // The page itself is always refreshed: it may have changed since it was cached.
        jobs.push(
          fetch(page.href, { credentials: "same-origin" }).then((response) =>
            cacheable(response) ? cache.put(page.href, response) : undefined,
          ),
        );
      }
      await Promise.allSettled(jobs);
    })(),
  );
});
