// 防控 · service worker of the resident's code page (scope /r/), served by /r/sw.js with
// SHELL_ASSETS (the static files the page needs) defined before this text.
// docs/resident-page.md, "When the network fails".
//
// - /r/code.json: network first. A good answer is kept (one copy, replaced each time). When
//   the network fails or the server answers 5xx (503 with Retry-After when it sheds load), the
//   kept copy is answered instead, marked X-Fangkong-Stored with why (X-Fangkong-Failed) and the
//   server's Retry-After, so the page says it shows an older code and asks again later.
// - The page /r/: network first, the kept copy when the network fails or answers 5xx; that
//   copy is marked data-shell="stored" so that the page knows its times are old.
// - The page's static files: network first, kept for the page opened with no network.
// - A 401 from code.json, a redirect to the sign-in page or signing out deletes every copy:
//   phones are shared, and the next person must not see the last one's code.

const CACHE = "fk-resident-v1";
const CODE_PATH = "/r/code.json";
const SHELL_PATH = "/r/";
const ASSET_PATHS = new Set(SHELL_ASSETS.map((url) => new URL(url, self.location.href).pathname));
// On a network that answers slowly or not at all, fall back to the copy after this long.
const WAIT_MS = 6000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await Promise.allSettled(SHELL_ASSETS.map((url) => cache.add(url)));
      // The page that registered this worker was loaded before it: keep a copy of it now.
      try {
        const shell = await fetch(SHELL_PATH, { credentials: "same-origin" });
        if (shell.ok && !shell.redirected) await keep(SHELL_PATH, shell, Date.now());
      } catch (error) {
        // No network: the next visit keeps it.
      }
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

async function forget() {
  const names = await caches.keys();
  await Promise.all(names.filter((n) => n.startsWith("fk-resident-")).map((n) => caches.delete(n)));
}

function fetchWithin(request, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    fetch(request).then(
      (response) => {
        clearTimeout(timer);
        resolve(response);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

// The kept copy, with headers telling the page why it is answered and when to ask again.
async function stored(key, failed, retryAfter, rewrite) {
  const cache = await caches.open(CACHE);
  const copy = await cache.match(key, { ignoreVary: true, ignoreSearch: true });
  if (!copy) return null;
  const headers = new Headers(copy.headers);
  headers.set("X-Fangkong-Stored", "1");
  headers.set("X-Fangkong-Failed", failed);
  if (retryAfter) headers.set("Retry-After", retryAfter);
  const body = rewrite ? rewrite(await copy.text()) : await copy.blob();
  return new Response(body, { status: 200, statusText: "OK", headers });
}

async function keep(key, response, storedAt) {
  const cache = await caches.open(CACHE);
  const headers = new Headers(response.headers);
  headers.set("X-Fangkong-Stored-At", String(storedAt));
  const copy = new Response(await response.clone().blob(), { status: 200, headers });
  await cache.put(key, copy);
}

async function networkOrCopy(request, key, rewrite) {
  let response;
  try {
    response = await fetchWithin(request, WAIT_MS);
  } catch (error) {
    return (await stored(key, "network", null, rewrite)) || Response.error();
  }
  // A navigation's redirect comes back unopened (opaqueredirect): /r/ redirects only to sign in.
  const signedOut =
    response.status === 401 ||
    response.type === "opaqueredirect" ||
    (response.redirected && new URL(response.url).pathname.startsWith("/r/login/"));
  if (signedOut) {
    await forget(); // signed out: nobody's code stays on the phone
    return response;
  }
  if (response.status >= 500) {
    const copy = await stored(key, String(response.status), response.headers.get("Retry-After"), rewrite);
    return copy || response;
  }
  if (response.ok && response.type === "basic" && !response.redirected) {
    await keep(key, response, Date.now());
  }
  return response;
}

async function networkFirstAsset(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetchWithin(request, WAIT_MS);
    if (response.ok && response.type === "basic") await cache.put(request, response.clone());
    return response;
  } catch (error) {
    return (await cache.match(request, { ignoreVary: true })) || Response.error();
  }
}

const markStored = (html) => html.replace('data-shell="live"', 'data-shell="stored"');

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === "/r/logout/") {
    event.waitUntil(forget());
    return; // the sign-out itself goes to the network untouched
  }
  if (request.method !== "GET") return;
  if (url.pathname === CODE_PATH) {
    event.respondWith(networkOrCopy(request, CODE_PATH, null));
  } else if (url.pathname === SHELL_PATH && request.mode === "navigate") {
    event.respondWith(networkOrCopy(request, SHELL_PATH, markStored));
  } else if (ASSET_PATHS.has(url.pathname)) {
    event.respondWith(networkFirstAsset(request));
  }
});

self.addEventListener("message", (event) => {
  if ((event.data || {}).type === "forget") event.waitUntil(forget());
});
