// 防控 · offline checkpoint rules: a faithful JavaScript mirror of the server's pure engine,
//   fangkong/engine/tokens.py      (compact JWS, EdDSA over Ed25519: parse and verify)
//   fangkong/engine/gate_rules.py  (check_code, check_exit_pass, check_vehicle_pass,
//                                   check_driver_code)
// so that a checkpoint device without network reaches the same decision, with the same reason
// texts, as the server would. fangkong/checkpoints/tests/test_verifier_js.py runs both on the same
// tokens and compares. Change the two together.
//
// An ES module (no build step): it imports the vendored @noble/ed25519 by a relative URL, which
// Django's static files and the verifier's service worker both serve, and also sets
// `window.FKRules` for plain scripts and tests. Times are Unix seconds; `now` is always passed in
// (never read from the clock here) so the tests and the page decide the moment.

import * as ed from "../vendor/noble-ed25519-3.2.0.js";

// ---------------------------------------------------------------------------------------------
// tokens.py
// ---------------------------------------------------------------------------------------------

export const CODE = "fk-code";
export const EXIT = "fk-exit";
export const VEHICLE = "fk-vehicle";
export const KIND_LABELS = { [CODE]: "健康码", [EXIT]: "出入通行码(易行码)", [VEHICLE]: "车辆通行证" };
export const ALGORITHM = "EdDSA";
// Phones and verifier clocks drift; a token "issued" this far in the future is still accepted.
export const CLOCK_LEEWAY_SECONDS = 60;
export const MAX_TOKEN_LENGTH = 2048;

export const MALFORMED = "malformed";
export const UNKNOWN_KEY = "unknown_key";
export const REVOKED_KEY = "revoked_key";
export const BAD_SIGNATURE = "bad_signature";
export const WRONG_KIND = "wrong_kind";
export const EXPIRED = "expired";
export const NOT_YET_VALID = "not_yet_valid";

export const REASONS = {
  [MALFORMED]: "无法识别的二维码",
  [UNKNOWN_KEY]: "签名密钥未知(请更新核验设备的公钥)",
  [REVOKED_KEY]: "签名密钥已吊销,此码无效",
  [BAD_SIGNATURE]: "签名校验失败,此码可能被篡改",
  [WRONG_KIND]: "此处不接受该类型的码",
  [EXPIRED]: "二维码已过期,请刷新后重新出示",
  [NOT_YET_VALID]: "二维码尚未生效",
};

/** A token that must be denied; `code` is stable for programs, `reason` is for people. */
export class TokenError extends Error {
  constructor(code, detail = "") {
    const reason = REASONS[code] + (detail ? `(${detail})` : "");
    super(reason);
    this.name = "TokenError";
    this.code = code;
    this.reason = reason;
  }
}

/** Thrown when this browser cannot verify at all (no WebCrypto outside a secure context): not a
 * verdict on the token, so the page says so instead of denying the person. */
export class VerifierUnavailable extends Error {}

// Python dicts answer only their own keys; JS objects also answer "constructor", "toString"...
const own = (obj, key) => (Object.hasOwn(obj, key) ? obj[key] : undefined);

// A JSON number written with a fraction or exponent is a Python float, not an int, and
// tokens.py refuses it where it wants an int (iat, exp) and gate_rules ignores it (pcr, ag).
// JSON.parse loses that distinction, so such numbers are kept as PyFloat.
class PyFloat {
  constructor(value) {
    this.value = value;
  }
  valueOf() {
    return this.value;
  }
  toJSON() {
    return this.value;
  }
}

// isinstance(v, int): Python's bool is an int too.
const isPyInt = (v) => typeof v === "number" || typeof v === "boolean";
// isinstance(v, int) and not isinstance(v, bool), as _parse requires of iat and exp.
const isStrictInt = (v) => typeof v === "number";
const isDict = (v) => v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;

// str.strip(): Python's whitespace (str.isspace), which is not quite String.prototype.trim's.
const PY_SPACE =
  "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "g");
const pyStrip = (text) => text.replace(PY_STRIP, "");

// len() and slicing count code points, not UTF-16 units.
const pyLength = (text) => (text.length > 2 * MAX_TOKEN_LENGTH ? text.length : Array.from(text).length);
const pySlice = (text, end) => Array.from(text).slice(0, end).join("");

const B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64_VALUE = new Map(Array.from(B64_ALPHABET, (c, i) => [c, i]));

/** tokens.b64decode: unpadded base64url to bytes. Mirrors Python's lenient decoder exactly:
 * '=', '+', '/', space and newline are refused up front; any other ASCII character outside the
 * alphabet is skipped; non-ASCII is refused; padding is counted on the text as given. */
export function b64decode(text) {
  if (typeof text !== "string" || !text || /[=+/ \n]/.test(text)) throw new Error("not base64url");
  const values = [];
  for (const c of text) {
    if (c.codePointAt(0) > 0x7f) throw new Error("not ASCII");
    const v = B64_VALUE.get(c);
    if (v !== undefined) values.push(v);
  }
  const leftover = values.length % 4;
  const padding = (4 - (text.length % 4)) % 4;
  const padded = leftover === 0 || (leftover === 2 && padding >= 2) || (leftover === 3 && padding >= 1);
  if (!padded) throw new Error("incorrect padding");
  const out = new Uint8Array(Math.floor((values.length * 3) / 4));
  let o = 0;
  for (let i = 0; i < values.length; i += 4) {
    const [a, b, c = 0, d = 0] = values.slice(i, i + 4);
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = (n >> 16) & 0xff;
    if (o < out.length) out[o++] = (n >> 8) & 0xff;
    if (o < out.length) out[o++] = n & 0xff;
  }
  return out;
}

/** json.loads(bytes): Python guesses UTF-8/16 from the first bytes (a UTF-8 BOM is allowed) and
 * keeps float-looking numbers apart from ints. UTF-32 is not decoded here (only forged tokens
 * would use it), so such a token is malformed here but may reach the signature check there. */
function pyJsonLoads(bytes) {
  let encoding = "utf-8";
  const [b0, b1, b2, b3] = bytes;
  if (
    (b0 === 0 && b1 === 0 && b2 === 0xfe && b3 === 0xff) ||
    (b0 === 0xff && b1 === 0xfe && b2 === 0 && b3 === 0)
  ) {
    encoding = "utf-32";
  } else if ((b0 === 0xfe && b1 === 0xff) || (b0 === 0xff && b1 === 0xfe)) encoding = "utf-16";
  else if (bytes.length >= 4 && b0 === 0) encoding = b1 ? "utf-16be" : "utf-32";
  else if (bytes.length >= 4 && b1 === 0) encoding = b2 || b3 ? "utf-16le" : "utf-32";
  else if (bytes.length === 2 && b0 === 0) encoding = "utf-16be";
  else if (bytes.length === 2 && b1 === 0) encoding = "utf-16le";
  if (encoding === "utf-32") throw new Error("UTF-32 JSON");
  if (encoding === "utf-16") encoding = b0 === 0xfe ? "utf-16be" : "utf-16le";
  // fatal: invalid UTF-8 is an error (UnicodeDecodeError there; Python's "surrogatepass" would
  // still let UTF-8-encoded surrogates through); the BOM is dropped, as utf-8-sig does.
  const text = new TextDecoder(encoding, { fatal: true }).decode(bytes);
  return JSON.parse(text, function (key, value, context) {
    // context.source (JSON.parse source text access) is the number as written. A browser without
    // it counts 1e9 as an int: only a forged token could hold one, and it is then denied for its
    // signature instead of its shape.
    if (typeof value === "number" && context && /[.eE]/.test(context.source)) return new PyFloat(value);
    return value;
  });
}

/** tokens._parse: {header, claims, signature, signingInput} or TokenError(MALFORMED). */
export function parse(token) {
  if (typeof token !== "string") throw new TokenError(MALFORMED);
  token = pyStrip(token);
  if (pyLength(token) > MAX_TOKEN_LENGTH || token.split(".").length !== 3) {
    throw new TokenError(MALFORMED);
  }
  const [headerB64, payloadB64, signatureB64] = token.split(".");
  let header, claims, signature;
  try {
    header = pyJsonLoads(b64decode(headerB64));
    claims = pyJsonLoads(b64decode(payloadB64));
    signature = b64decode(signatureB64);
  } catch {
    throw new TokenError(MALFORMED);
  }
  if (!isDict(header) || !isDict(claims)) throw new TokenError(MALFORMED);
  if (own(header, "alg") !== ALGORITHM || typeof own(header, "kid") !== "string") {
    throw new TokenError(MALFORMED, "签名算法不符");
  }
  for (const name of ["iat", "exp", "nbf"]) {
    if (name === "nbf" && own(claims, name) === undefined) continue; // optional
    if (!isStrictInt(own(claims, name))) throw new TokenError(MALFORMED, `缺少${name}`);
  }
  // Every character left is ASCII (b64decode refused the rest), so this is the exact input.
  const signingInput = new TextEncoder().encode(`${headerB64}.${payloadB64}`);
  return { header, claims, signature, signingInput };
}

/** An ISO 8601 time (datetime.isoformat(), as the bundle's revoked_at) in Unix seconds, keeping
 * microseconds, which Date.parse would drop. */
export function isoToSeconds(text) {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(
      String(text).trim(),
    );
  if (!m) {
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? null : ms / 1000;
  }
  const [, y, mo, d, h, mi, s = "0", frac = "", zone = "Z"] = m;
  let seconds = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s) / 1000 + (frac ? Number(`0.${frac}`) : 0);
  if (zone.toUpperCase() !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    seconds -= sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2)) * 60);
  }
  return seconds;
}

/** The published key set (GET /api/keys, or a checkpoint bundle) as kid → {kid, raw, revokedAt}.
 * The server lists revoked keys only under "revoked" (without the key): they are still entered
 * here, so such a token is denied as revoked, as the server does, not as unknown. A JWK that is
 * not an Ed25519 public key is left out, as the server could never have loaded it. */
export function keysFromBundle(bundle) {
  const keys = new Map();
  for (const jwk of (bundle && bundle.keys) || []) {
    if (!jwk || jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || typeof jwk.kid !== "string") continue;
    let raw;
    try {
      raw = b64decode(jwk.x);
    } catch {
      continue;
    }
    if (raw.length !== 32) continue;
    keys.set(jwk.kid, { kid: jwk.kid, raw, revokedAt: null });
  }
  for (const entry of (bundle && bundle.revoked) || []) {
    if (!entry || typeof entry.kid !== "string") continue;
    // A revocation time that cannot be read counts as long past: refuse rather than trust.
    const revokedAt = isoToSeconds(entry.revoked_at) ?? -Infinity;
    const known = keys.get(entry.kid);
    keys.set(entry.kid, { kid: entry.kid, raw: known ? known.raw : null, revokedAt });
  }
  return keys;
}

async function signatureHolds(signature, message, raw) {
  if (!globalThis.crypto || !globalThis.crypto.subtle) {
    // noble hashes with crypto.subtle, which browsers offer only over HTTPS or on localhost.
    throw new VerifierUnavailable("此浏览器无法离线验签(需通过 HTTPS 打开核验页面)");
  }
  try {
    // zip215: false is RFC 8032's strict verification (canonical encodings, S < L), the rule
    // OpenSSL applies on the server; the default (ZIP-215) would accept a few more encodings.
    return await ed.verifyAsync(signature, message, raw, { zip215: false });
  } catch {
    return false; // wrong lengths, points off the curve: not a valid signature
  }
}

/** tokens.verify: {kind, kid, claims} if the token is genuine, of an accepted kind and valid at
 * `now` (Unix seconds); otherwise throws TokenError. `keys` is keysFromBundle(...) or a bundle. */
export async function verify(token, keys, now, kinds = [CODE]) {
  if (!(keys instanceof Map)) keys = keysFromBundle(keys);
  const { header, claims, signature, signingInput } = parse(token);
  const kid = header.kid;
  const known = keys.get(kid);
  const revoked = known !== undefined && known.revokedAt !== null && known.revokedAt <= now;
  // A key listed only as revoked (no key material) is known for the purpose of saying so.
  if (known === undefined || (known.raw === null && !revoked))
    throw new TokenError(UNKNOWN_KEY, pySlice(kid, 16));
  if (revoked) throw new TokenError(REVOKED_KEY);
  if (!(await signatureHolds(signature, signingInput, known.raw))) throw new TokenError(BAD_SIGNATURE);
  const kind = own(header, "typ");
  if (!kinds.includes(kind)) {
    const label =
      typeof kind === "string" && Object.hasOwn(KIND_LABELS, kind) ? KIND_LABELS[kind] : "未知类型";
    throw new TokenError(WRONG_KIND, `出示的是${label}`);
  }
  const at = Math.trunc(now); // int(now.timestamp())
  if (claims.exp <= at) throw new TokenError(EXPIRED, `已过期${ago(now - claims.exp)}`);
  const nbf = Object.hasOwn(claims, "nbf") ? claims.nbf : 0;
  if (claims.iat > at + CLOCK_LEEWAY_SECONDS || nbf > at) throw new TokenError(NOT_YET_VALID);
  return { kind, kid, claims };
}

/** tokens._ago */
function ago(deltaSeconds) {
  const seconds = Math.trunc(deltaSeconds);
  if (seconds < 120) return `${seconds}秒`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}分钟`;
  if (seconds < 3 * 86400) return `${Math.floor(seconds / 3600)}小时`;
  return "很久";
}

// ---------------------------------------------------------------------------------------------
// gate_rules.py
// ---------------------------------------------------------------------------------------------

export const COLOURS = ["green", "yellow", "red"];
export const COLOUR_LABELS = { green: "绿码", yellow: "黄码", red: "红码" };
export const ZONE_LABELS = { lockdown: "封控区", control: "管控区", prevention: "防范区" };
// Asia/Shanghai: UTC+8 all year (no daylight saving since 1991).
const LOCAL_OFFSET = 8 * 3600;
const DAY = 24 * 3600;

/** gate_rules.Requirements with its defaults, from a bundle's "requirements". */
export function requirements(data = {}) {
  const get = (key, fallback) => (data && Object.hasOwn(data, key) ? data[key] : fallback);
  return {
    kinds: get("kinds", [CODE]),
    colours: get("colours", ["green"]),
    pcr_negative_within_hours: get("pcr_negative_within_hours", null),
    antigen_negative_today: get("antigen_negative_today", false),
    records_sampling: get("records_sampling", false),
  };
}

/** {passed, reasons}, as gate_rules.Decision.of */
const decision = (reasons) => ({ passed: reasons.length === 0, reasons });

/** gate_rules._local: "%m-%d %H:%M" in Beijing time. */
export function localTime(ts) {
  const d = new Date((Number(ts) + LOCAL_OFFSET) * 1000);
  const two = (n) => String(n).padStart(2, "0");
  return `${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
}

/** gate_rules.start_of_local_day, in Unix seconds. */
export function startOfLocalDay(now) {
  return Math.floor((now + LOCAL_OFFSET) / DAY) * DAY - LOCAL_OFFSET;
}

function testingReasons(claims, now, withinHours) {
  if (withinHours === null || withinHours === undefined) return [];
  const pcr = own(claims, "pcr");
  if (!isPyInt(pcr)) return [`无${withinHours}小时内核酸阴性记录`];
  const hours = (now - Number(pcr)) / 3600;
  if (hours > withinHours) {
    return [
      `无${withinHours}小时内核酸阴性记录(最近一次阴性采样于${localTime(pcr)},` +
        `距今${Math.trunc(hours)}小时)`,
    ];
  }
  return [];
}

/** gate_rules.check_code: pass or deny a health code at a checkpoint. Online, `liveColour` (the
 * stored code now) overrides the token's colour; offline there is none. */
export function checkCode(req, claims, now, liveColour = null) {
  req = requirements(req);
  const reasons = [];
  const colour = liveColour || own(claims, "col");
  if (!req.colours.includes(colour)) {
    const wanted = req.colours.map((c) => COLOUR_LABELS[c]).join("或");
    const label =
      typeof colour === "string" && Object.hasOwn(COLOUR_LABELS, colour) ? COLOUR_LABELS[colour] : "未知";
    reasons.push(`健康码为${label},此处要求${wanted}`);
  }
  reasons.push(...testingReasons(claims, now, req.pcr_negative_within_hours));
  if (req.antigen_negative_today) {
    const antigen = own(claims, "ag");
    if (!isPyInt(antigen) || Number(antigen) < startOfLocalDay(now)) reasons.push("今日无抗原自测阴性记录");
  }
  return decision(reasons);
}

/** gate_rules.check_exit_pass: at the compound gate the pass must be for this community, and
 * (online) the community must not have been placed under control since. Offline the zone level
 * is unknown: pass null. */
export function checkExitPass(claims, { communityCode, zoneLevel = null }) {
  const reasons = [];
  if (own(claims, "com") !== communityCode) reasons.push("此通行码不属于本小区");
  if (zoneLevel === "lockdown" || zoneLevel === "control") {
    reasons.push(`小区已调整为${ZONE_LABELS[zoneLevel]},通行码停用`);
  }
  return decision(reasons);
}

export const VEHICLE_REVOKED = "通行证已吊销";
export const NOT_THE_DRIVER = "健康码不是通行证登记的驾驶员本人";

/** gate_rules.check_vehicle_pass: not revoked, within nbf–exp, the plate (when typed), and the
 * driver's colour — null offline, where the driver's own code scanned next decides. */
export function checkVehiclePass(claims, now, { driverColour = null, plate = null, revoked = false } = {}) {
  const reasons = [];
  if (revoked) reasons.push(VEHICLE_REVOKED);
  const start = own(claims, "nbf");
  const end = own(claims, "exp");
  const ints = isPyInt(start) && !(start instanceof PyFloat) && isPyInt(end) && !(end instanceof PyFloat);
  if (!ints || !(Number(start) <= now && now < Number(end))) {
    const window = ints ? `${localTime(start)}至${localTime(end)}` : "未知";
    reasons.push(`通行证有效期为${window},当前不在有效期内`);
  }
  if (plate !== null && plate.replaceAll(" ", "").toUpperCase() !== own(claims, "pl")) {
    const registered = own(claims, "pl");
    reasons.push(`车牌${plate}与通行证登记的${registered === undefined ? "未知" : registered}不符`);
  }
  if (driverColour !== null && driverColour !== "green") {
    const label = Object.hasOwn(COLOUR_LABELS, driverColour) ? COLOUR_LABELS[driverColour] : "未知";
    reasons.push(`驾驶员健康码为${label},车辆通行证暂停使用`);
  }
  return decision(reasons);
}

/** gate_rules.check_driver_code: the code scanned right after a pass is the driver's own. */
export function checkDriverCode(passClaims, codeClaims) {
  const sub = own(passClaims, "sub");
  if (typeof sub !== "string" || sub !== own(codeClaims, "sub")) return decision([NOT_THE_DRIVER]);
  return decision([]);
}

// ---------------------------------------------------------------------------------------------
// The offline verdict for one scan (what checkpoints.actions._judge does online, minus what only
// the server knows: the live colour, the holder's record, the zone now, passes already used).
// ---------------------------------------------------------------------------------------------

export const CHOOSE_DIRECTION = "请选择出门或回小区";

/** A verdict shaped like the server's verify answer, with mode "offline". `bundle` is the
 * checkpoint bundle (GET /api/checkpoints/{id}/bundle); `direction` is "exit" or "return" at a
 * compound gate. Throws VerifierUnavailable if this browser cannot check signatures. */
export async function decide(bundle, token, now, { direction = "" } = {}) {
  const req = requirements(bundle && bundle.requirements);
  const verdict = {
    outcome: "deny",
    reasons: [],
    kind: "",
    colour: "",
    name: "",
    id_number: "",
    mode: "offline",
  };
  let verified;
  try {
    verified = await verify(token, keysFromBundle(bundle), now, req.kinds);
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    verdict.reasons = [error.reason];
    return verdict;
  }
  const { kind, claims } = verified;
  const text = (v) => (typeof v === "string" ? v : "");
  Object.assign(verdict, {
    kind,
    colour: text(own(claims, "col")),
    name: text(own(claims, "nm")),
    id_number: text(own(claims, "idm")),
  });
  let result;
  if (kind === VEHICLE) {
    // The pass itself: signature, validity and the revocation list downloaded with the bundle
    // (GET /api/passes/revoked); the driver's own code is scanned next (the page pairs them).
    const revokedPasses = (bundle && bundle.revoked_passes) || [];
    const revoked = revokedPasses.includes(own(claims, "pid"));
    result = checkVehiclePass(claims, now, { revoked });
    verdict.plate = text(own(claims, "pl"));
    verdict.route = text(own(claims, "rt"));
  } else if (kind === CODE) {
    // The bundle's requirements, judged on the colour the token was issued with.
    result = checkCode(req, claims, now);
  } else if (direction !== "exit" && direction !== "return") {
    result = decision([CHOOSE_DIRECTION]);
  } else {
    const communityCode = bundle && bundle.checkpoint ? bundle.checkpoint.community : null;
    result = checkExitPass(claims, { communityCode, zoneLevel: null });
  }
  verdict.outcome = result.passed ? "pass" : "deny";
  verdict.reasons = result.reasons;
  return verdict;
}

export const FKRules = Object.freeze({
  CODE,
  EXIT,
  VEHICLE,
  VEHICLE_REVOKED,
  NOT_THE_DRIVER,
  KIND_LABELS,
  REASONS,
  CLOCK_LEEWAY_SECONDS,
  MAX_TOKEN_LENGTH,
  COLOURS,
  COLOUR_LABELS,
  ZONE_LABELS,
  CHOOSE_DIRECTION,
  TokenError,
  VerifierUnavailable,
  b64decode,
  parse,
  isoToSeconds,
  keysFromBundle,
  verify,
  requirements,
  localTime,
  startOfLocalDay,
  checkCode,
  checkExitPass,
  checkVehiclePass,
  checkDriverCode,
  decide,
});

globalThis.FKRules = FKRules;
export default FKRules;
