// @tollgate/stagger-start: spread agent-desktop start-ups after a shift
// change or a VDI restart. Ask tollgate serve for a reservation; when it
// does not answer in time, wait for the login's FNV-1a slot, the same slot
// the Go planner computes (package stagger). No dependencies.

/** Default time to wait for serve before falling back, in milliseconds. */
export const DEFAULT_TIMEOUT_MS = 2000;
/** Default width of one fallback slot, in milliseconds. */
export const DEFAULT_SLOT_MS = 1000;

const encoder = new TextEncoder();

/**
 * 32-bit FNV-1a of the UTF-8 bytes of str (after those of salt).
 * Math.imul keeps the multiplication exact in 32 bits; >>> 0 makes the
 * result unsigned.
 */
export function fnv1a32(str, salt = "") {
  let h = 0x811c9dc5;
  for (const part of [salt, str]) {
    for (const b of encoder.encode(part)) {
      h ^= b;
      h = Math.imul(h, 0x01000193);
    }
  }
  return h >>> 0;
}

/** Number of slots of slotMs in windowMs (at least 1). */
export function slotCount(windowMs, slotMs = DEFAULT_SLOT_MS) {
  if (!(slotMs > 0)) slotMs = DEFAULT_SLOT_MS;
  const n = Math.floor(windowMs / slotMs);
  return n >= 1 ? Math.min(n, 0x7fffffff) : 1;
}

/** The login's slot in [0, slots). */
export function slotOf(login, slots, salt = "") {
  if (!(slots >= 1)) return 0;
  return fnv1a32(login, salt) % Math.floor(slots);
}

/** Delay of the login's fallback slot from the common start, in ms. */
export function slotDelayMs(login, { windowMs, slotMs = DEFAULT_SLOT_MS, salt = "" } = {}) {
  if (!(slotMs > 0)) slotMs = DEFAULT_SLOT_MS;
  return slotOf(login, slotCount(windowMs || 0, slotMs), salt) * slotMs;
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    function onAbort() {
      clearTimeout(t);
      reject(signal.reason);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

async function reserve(login, { reserveUrl, token, timeoutMs, fetchImpl, signal }) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  const onAbort = () => ctl.abort(signal.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const res = await fetchImpl(reserveUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify({ login }),
      signal: ctl.signal,
    });
    if (!res.ok) throw new Error(`reserve: HTTP ${res.status}`);
    const body = await res.json();
    if (!Number.isFinite(body?.delay_ms) || body.delay_ms < 0) throw new Error("reserve: bad answer");
    return body.delay_ms;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Wait until this agent may start, then resolve with how the delay was
 * chosen: { source: "reserve" | "fallback", delayMs, reason? }.
 * Call it before connect.core.initCCP(...) or the desktop's first backend
 * call.
 */
export async function staggerStart(login, options = {}) {
  const {
    reserveUrl,
    token = "",
    windowMs = 0,
    slotMs = DEFAULT_SLOT_MS,
    salt = "",
    timeoutMs = DEFAULT_TIMEOUT_MS,
    signal,
    fetch: fetchImpl = globalThis.fetch,
  } = options;
  if (typeof login !== "string" || login === "") throw new TypeError("staggerStart: login must be a non-empty string");
  const begin = Date.now();
  let reason = "no reserveUrl";
  if (reserveUrl && typeof fetchImpl === "function") {
    try {
      const delayMs = await reserve(login, { reserveUrl, token, timeoutMs, fetchImpl, signal });
      await sleep(delayMs, signal);
      return { source: "reserve", delayMs };
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      reason = err?.message || String(err);
    }
  }
  const slot = slotDelayMs(login, { windowMs, slotMs, salt });
  const delayMs = Math.max(0, slot - (Date.now() - begin));
  await sleep(delayMs, signal);
  return { source: "fallback", delayMs: slot, reason };
}
