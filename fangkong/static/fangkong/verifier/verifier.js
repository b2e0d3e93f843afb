// 防控 · checkpoint verifier page (checkpoints/verify.html).
//
// Online, every scan goes to the server (POST verify_url), which knows the live code and keeps
// the gate log. When the device is offline, or the server does not answer within a few seconds,
// the device decides itself with FKRules (rules.js, the mirror of the server's engine) against
// the checkpoint bundle it downloaded earlier, shows the result marked 离线核验, and queues the
// scan; the queue is uploaded (POST scans_url) as soon as the network is back. Each scan carries
// a random scan_id, so a scan the server did record before a timeout comes back as a duplicate
// and is simply dropped.
//
// The page's configuration comes from data- attributes on #verifier (see the template).

import FKRules from "./rules.js";

const root = document.getElementById("verifier");
const config = {
  bundleUrl: root.dataset.bundleUrl,
  verifyUrl: root.dataset.verifyUrl,
  scansUrl: root.dataset.scansUrl,
  swUrl: root.dataset.swUrl,
  swScope: root.dataset.swScope || "/checkpoints/",
};

const ONLINE_TIMEOUT_MS = 3000; // a gate cannot hold a queue of people longer than this
const BUNDLE_TIMEOUT_MS = 8000;
const UPLOAD_TIMEOUT_MS = 15000;
const UPLOAD_EVERY_MS = 30 * 1000;
const BUNDLE_EVERY_MS = 10 * 60 * 1000;
const UPLOAD_BATCH = 100;
const STALE_BUNDLE_HOURS = 24;
const SAME_CODE_PAUSE_MS = 4000; // the camera sees a held-up code many times a second
// A road checkpoint (道路卡口): the driver's own code is scanned right after the vehicle pass.
const DRIVER_CODE_WITHIN_MS = 3 * 60 * 1000;
const REVOKED_PASSES_URL = "/api/passes/revoked";

// localStorage keys, per checkpoint (its URLs), so one device can serve several checkpoints.
const STORE = {
  bundle: `fk.verifier.bundle:${config.bundleUrl}`,
  queue: `fk.verifier.queue:${config.scansUrl}`,
  rejected: `fk.verifier.rejected:${config.scansUrl}`,
  direction: `fk.verifier.direction:${config.verifyUrl}`,
};

const $ = (id) => document.getElementById(id);
const el = {
  network: $("network-state"),
  bundleAge: $("bundle-age"),
  result: $("result"),
  verdict: $("result-verdict"),
  mode: $("result-mode"),
  name: $("result-name"),
  idNumber: $("result-id"),
  colour: $("result-colour"),
  kind: $("result-kind"),
  time: $("result-time"),
  reasons: $("result-reasons"),
  note: $("result-note"),
  directionRow: $("direction-row"),
  direction: $("direction"),
  tubeRow: $("tube-row"),
  tube: $("tube-input"),
  input: $("token-input"),
  verifyButton: $("verify-button"),
  inputMessage: $("input-message"),
  cameraButton: $("camera-button"),
  cameraBox: $("camera-box"),
  video: $("camera-video"),
  cameraMessage: $("camera-message"),
  queueCount: $("queue-count"),
  uploadButton: $("upload-button"),
  uploadMessage: $("upload-message"),
  rejectedBox: $("rejected-box"),
  rejectedList: $("rejected-list"),
};

const state = { bundle: null, busy: false, uploading: false, pendingPass: null };

// ---- storage ------------------------------------------------------------------------------------

function load(key, fallback) {
  try {
    const text = localStorage.getItem(key);
    return text === null ? fallback : JSON.parse(text);
  } catch {
    return fallback;
  }
}

function save(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
    return true;
  } catch {
    return false; // storage full or disabled: the page still works, without offline memory
  }
}

// ---- small helpers ------------------------------------------------------------------------------

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  // base.html also puts the token in htmx's headers; use it if the cookie is not readable.
  try {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  } catch {
    return "";
  }
}

function newScanId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // randomUUID exists only in secure contexts; getRandomValues everywhere (RFC 4122 version 4).
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** fetch JSON with a deadline covering the whole answer, body included: a hung connection must
 * not hold the gate. Returns {ok, status, data}; data is the parsed body of a 2xx answer. */
async function requestJSON(url, options, ms) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  try {
    const response = await fetch(url, {
      credentials: "same-origin",
      ...options,
      headers: { Accept: "application/json", ...options.headers },
      signal: controller.signal,
    });
    const data = response.ok ? await response.json() : null;
    return { ok: response.ok, status: response.status, data };
  } finally {
    clearTimeout(timer);
  }
}

function postJSON(url, body, ms) {
  const headers = { "Content-Type": "application/json", "X-CSRFToken": csrfToken() };
  return requestJSON(url, { method: "POST", headers, body: JSON.stringify(body) }, ms);
}

function describeFailure(error) {
  if (error && error.name === "AbortError") return "服务器未及时响应";
  if (error && error.status === 401) return "未登录或登录已失效";
  if (error && error.status === 403) return "无权限或登录已失效";
  if (error && error.status) return `服务器返回 ${error.status}`;
  return "网络不可用";
}

const two = (n) => String(n).padStart(2, "0");
function beijing(date, { seconds = false } = {}) {
  // Checkpoint staff read Beijing time whatever the device's zone.
  const d = new Date(date.getTime() + 8 * 3600 * 1000);
  const day = `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
  const time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
  return `${day} ${time}${seconds ? `:${two(d.getUTCSeconds())}` : ""}`;
}

function agoText(ms) {
  const minutes = Math.max(0, Math.floor(ms / 60000));
  if (minutes < 1) return "刚刚";
  if (minutes < 60) return `${minutes}分钟前`;
  if (minutes < 48 * 60) return `${Math.floor(minutes / 60)}小时前`;
  return `${Math.floor(minutes / 1440)}天前`;
}

// ---- network state and the bundle ----------------------------------------------------------------

function renderNetwork() {
  const online = navigator.onLine;
  el.network.textContent = online ? "在线" : "离线";
  el.network.className = `badge ${online ? "ok" : "warn"}`;
  el.network.dataset.online = String(online);
}

function bundleIssuedAt(bundle) {
  const seconds = bundle && bundle.issued_at ? FKRules.isoToSeconds(bundle.issued_at) : null;
  return seconds === null ? null : new Date(seconds * 1000);
}

function renderBundle() {
  const bundle = state.bundle;
  if (!bundle) {
    el.bundleAge.textContent = "尚未下载公钥,离线时无法核验";
    el.bundleAge.className = "badge bad";
    return;
  }
  // The age is the server's issued_at, not when this device fetched it: a copy the service
  // worker served from its cache while offline must not look fresh.
  const issued = bundleIssuedAt(bundle);
  const age = issued ? Date.now() - issued.getTime() : Infinity;
  el.bundleAge.textContent = issued ? `公钥更新于 ${beijing(issued)}(${agoText(age)})` : "公钥更新时间未知";
  el.bundleAge.className = `badge ${age > STALE_BUNDLE_HOURS * 3600 * 1000 ? "bad" : "ok"}`;
  if (age > STALE_BUNDLE_HOURS * 3600 * 1000) el.bundleAge.textContent += ",请尽快联网更新";
  const needsDirection = (bundle.requirements?.kinds || []).includes(FKRules.EXIT);
  el.directionRow.hidden = !needsDirection;
  el.tubeRow.hidden = !bundle.requirements?.records_sampling;
}

function setBundle(bundle) {
  state.bundle = bundle;
  renderBundle();
}

async function refreshBundle() {
  try {
    const response = await requestJSON(
      config.bundleUrl,
      { headers: { Accept: "application/json" }, cache: "no-store" },
      BUNDLE_TIMEOUT_MS,
    );
    if (!response.ok) throw Object.assign(new Error("bundle"), { status: response.status });
    const bundle = response.data;
    if (!bundle || !Array.isArray(bundle.keys)) throw new Error("bundle without keys");
    if ((bundle.requirements?.kinds || []).includes(FKRules.VEHICLE)) {
      // Revoked vehicle passes travel with the bundle: offline, a revoked pass is refused
      // from the refresh after its revocation (fangkong.passes, docs/passes.md).
      const revoked = await requestJSON(
        REVOKED_PASSES_URL,
        { headers: { Accept: "application/json" }, cache: "no-store" },
        BUNDLE_TIMEOUT_MS,
      );
      if (!revoked.ok || !Array.isArray(revoked.data?.revoked)) throw new Error("revoked passes");
      bundle.revoked_passes = revoked.data.revoked;
    }
    // Keep the newer of the stored and the fetched bundle (the fetched one may be a cached copy).
    const stored = load(STORE.bundle, null);
    const older = stored && bundleIssuedAt(stored) > bundleIssuedAt(bundle);
    if (!older) save(STORE.bundle, bundle);
    setBundle(older ? stored : bundle);
  } catch {
    renderBundle(); // keep using the cached bundle; its age is on screen
  }
}

// ---- verifying ----------------------------------------------------------------------------------

function direction() {
  return el.directionRow.hidden ? "" : el.direction.value;
}

async function verifyOnline(token, scanId, dir) {
  const body = { token, scan_id: scanId };
  if (dir) body.direction = dir;
  const tube = el.tubeRow.hidden ? "" : el.tube.value.trim();
  if (tube) body.tube = tube;
  const response = await postJSON(config.verifyUrl, body, ONLINE_TIMEOUT_MS);
  if (!response.ok) throw Object.assign(new Error("verify"), { status: response.status });
  const verdict = response.data;
  if (verdict.outcome !== "pass" && verdict.outcome !== "deny") throw new Error("unexpected answer");
  return { ...verdict, mode: "online" };
}

async function verifyOffline(token, dir) {
  if (!state.bundle) {
    return {
      outcome: "error",
      mode: "offline",
      reasons: ["设备尚未下载本卡口的公钥,无法离线核验,请联网后重试"],
    };
  }
  try {
    return await FKRules.decide(state.bundle, token, Date.now() / 1000, { direction: dir });
  } catch (error) {
    // VerifierUnavailable (no WebCrypto) or a bug: say so, never guess a verdict.
    return { outcome: "error", mode: "offline", reasons: [error.message || String(error)] };
  }
}

async function handleToken(raw) {
  const token = (raw || "").trim();
  if (!token) {
    el.inputMessage.textContent = "请先扫码或粘贴二维码内容";
    return;
  }
  if (state.busy) return;
  state.busy = true;
  el.verifyButton.disabled = true;
  el.inputMessage.textContent = "正在核验…";
  const scanId = newScanId();
  const dir = direction();
  const scannedAt = new Date();
  let verdict = null;
  let why = "设备离线";
  try {
    if (navigator.onLine) {
      try {
        verdict = pairWithPass(await verifyOnline(token, scanId, dir), token);
      } catch (error) {
        why = describeFailure(error);
      }
    }
    if (!verdict) {
      verdict = pairWithPass(await verifyOffline(token, dir), token);
      if (verdict.outcome === "pass" || verdict.outcome === "deny") {
        enqueue({
          scan_id: scanId,
          // The API refuses longer tokens outright (they are malformed anyway): keep the record.
          token: Array.from(token).slice(0, FKRules.MAX_TOKEN_LENGTH).join(""),
          scanned_at: scannedAt.toISOString(),
          outcome: verdict.outcome,
          reasons: verdict.reasons,
          ...(dir ? { direction: dir } : {}),
        });
      }
    }
    showResult(verdict, verdict.mode === "offline" ? why : "", scannedAt);
    el.input.value = "";
    el.inputMessage.textContent = "";
  } finally {
    state.busy = false;
    el.verifyButton.disabled = false;
  }
}

/** At a road checkpoint the health code scanned right after a vehicle pass must be the
 * driver's own (gate_rules.check_driver_code); its colour is judged by the checkpoint's rules
 * (online the live colour, offline the token's). A pass that is let through waits for it. */
function pairWithPass(verdict, token) {
  const pending = state.pendingPass;
  state.pendingPass = null;
  if (verdict.kind === FKRules.VEHICLE) {
    const claims = FKRules.parse(token).claims;
    verdict.plate = typeof claims.pl === "string" ? claims.pl : "";
    verdict.route = typeof claims.rt === "string" ? claims.rt : "";
    if (verdict.outcome === "pass") {
      state.pendingPass = { claims, at: Date.now(), plate: verdict.plate };
      verdict.awaitingDriver = true;
    }
    return verdict;
  }
  if (verdict.kind !== FKRules.CODE || !pending || Date.now() - pending.at > DRIVER_CODE_WITHIN_MS) {
    return verdict;
  }
  verdict.driverOf = pending.plate || "";
  const paired = FKRules.checkDriverCode(pending.claims, FKRules.parse(token).claims);
  if (!paired.passed) {
    verdict.outcome = "deny";
    verdict.reasons = [...paired.reasons, ...(verdict.reasons || [])];
  }
  return verdict;
}

const COLOUR_CLASSES = new Set(["green", "yellow", "red"]);

function showResult(verdict, why, at) {
  const outcome = verdict.outcome;
  el.result.hidden = false;
  el.result.dataset.outcome = outcome;
  el.result.dataset.mode = verdict.mode;
  el.result.className = `vf-result ${outcome}`;
  el.verdict.textContent = outcome === "pass" ? "通过" : outcome === "deny" ? "不通过" : "无法核验";
  el.mode.textContent = verdict.mode === "online" ? "在线核验" : `离线核验${why ? `(${why})` : ""}`;
  el.name.textContent = verdict.name || "—";
  el.idNumber.textContent = verdict.id_number || "—";
  const colour = verdict.colour || "";
  el.colour.textContent = FKRules.COLOUR_LABELS[colour] || "—";
  el.colour.className = COLOUR_CLASSES.has(colour) ? `code-badge ${colour}` : "";
  el.kind.textContent = FKRules.KIND_LABELS[verdict.kind] || "—";
  el.time.textContent = beijing(at, { seconds: true });
  el.reasons.replaceChildren(
    ...(verdict.reasons || []).map((reason) => {
      const li = document.createElement("li");
      li.textContent = reason;
      return li;
    }),
  );
  const notes = [];
  if (verdict.mode === "offline" && outcome !== "error")
    notes.push("离线核验依据码内信息,未核对实时码色;联网后自动上传复核。");
  if (verdict.sampling) notes.push(verdict.sampling);
  if (verdict.kind === FKRules.VEHICLE && verdict.plate) notes.push(`车牌 ${verdict.plate},路线 ${verdict.route || "—"}。`);
  if (verdict.awaitingDriver) notes.push("请驾驶员随即出示本人健康码。");
  if (verdict.driverOf !== undefined) notes.push(`驾驶员健康码(车辆通行证${verdict.driverOf ? ` ${verdict.driverOf}` : ""})。`);
  el.note.textContent = notes.join(" ");
  el.note.hidden = notes.length === 0;
  if (outcome === "deny" && navigator.vibrate) navigator.vibrate(200);
  el.result.scrollIntoView({ block: "nearest" });
}

// ---- the offline queue --------------------------------------------------------------------------

function enqueue(entry) {
  const queue = load(STORE.queue, []);
  queue.push(entry);
  if (!save(STORE.queue, queue)) el.uploadMessage.textContent = "本机存储已满,离线记录未能保存!";
  renderQueue();
}

function renderQueue() {
  const n = load(STORE.queue, []).length;
  el.queueCount.textContent = `待上传 ${n} 条`;
  el.queueCount.dataset.count = String(n);
  el.uploadButton.disabled = n === 0 || state.uploading;
  const rejected = load(STORE.rejected, []);
  el.rejectedBox.hidden = rejected.length === 0;
  el.rejectedList.replaceChildren(
    ...rejected.map((entry) => {
      const li = document.createElement("li");
      li.textContent = `${beijing(new Date(entry.scanned_at))} ${entry.outcome === "pass" ? "通过" : "不通过"}:${entry.rejected_reason}`;
      return li;
    }),
  );
  el.rejectedBox.querySelector("summary").textContent =
    `${rejected.length} 条记录被服务器拒收(保留在本机,请联系管理员)`;
}

/** POST one batch; the server's answer as {done: scan ids answered, rejected: [entries]}.
 * A batch the API refuses as a whole (4xx: one entry it cannot even read) is split, down to
 * single entries, so one bad record cannot block the queue; a single entry refused like that is
 * set aside with the status as its reason. Network failures, 5xx and auth errors throw: retry. */
async function uploadBatch(batch) {
  const response = await postJSON(config.scansUrl, { scans: batch }, UPLOAD_TIMEOUT_MS);
  const status = response.status;
  const refusedAsWhole = status >= 400 && status < 500 && ![401, 403, 408, 429].includes(status);
  if (refusedAsWhole && batch.length > 1) {
    const half = Math.ceil(batch.length / 2);
    const [a, b] = [await uploadBatch(batch.slice(0, half)), await uploadBatch(batch.slice(half))];
    return { done: [...a.done, ...b.done], rejected: [...a.rejected, ...b.rejected] };
  }
  if (refusedAsWhole) {
    return {
      done: [batch[0].scan_id],
      rejected: [{ ...batch[0], rejected_reason: `服务器拒收(HTTP ${status})` }],
    };
  }
  if (!response.ok) throw Object.assign(new Error("upload"), { status });
  const report = response.data || {};
  // The server has answered for the whole batch: accepted and duplicates are done; an entry it
  // rejected would be rejected again, so it moves aside (kept, shown) instead of looping.
  const reasons = new Map((report.rejected || []).map((r) => [String(r.scan_id), r.reason]));
  return {
    done: batch.map((entry) => entry.scan_id),
    rejected: batch
      .filter((entry) => reasons.has(entry.scan_id))
      .map((entry) => ({ ...entry, rejected_reason: reasons.get(entry.scan_id) })),
  };
}

async function uploadQueue({ manual = false } = {}) {
  if (state.uploading) return;
  if (load(STORE.queue, []).length === 0) {
    if (manual) el.uploadMessage.textContent = "没有待上传的记录";
    renderQueue();
    return;
  }
  state.uploading = true;
  renderQueue();
  let sent = 0;
  try {
    // Batches are cut from the stored queue each time: scans made meanwhile stay for later.
    for (;;) {
      const batch = load(STORE.queue, []).slice(0, UPLOAD_BATCH);
      if (batch.length === 0) break;
      const { done, rejected } = await uploadBatch(batch);
      // Entries leave the queue only now that the server has answered for them.
      if (rejected.length) save(STORE.rejected, [...load(STORE.rejected, []), ...rejected]);
      const answered = new Set(done);
      save(
        STORE.queue,
        load(STORE.queue, []).filter((entry) => !answered.has(entry.scan_id)),
      );
      sent += done.length - rejected.length;
    }
    el.uploadMessage.textContent = sent ? `已上传 ${sent} 条离线记录` : manual ? "没有待上传的记录" : "";
  } catch (error) {
    el.uploadMessage.textContent = `上传失败(${describeFailure(error)}),将自动重试`;
  } finally {
    state.uploading = false;
    renderQueue();
  }
}

// ---- the camera ---------------------------------------------------------------------------------

const camera = { stream: null, timer: 0, canvas: null, context: null, last: "", lastAt: 0 };

function cameraError(error) {
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "SecurityError")
    return "未获准使用摄像头,请在浏览器设置中允许,或粘贴二维码内容";
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError")
    return "未找到摄像头,请粘贴二维码内容";
  if (name === "NotReadableError") return "摄像头被其他程序占用";
  return `无法打开摄像头(${(error && error.message) || name || "未知错误"}),请粘贴二维码内容`;
}

async function startCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    el.cameraMessage.textContent = "此浏览器无法使用摄像头(需通过 HTTPS 打开),请粘贴二维码内容";
    return;
  }
  if (typeof window.jsQR !== "function") {
    el.cameraMessage.textContent = "扫码组件未加载,请刷新页面或粘贴二维码内容";
    return;
  }
  el.cameraMessage.textContent = "正在打开摄像头…";
  try {
    camera.stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: { ideal: "environment" } },
      audio: false,
    });
  } catch (error) {
    camera.stream = null;
    el.cameraMessage.textContent = cameraError(error);
    return;
  }
  el.video.srcObject = camera.stream;
  el.cameraBox.hidden = false;
  try {
    await el.video.play();
  } catch {
    // autoplay refusals resolve once the stream starts; the loop simply waits for frames
  }
  el.cameraButton.textContent = "关闭摄像头";
  el.cameraButton.setAttribute("aria-pressed", "true");
  el.cameraMessage.textContent = "请将二维码对准取景框";
  scanFrame();
}

function stopCamera() {
  clearTimeout(camera.timer);
  if (camera.stream) camera.stream.getTracks().forEach((track) => track.stop());
  camera.stream = null;
  el.video.srcObject = null;
  el.cameraBox.hidden = true;
  el.cameraButton.textContent = "打开摄像头扫码";
  el.cameraButton.setAttribute("aria-pressed", "false");
  el.cameraMessage.textContent = "";
}

function scanFrame() {
  if (!camera.stream) return;
  const video = el.video;
  if (!state.busy && video.readyState >= video.HAVE_ENOUGH_DATA && video.videoWidth) {
    // Scale down: jsQR's cost grows with pixels, and 640 px wide is plenty for a phone screen.
    const scale = Math.min(1, 640 / video.videoWidth);
    const width = Math.round(video.videoWidth * scale);
    const height = Math.round(video.videoHeight * scale);
    if (!camera.canvas) {
      camera.canvas = document.createElement("canvas");
      camera.context = camera.canvas.getContext("2d", { willReadFrequently: true });
    }
    camera.canvas.width = width;
    camera.canvas.height = height;
    camera.context.drawImage(video, 0, 0, width, height);
    const image = camera.context.getImageData(0, 0, width, height);
    const code = window.jsQR(image.data, width, height, { inversionAttempts: "dontInvert" });
    const now = Date.now();
    if (code && code.data && !(code.data === camera.last && now - camera.lastAt < SAME_CODE_PAUSE_MS)) {
      camera.last = code.data;
      camera.lastAt = now;
      handleToken(code.data);
    }
  }
  // About 7 frames a second: quick enough for a held-up phone, light on the device's battery.
  camera.timer = setTimeout(scanFrame, 150);
}

// ---- the service worker -------------------------------------------------------------------------

async function registerServiceWorker() {
  if (!("serviceWorker" in navigator) || !config.swUrl) return;
  try {
    await navigator.serviceWorker.register(config.swUrl, { scope: config.swScope });
    const registration = await navigator.serviceWorker.ready;
    // This page and its files were loaded before the worker could see them: ask it to keep a
    // copy of the page and of every same-origin file it loaded (module imports included), so
    // the page reopens offline after a single visit even if an asset is missing from the
    // worker's precache list.
    const files = performance
      .getEntriesByType("resource")
      .map((entry) => entry.name)
      .filter((name) => new URL(name).origin === location.origin);
    if (registration.active) {
      registration.active.postMessage({ type: "cache-page", url: location.href, files });
    }
  } catch (error) {
    console.warn("service worker not registered", error);
  }
}

// ---- wiring -------------------------------------------------------------------------------------

function start() {
  const cached = load(STORE.bundle, null);
  if (cached) setBundle(cached);
  else renderBundle();
  const savedDirection = load(STORE.direction, "");
  if (savedDirection) el.direction.value = savedDirection;
  renderNetwork();
  renderQueue();

  el.verifyButton.addEventListener("click", () => handleToken(el.input.value));
  el.input.addEventListener("keydown", (event) => {
    // A handheld scanner (扫码枪) types the code and then Enter; a token has no line breaks.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      handleToken(el.input.value);
    }
  });
  el.direction.addEventListener("change", () => save(STORE.direction, el.direction.value));
  el.uploadButton.addEventListener("click", () => uploadQueue({ manual: true }));
  el.cameraButton.addEventListener("click", () => (camera.stream ? stopCamera() : startCamera()));
  document.addEventListener("visibilitychange", () => {
    if (document.hidden && camera.stream) stopCamera(); // never film from a pocket
  });

  window.addEventListener("online", () => {
    renderNetwork();
    refreshBundle();
    uploadQueue();
  });
  window.addEventListener("offline", renderNetwork);
  setInterval(() => {
    if (navigator.onLine) uploadQueue();
  }, UPLOAD_EVERY_MS);
  setInterval(() => {
    if (navigator.onLine) refreshBundle();
    else renderBundle(); // the age on screen keeps counting
  }, BUNDLE_EVERY_MS);

  refreshBundle();
  if (navigator.onLine) uploadQueue();
  registerServiceWorker();
  root.dataset.ready = "true";
}

start();
