import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { fnv1a32, slotOf, slotDelayMs, slotCount, staggerStart } from "../index.js";

const vectorsPath = fileURLToPath(new URL("../../../stagger/testdata/slots.json", import.meta.url));

test("FNV-1a reference vectors (gateway-and-edges.md §4)", () => {
  const steps = [
    ["", 0x811c9dc5, 1],
    ["a", 0xe40c292c, 40],
    ["foobar", 0xbf9cf968, 40],
    ["agent-0001", 0xcb62ce6e, 2],
    ["jöhn.doe@example.com", 0xac53f369, 33],
    ["用户", 0x1be4cbb9, 13],
  ];
  steps.forEach(([login, hash, mod60], i) => {
    assert.equal(fnv1a32(login), hash, `step ${i}: hash of ${login}`);
    assert.equal(slotOf(login, 60), mod60, `step ${i}: slot of ${login}`);
  });
  assert.equal(fnv1a32("bar", "foo"), fnv1a32("foobar"), "salt is hashed before the login");
});

test("the same slots as Go for the 10,000 shared vectors", () => {
  const lines = readFileSync(vectorsPath, "utf8").split("\n").filter(Boolean);
  assert.equal(lines.length, 10000);
  let mismatches = 0;
  for (const [n, line] of lines.entries()) {
    const [login, salt, slots, hash, slot] = JSON.parse(line);
    if (fnv1a32(login, salt) !== hash || slotOf(login, slots, salt) !== slot) {
      mismatches++;
      if (mismatches < 5) assert.fail(`line ${n + 1}: ${JSON.stringify(login)} salt ${JSON.stringify(salt)}: got ${fnv1a32(login, salt)}/${slotOf(login, slots, salt)}, Go ${hash}/${slot}`);
    }
  }
  assert.equal(mismatches, 0);
});

test("slot delays", () => {
  assert.equal(slotCount(500), 1);
  assert.equal(slotCount(60000), 60);
  assert.equal(slotDelayMs("agent-0001", { windowMs: 60000 }), 2000);
  assert.equal(slotDelayMs("agent-0001", { windowMs: 60000, slotMs: 2000 }), 4000);
  assert.equal(slotDelayMs("a", { windowMs: 0 }), 0);
});

function listen(handler) {
  return new Promise((resolve) => {
    const srv = createServer(handler);
    srv.listen(0, "127.0.0.1", () => resolve(srv));
  });
}

test("uses serve's reservation when it answers", async () => {
  let seen;
  const srv = await listen((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen = { auth: req.headers.authorization, body: JSON.parse(body), method: req.method };
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ delay_ms: 30, start_at: new Date().toISOString(), repeat: false }));
    });
  });
  try {
    const url = `http://127.0.0.1:${srv.address().port}/v1/stagger/reserve`;
    const t0 = Date.now();
    const got = await staggerStart("agent-0001", { reserveUrl: url, token: "desk-token", windowMs: 60000 });
    assert.deepEqual(got, { source: "reserve", delayMs: 30 });
    assert.ok(Date.now() - t0 >= 25, "waited the reservation");
    assert.deepEqual(seen, { auth: "Bearer desk-token", body: { login: "agent-0001" }, method: "POST" });
  } finally {
    srv.close();
  }
});

test("falls back to the hashed slot when serve is down", async () => {
  // A port with nothing listening: connection refused.
  const srv = await listen(() => {});
  const port = srv.address().port;
  await new Promise((r) => srv.close(r));
  const t0 = Date.now();
  const got = await staggerStart("foobar", { reserveUrl: `http://127.0.0.1:${port}/v1/stagger/reserve`, token: "t", windowMs: 600, slotMs: 10 });
  assert.equal(got.source, "fallback");
  assert.equal(got.delayMs, slotDelayMs("foobar", { windowMs: 600, slotMs: 10 }));
  assert.ok(Date.now() - t0 >= got.delayMs - 5, "waited the slot");
  assert.match(got.reason, /fetch failed|ECONNREFUSED/);
});

test("falls back when serve hangs past the timeout", async () => {
  const srv = await listen(() => {}); // never answers
  try {
    const t0 = Date.now();
    const got = await staggerStart("agent-0001", { reserveUrl: `http://127.0.0.1:${srv.address().port}/`, windowMs: 600, slotMs: 10, timeoutMs: 50 });
    assert.equal(got.source, "fallback");
    assert.match(got.reason, /no answer within 50 ms/);
    const waited = Date.now() - t0;
    assert.ok(waited >= 45 && waited < 10000, `waited ${waited} ms`);
  } finally {
    srv.closeAllConnections();
    srv.close();
  }
});

test("falls back on an error answer (wrong token)", async () => {
  const srv = await listen((req, res) => {
    res.statusCode = 401;
    res.end('{"error":{"code":"unauthorized"}}');
  });
  try {
    const got = await staggerStart("x", { reserveUrl: `http://127.0.0.1:${srv.address().port}/`, windowMs: 100, slotMs: 10 });
    assert.equal(got.source, "fallback");
    assert.match(got.reason, /HTTP 401/);
  } finally {
    srv.close();
  }
});

test("abort signal ends the wait", async () => {
  const ctl = new AbortController();
  setTimeout(() => ctl.abort(new Error("page closed")), 20);
  await assert.rejects(staggerStart("foobar", { windowMs: 60000, signal: ctl.signal }), /page closed/);
});

test("rejects an empty login", async () => {
  await assert.rejects(staggerStart(""), TypeError);
});
