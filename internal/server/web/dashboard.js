// Tollgate dashboard: reads /v1/events (Server-Sent Events, authenticated
// by the HttpOnly session cookie) and draws plain SVG. No library, no CDN.
"use strict";
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const queries = new Map(); // name -> snapshot (with history)
  const HISTORY = 120;

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(tag, attrs) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }
  function fmt(v) {
    if (v === undefined || v === null || isNaN(v)) return "–";
    return Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(1);
  }
  function age(s) {
    if (s < 1) return "just now";
    if (s < 90) return Math.round(s) + " s ago";
    if (s < 5400) return Math.round(s / 60) + " min ago";
    return Math.round(s / 3600) + " h ago";
  }

  // sparkline draws one series (array of numbers) as a line.
  function sparkline(values, color) {
    const w = 200, h = 36, s = svg("svg", { viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: "none", height: "36" });
    if (values.length < 2) return s;
    const max = Math.max(1, ...values), min = Math.min(0, ...values);
    const pts = values.map((v, i) => `${(i / (values.length - 1)) * w},${h - 2 - ((v - min) / (max - min)) * (h - 4)}`);
    s.appendChild(svg("polyline", { points: pts.join(" "), fill: "none", stroke: color, "stroke-width": "1.5", "vector-effect": "non-scaling-stroke" }));
    return s;
  }

  function renderQuery(snap) {
    let card = document.querySelector(`[data-query="${CSS.escape(snap.name)}"]`);
    const box = document.getElementById("metrics");
    if (!card) {
      const empty = box.querySelector(".empty");
      if (empty) empty.remove();
      card = el("div", { class: "card", "data-query": snap.name });
      box.appendChild(card);
    }
    card.replaceChildren();
    const h = el("h3", {}, snap.name);
    const badge = el("span", { class: "badge " + (snap.stale ? "stale" : "fresh"), "data-role": "freshness" }, snap.stale ? (snap.restored ? "stale (restored)" : "stale") : "fresh");
    h.appendChild(badge);
    if (snap.stretch > 1) h.appendChild(el("span", { class: "badge warn", "data-role": "stretch" }, `throttled: polling ×${snap.stretch} slower`));
    card.appendChild(h);
    const meta = el("div", { class: "meta", "data-role": "age", "data-fetched": snap.fetched_at }, "");
    card.appendChild(meta);
    updateAge(card, snap);
    const figs = el("div", { class: "figs" });
    const names = Object.keys(snap.numbers || {}).sort();
    for (const n of names) {
      const f = el("div", { class: "fig", "data-metric": n });
      f.appendChild(el("div", { class: "v" }, fmt(snap.numbers[n])));
      f.appendChild(el("div", { class: "n" }, n.replace(/_/g, " ")));
      f.appendChild(sparkline((snap.history || []).map(p => (p.v || {})[n] || 0), "#38bdf8"));
      figs.appendChild(f);
    }
    if (snap.last_error) card.appendChild(el("div", { class: "meta", "data-role": "error" }, "last poll failed: " + snap.last_error));
    card.appendChild(figs);
  }
  function updateAge(card, snap) {
    const meta = card.querySelector('[data-role="age"]');
    if (!meta) return;
    if (!snap.fetched_at || snap.fetched_at.startsWith("0001")) { meta.textContent = `${snap.op} — waiting for the first poll`; return; }
    const a = (Date.now() - Date.parse(snap.fetched_at)) / 1000;
    const every = +(snap.interval * (snap.stretch || 1)).toFixed(2);
    meta.textContent = `${snap.op} every ${every}s — fetched ${age(Math.max(0, a))}`;
  }

  function onMetric(snap) {
    const prev = queries.get(snap.name);
    if (!snap.history) {
      const hist = prev && prev.history ? prev.history.slice() : [];
      if (!hist.length || hist[hist.length - 1].t !== snap.fetched_at) hist.push({ t: snap.fetched_at, v: snap.numbers || {} });
      snap.history = hist.slice(-HISTORY);
    }
    queries.set(snap.name, snap);
    renderQuery(snap);
  }

  // opChart: accepted (green) and throttled (red) per second, stacked, with
  // the quota line (amber, dashed) and the limiter's rate (blue, dotted).
  function opChart(o) {
    const w = 300, h = 90, secs = o.seconds || [];
    // The scale follows the traffic; the quota line is drawn when it is
    // within four times the peak, else named at the top.
    const peak = Math.max(0, ...secs.map(p => p.ok + p.throttled));
    const top = Math.max(2, peak * 1.3, Math.min(Math.max(o.quota, o.rate) * 1.1, Math.max(4, peak * 4)));
    const s = svg("svg", { viewBox: `0 0 ${w} ${h}`, height: "90", preserveAspectRatio: "none", "data-role": "chart" });
    const bw = w / Math.max(1, secs.length);
    secs.forEach((p, i) => {
      const hOk = (p.ok / top) * h, hThr = (p.throttled / top) * h;
      if (p.ok) s.appendChild(svg("rect", { x: i * bw, y: h - hOk, width: Math.max(1, bw - 1), height: hOk, fill: "#4ade80" }));
      if (p.throttled) s.appendChild(svg("rect", { x: i * bw, y: h - hOk - hThr, width: Math.max(1, bw - 1), height: hThr, fill: "#f87171", "data-role": "throttled" }));
    });
    const line = (v, color, dash, role) => {
      const y = h - (v / top) * h;
      s.appendChild(svg("line", { x1: 0, x2: w, y1: y, y2: y, stroke: color, "stroke-dasharray": dash, "stroke-width": "1.5", "data-role": role }));
    };
    if (o.quota && o.quota <= top) line(o.quota, "#fbbf24", "5 3", "quota");
    if (o.rate && o.rate <= top && Math.abs(o.rate - o.quota) > 1e-9) line(o.rate, "#38bdf8", "2 2", "rate");
    if (o.quota > top) {
      const t = svg("text", { x: w - 4, y: 11, "text-anchor": "end", fill: "#fbbf24", "font-size": "10", "data-role": "quota" });
      t.textContent = `quota ${fmt(o.quota)}/s ↑ (scale ${fmt(top)}/s)`;
      s.appendChild(t);
    }
    return s;
  }

  function ms(s) {
    if (s === undefined || s === null) return "–";
    if (s < 0) return "> 30 s";
    return s < 1 ? (s * 1000).toFixed(s < 0.01 ? 2 : 0) + " ms" : s.toFixed(2) + " s";
  }

  // renderGateway: the tollgate gateway's state per caller × operation
  // (serve's gateway_url), or why it could not be read.
  function renderGateway(p) {
    const sec = document.getElementById("gateway-section");
    if (!p) { sec.hidden = true; return; }
    sec.hidden = false;
    const meta = document.getElementById("gateway-meta");
    const body = document.querySelector("#gateway tbody");
    body.replaceChildren();
    if (p.error || !p.state) {
      meta.textContent = p.url + " — unreachable";
      meta.setAttribute("data-role", "gateway-error");
      body.appendChild(el("tr")).appendChild(el("td", { colspan: "9", class: "empty", "data-role": "gateway-error" }, p.error || "no state"));
      return;
    }
    const s = p.state;
    meta.removeAttribute("data-role");
    meta.textContent = `${p.url} — up ${Math.round(s.uptime)} s, ${s.refused_total} refused before forwarding`;
    const rows = s.callers || [];
    if (!rows.length) body.appendChild(el("tr")).appendChild(el("td", { colspan: "9", class: "empty" }, "no calls yet"));
    for (const r of rows) {
      const tr = el("tr", { "data-gateway-row": r.principal + "/" + r.operation });
      const answers = Object.entries(r.answers || {}).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${v} ${k}`).join(", ");
      for (const [role, text] of [["principal", r.principal], ["operation", r.operation], ["admitted", String(r.admitted)],
        ["throttled", String(r.throttled_upstream)], ["answers", answers || "–"], ["refused", String(r.refused)],
        ["waited", ms(r.requests ? r.waited_mean_seconds : null)], ["latency", ms(r.requests ? r.latency_mean_seconds : null)],
        ["p95", ms(r.requests ? r.latency_p95_seconds : null)]]) {
        const td = el("td", { "data-role": role }, text);
        if (role === "throttled" && r.throttled_upstream > 0) td.className = "warn";
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
  }

  // renderPools: one row per quota pool (serve's pools section).
  function renderPools(pools) {
    const sec = document.getElementById("pools-section");
    if (!pools || !pools.length) { sec.hidden = true; return; }
    sec.hidden = false;
    const body = document.querySelector("#pools tbody");
    body.replaceChildren();
    for (const p of pools) {
      const tr = el("tr", { "data-pool": p.name });
      for (const [role, text] of [["name", p.name], ["account", p.account], ["region", p.region], ["health", p.health || (p.healthy ? "ok" : "out")],
        ["delivered", String(p.delivered)], ["throttled", String(p.throttled)], ["in-flight", String(p.in_flight)],
        ["failed", String(p.failed)], ["calls", String(p.calls_in_progress)]]) {
        const td = el("td", { "data-role": role }, text);
        if (role === "health") td.className = p.healthy ? "good" : "warn";
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
  }

  function onState(st) {
    renderPools(st.pools);
    renderGateway(st.gateway);
    document.getElementById("conn").textContent = "live";
    document.getElementById("conn").className = "badge good";
    const r = document.getElementById("redis");
    r.textContent = st.redis === "off" ? "Redis: not used" : "Redis: " + st.redis;
    r.className = "badge " + (st.redis === "off" || st.redis === "shared" ? "" : "warn");
    r.setAttribute("data-mode", st.redis);
    const ops = document.getElementById("ops");
    ops.replaceChildren();
    for (const o of st.ops || []) {
      const c = el("div", { class: "card", "data-op": o.op });
      const h = el("h3", {}, o.op);
      if (o.poll_stretch > 1) h.appendChild(el("span", { class: "badge warn" }, `polls ×${o.poll_stretch}`));
      c.appendChild(h);
      const last = (o.seconds || []).slice(-5);
      const okps = last.reduce((a, p) => a + p.ok, 0) / Math.max(1, last.length);
      const thps = last.reduce((a, p) => a + p.throttled, 0) / Math.max(1, last.length);
      const m = el("div", { class: "meta" });
      m.textContent = `${fmt(okps)}/s accepted · ${fmt(thps)}/s throttled · quota ${fmt(o.quota)}/s burst ${o.burst}` +
        (o.rate && Math.abs(o.rate - o.quota) > 1e-9 ? ` · learned ${o.rate.toFixed(2)}/s` : "") +
        (o.tokens !== undefined && o.tokens !== null ? ` · bucket ${o.tokens.toFixed(1)}` : "");
      c.appendChild(m);
      const t = el("div", { class: "meta", "data-role": "totals", "data-throttled": String(o.throttled_total), "data-accepted": String(o.accepted_total) },
        `since start: ${o.accepted_total} accepted, ${o.throttled_total} throttled`);
      c.appendChild(t);
      c.appendChild(opChart(o));
      const lg = el("div", { class: "legend" });
      for (const [color, label] of [["#4ade80", "accepted"], ["#f87171", "throttled"], ["#fbbf24", "quota"], ["#38bdf8", "learned rate"]]) {
        const i = el("i"); i.style.background = color; lg.appendChild(i); lg.appendChild(document.createTextNode(label));
      }
      c.appendChild(lg);
      ops.appendChild(c);
    }
    const q = st.queue || {};
    const row = document.getElementById("queue");
    row.replaceChildren();
    for (const [k, label] of [["ready", "ready"], ["in_flight", "in flight"], ["delayed", "delayed"], ["dead", "dead letters"], ["succeeded", "succeeded"], ["oldest_age", "oldest job (s)"]]) {
      const c = el("div", { class: "card fig", "data-queue": k });
      c.appendChild(el("div", { class: "v" }, q[k] === undefined ? "–" : fmt(q[k])));
      c.appendChild(el("div", { class: "n" }, label));
      row.appendChild(c);
    }
    const body = document.querySelector("#dead tbody");
    body.replaceChildren();
    const reasons = Object.entries(q.dead_by_reason || {}).sort((a, b) => b[1] - a[1]);
    if (!reasons.length) body.appendChild(el("tr", {}, "")).appendChild(el("td", { colspan: "2", class: "empty" }, "none"));
    for (const [reason, n] of reasons) {
      const tr = el("tr"); tr.appendChild(el("td", {}, reason)); tr.appendChild(el("td", {}, String(n))); body.appendChild(tr);
    }
    const stretch = {};
    for (const o of st.ops || []) stretch[o.op] = o.poll_stretch || 1;
    for (const snap of queries.values()) {
      // The stretch moves between values: take it from the live state.
      if (stretch[snap.op] !== undefined && stretch[snap.op] !== snap.stretch) {
        snap.stretch = stretch[snap.op];
        renderQuery(snap);
      }
      const card = document.querySelector(`[data-query="${CSS.escape(snap.name)}"]`);
      if (card) updateAge(card, snap);
    }
  }

  setInterval(() => { document.getElementById("clock").textContent = new Date().toLocaleTimeString(); }, 1000);
  const es = new EventSource("/v1/events");
  es.addEventListener("metric", e => onMetric(JSON.parse(e.data)));
  es.addEventListener("state", e => onState(JSON.parse(e.data)));
  es.onerror = () => {
    const c = document.getElementById("conn");
    c.textContent = "reconnecting…"; c.className = "badge bad";
  };
})();
