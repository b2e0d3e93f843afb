// A live clock and a countdown on the code page: a screenshot shows a stale time, and the
// resident sees when the QR renews. The clock follows the server's time offset, not the
// phone's, so a phone with a wrong clock still shows the real time.
(function () {
  "use strict";
  const pad = (n) => String(n).padStart(2, "0");
  function shanghai(date) {
    const t = new Date(date.getTime() + 8 * 3600 * 1000); // Asia/Shanghai has no DST
    return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())} ` +
      `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`;
  }
  function start() {
    const clock = document.getElementById("clock");
    if (!clock) return;
    const offset = Number(clock.dataset.serverNow) * 1000 - Date.now();
    function tick() {
      const now = new Date(Date.now() + offset);
      clock.textContent = shanghai(now);
      for (const el of document.querySelectorAll(".js-countdown")) {
        const left = Math.max(0, Math.round(Number(el.dataset.expires) - now.getTime() / 1000));
        el.textContent = left > 0
          ? `剩余 ${Math.floor(left / 60)}:${pad(left % 60)} 有效`
          : "已过期,正在刷新";
      }
    }
    tick();
    setInterval(tick, 1000);
  }
  // The QR is drawn here from the signed token (vendor/qrcode-generator): the server only signs.
  function drawQr(root) {
    for (const box of root.querySelectorAll("[data-token] .js-qr")) {
      const qr = qrcode(0, "M"); // smallest version that fits; level M survives glare
      qr.addData(box.parentElement.dataset.token);
      qr.make();
      box.innerHTML = qr.createSvgTag({ cellSize: 4, margin: 4, scalable: true });
    }
  }
  document.addEventListener("DOMContentLoaded", () => {
    start();
    drawQr(document);
    // htmx swaps in a fresh QR block before the current token expires.
    document.body.addEventListener("htmx:load", (event) => drawQr(event.detail.elt));
  });
})();
