// The code page on the phone (docs/resident-page.md).
//
// - A live clock that follows the server's time, not the phone's (a phone with a wrong clock
//   still shows the real time), and the QR's countdown: a screenshot shows a stale time.
// - The QR is drawn here from the signed token (vendor/qrcode-generator): the server only signs.
// - Before the token expires the page asks /r/code.json for a new one, with the colour.
// - When that fails (no network, the server busy: 503 with Retry-After, any 5xx) the page keeps
//   showing the last signed code with the time it was issued and whether a gate can still
//   verify it offline, and asks again after Retry-After. The service worker (/r/sw.js) keeps
//   the last answer and the page itself, so the page opens with the network down too.
// - Signing out, and the sign-in page, delete that copy: phones are shared.
(function () {
  "use strict";
  const CACHE_PREFIX = "fk-resident-";
  const pad = (n) => String(n).padStart(2, "0");
  function beijing(seconds) {
    return new Date(seconds * 1000 + 8 * 3600 * 1000); // Asia/Shanghai has no DST
  }
  function dateTime(seconds) {
    const t = beijing(seconds);
    return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())} ${hms(seconds)}`;
  }
  function hms(seconds) {
    const t = beijing(seconds);
    return `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`;
  }

  async function forgetStoredCode() {
    if (!("caches" in window)) return;
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith(CACHE_PREFIX)).map((n) => caches.delete(n)));
  }

  function drawQr(root) {
    for (const box of root.querySelectorAll("[data-token] .js-qr")) {
      const qr = qrcode(0, "M"); // smallest version that fits; level M survives glare
      qr.addData(box.parentElement.dataset.token);
      qr.make();
      box.innerHTML = qr.createSvgTag({ cellSize: 4, margin: 4, scalable: true });
    }
  }

  function codePage(card) {
    const qr = document.getElementById("qr");
    const clock = document.getElementById("clock");
    const notice = document.getElementById("code-notice");
    let offset = Number(clock.dataset.serverNow) * 1000 - Date.now(); // server − phone, ms
    let current = {
      token: qr.dataset.token,
      iat: Number(qr.dataset.issued),
      exp: Number(qr.dataset.expires),
      refresh_in: Number(qr.dataset.refresh),
      colour: card.querySelector(".r-colour").dataset.colour,
    };
    const rendered = current.colour; // the reasons below are those of this colour
    let degraded = null; // why the shown code is not fresh, while it is not
    let timer = null;
    const serverNow = () => (Date.now() + offset) / 1000;

    function tick() {
      const now = serverNow();
      clock.textContent = dateTime(Math.floor(now));
      const left = Math.max(0, Math.round(current.exp - now));
      for (const el of card.querySelectorAll(".js-countdown")) {
        el.dataset.expires = String(current.exp);
        if (left > 0) el.textContent = `剩余 ${Math.floor(left / 60)}:${pad(left % 60)} 有效`;
        else el.textContent = degraded ? "已过期,需联网刷新" : "已过期,正在刷新";
      }
      if (degraded) showNotice(now);
      qr.dataset.expired = left > 0 ? "false" : "true";
    }

    function showNotice(now) {
      const valid = now < current.exp
        ? `二维码 ${hms(current.exp)} 前有效,卡口可离线核验。`
        : "二维码已过期,需联网后刷新。";
      notice.textContent = `网络繁忙,显示的是 ${hms(current.iat)} 更新的健康码。${valid}`;
      notice.hidden = false;
      card.dataset.degraded = degraded;
    }

    function show(code) {
      current = code;
      qr.dataset.token = code.token;
      qr.dataset.issued = String(code.iat);
      qr.dataset.expires = String(code.exp);
      drawQr(card);
      if (code.colour !== card.querySelector(".r-colour").dataset.colour) {
        for (const c of ["green", "yellow", "red"]) card.classList.remove(`code-${c}`);
        card.classList.add(`code-${code.colour}`);
        const colour = card.querySelector(".r-colour");
        colour.dataset.colour = code.colour;
        colour.textContent = code.label;
        document.title = `${code.label} · 长春健康码`;
      }
      // The reasons on the page are the rendered colour's: a renewal that changes the colour
      // says so rather than reloading under the eyes of a gate keeper.
      const changed = document.getElementById("code-changed");
      changed.hidden = code.colour === rendered;
      changed.querySelector(".js-changed-label").textContent = code.label;
      let badge = document.getElementById("negative-badge");
      if (code.negative_within && !badge) {
        badge = document.createElement("div");
        badge.id = "negative-badge";
        badge.className = "r-badge ok";
        notice.after(badge);
      }
      if (badge && code.negative_within) badge.textContent = `${code.negative_within}小时内核酸阴性`;
      else if (badge) badge.remove();
    }

    function later(seconds) {
      clearTimeout(timer);
      timer = setTimeout(renew, Math.max(1, seconds) * 1000);
    }

    async function renew() {
      let response = null;
      try {
        response = await fetch(card.dataset.codeUrl, {
          credentials: "same-origin",
          cache: "no-store",
          headers: { Accept: "application/json" },
        });
      } catch (error) {
        response = null; // no network, and no copy from the worker
      }
      if (response && response.status === 401) {
        await forgetStoredCode();
        window.location.assign("/r/login/?next=/r/");
        return;
      }
      let code = null;
      if (response && response.ok) {
        try {
          code = await response.json();
        } catch (error) {
          code = null;
        }
      }
      const stored = response && response.headers.get("X-Fangkong-Stored");
      if (code && !stored) {
        offset = code.now * 1000 - Date.now();
        degraded = null;
        notice.hidden = true;
        delete card.dataset.degraded;
        show(code);
        tick();
        later(code.refresh_in);
        return;
      }
      // The worker's copy may be newer than what the page shows (a page reopened offline).
      if (code && code.iat > current.iat) {
        const storedAt = Number(response.headers.get("X-Fangkong-Stored-At"));
        if (storedAt) offset = code.now * 1000 - storedAt;
        show(code);
      }
      degraded = (response && response.headers.get("X-Fangkong-Failed")) ||
        (response ? String(response.status) : "network");
      tick();
      const wait = Number(response && response.headers.get("Retry-After"));
      later(Number.isFinite(wait) && wait > 0 ? Math.min(wait, 600) : 30);
    }

    drawQr(card);
    if (card.dataset.shell === "stored") {
      // The worker opened its copy of the page: its times are the copy's, not now.
      degraded = "shell";
      renew();
    } else {
      later(Math.max(1, current.iat + current.refresh_in - serverNow()));
    }
    tick();
    setInterval(tick, 1000);
    // A phone wakes the page after a while in a pocket: renew at once if the QR is due.
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && serverNow() >= current.iat + current.refresh_in) {
        renew();
      }
    });
    if ("serviceWorker" in navigator && card.dataset.swUrl) {
      navigator.serviceWorker
        .register(card.dataset.swUrl, { scope: card.dataset.swScope })
        .catch((error) => console.warn("service worker not registered", error));
    }
    const logout = document.querySelector("form[action$='/r/logout/']");
    if (logout) {
      logout.addEventListener("submit", (event) => {
        event.preventDefault();
        forgetStoredCode().finally(() => logout.submit());
      });
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (window.location.pathname.startsWith("/r/login/")) {
      forgetStoredCode(); // signed out (or never signed in) on this phone: no one's code stays
      return;
    }
    const card = document.getElementById("code");
    if (card && document.getElementById("qr")) codePage(card);
  });
})();
