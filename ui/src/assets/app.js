// The Squall run page: polls /api/v1/topology (and /api/v1/job) and draws the graph, tables
// and plots. No library: the graph and plots are hand-made SVG. In report.html the data is
// embedded as window.SQUALL_STATIC and nothing is polled.
"use strict";

const POLL_MS = 500;
const SVG = "http://www.w3.org/2000/svg";
const COLORS = ["#2f6fb3", "#c0392b", "#2e8b57", "#d28a16"];

function el(tag, attrs, ...children) {
  const svg = ["svg", "g", "rect", "text", "path", "line", "polyline", "defs", "marker", "title"].includes(tag);
  const e = svg ? document.createElementNS(SVG, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function count(n) { return Math.round(n).toLocaleString("en-US"); }

function rate(n) {
  if (n >= 1e6) return (n / 1e6).toFixed(2) + "M";
  if (n >= 1e4) return (n / 1e3).toFixed(1) + "k";
  return n.toFixed(n >= 100 ? 0 : 1);
}

function micros(us) {
  if (us === null || us === undefined) return "-";
  if (us === 0) return "0";
  if (us < 1000) return us.toFixed(us < 10 ? 2 : 1) + " µs";
  if (us < 1e6) return (us / 1000).toFixed(2) + " ms";
  return (us / 1e6).toFixed(2) + " s";
}

function bar(fraction) {
  const f = Math.max(0, Math.min(1, fraction || 0));
  const cls = f >= 0.8 ? "bad" : f >= 0.5 ? "warn" : "";
  return el("span", { class: "bar" }, el("i", { class: cls, style: `width:${(f * 100).toFixed(1)}%` }));
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

// ---- graph -----------------------------------------------------------------------------

const NODE_W = 180, NODE_H = 66, COL = 310, ROW = 110, PAD = 24, TOP = 70;

// Layers by longest path from a source; components arrive producers first.
function layout(components, edges) {
  const layer = {};
  for (const c of components) {
    const ins = edges.filter(e => e.to === c.id).map(e => layer[e.from] ?? 0);
    layer[c.id] = ins.length ? Math.max(...ins) + 1 : 0;
  }
  const rows = {};
  const pos = {};
  for (const c of components) {
    const l = layer[c.id];
    rows[l] = (rows[l] ?? 0) + 1;
    pos[c.id] = { x: PAD + l * COL, y: TOP + (rows[l] - 1) * ROW, layer: l };
  }
  const width = PAD * 2 + Math.max(0, ...Object.values(layer)) * COL + NODE_W;
  const height = TOP + PAD + (Math.max(1, ...Object.values(rows)) - 1) * ROW + NODE_H;
  return { pos, width, height };
}

function drawGraph(t) {
  const { pos, width, height } = layout(t.components, t.edges);
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, width, height, id: "graph-svg" });
  svg.append(el("defs", {}, el("marker", {
    id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 8, markerHeight: 8,
    orient: "auto-start-reverse",
  }, el("path", { d: "M0,0 L10,5 L0,10 z", fill: "#8a99a8" }))));
  const byOrigin = {};
  for (const e of t.edges) {
    const a = pos[e.from], b = pos[e.to];
    if (!a || !b) continue;
    const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x, y2 = b.y + NODE_H / 2;
    const mid = (x1 + x2) / 2;
    const n = byOrigin[e.from + ">" + e.to] = (byOrigin[e.from + ">" + e.to] ?? 0) + 1;
    const label = `${e.grouping} · ${e.stream}`;
    // An edge that skips layers arcs over the nodes between, leaving from and reaching the
    // tops of the boxes.
    const skips = b.layer - a.layer > 1;
    const d = skips
      ? `M${a.x + NODE_W / 2},${a.y} C${a.x + NODE_W / 2},${a.y - 55} ${b.x + NODE_W / 2},${b.y - 55} ${b.x + NODE_W / 2},${b.y}`
      : `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`;
    const ly = skips ? Math.min(a.y, b.y) - 46 : (y1 + y2) / 2 - 6 + (n - 1) * 14;
    const lx = skips ? (a.x + b.x + NODE_W) / 2 : mid;
    svg.append(el("g", { class: "edge", "data-from": e.from, "data-to": e.to, "data-grouping": e.grouping, "data-stream": e.stream },
      el("path", { d, "marker-end": "url(#arrow)" }),
      el("text", { x: lx, y: ly, "text-anchor": "middle" }, label)));
  }
  for (const c of t.components) {
    const p = pos[c.id];
    const live = c.kind === "spout"
      ? `${rate(c.rates.emitted)} emitted/s`
      : `${rate(c.rates.executed)} executed/s`;
    const cap = c.kind === "bolt" ? ` · cap ${(c.capacity * 100).toFixed(0)}%` : "";
    svg.append(el("g", { class: `node ${c.kind}`, "data-id": c.id, transform: `translate(${p.x},${p.y})` },
      el("title", {}, `${c.id}: ${count(c.emitted)} emitted, ${count(c.executed)} executed`),
      el("rect", { width: NODE_W, height: NODE_H, rx: 8 }),
      el("text", { class: "id", x: 10, y: 19 }, c.id),
      el("text", { class: "sub", x: NODE_W - 10, y: 19, "text-anchor": "end" }, `${c.kind} ×${c.parallelism}`),
      el("text", { class: "rate", x: 10, y: 38 }, live),
      el("text", { class: "sub", x: 10, y: 55 }, `queue ${c.queue_depth}${cap}${c.restarts ? ` · ${c.restarts} restarts` : ""}`)));
  }
  document.getElementById("graph").replaceChildren(svg);
}

// ---- plots -----------------------------------------------------------------------------

const PW = 560, PH = 260, ML = 64, MR = 28, MT = 12, MB = 36;

// A line chart; series: [{name, points: [[x, y]], color}]; x may be the percentile axis.
function chart(series, opts) {
  const svg = el("svg", { viewBox: `0 0 ${PW} ${PH}`, width: PW, height: PH });
  const pts = series.flatMap(s => s.points).filter(p => p[1] !== null);
  const ymax = Math.max(1e-9, ...pts.map(p => p[1])) * 1.1;
  let xmin, xmax, fx, xticks;
  if (opts.nines) {
    const widest = Math.max(1, ...pts.map(p => p[0]));
    const nines = Math.max(5, Math.ceil(Math.log10(widest)));
    xmin = 0; xmax = nines;
    fx = x => Math.log10(Math.max(1, x));
    xticks = [[0, "0%"], [Math.log10(2), "50%"]];
    for (let k = 1; k <= nines; k++) xticks.push([k, (100 - 100 / 10 ** k).toFixed(Math.max(0, k - 2)) + "%"]);
  } else {
    xmin = Math.min(...pts.map(p => p[0]), 0);
    xmax = Math.max(xmin + 1, ...pts.map(p => p[0]));
    fx = x => x;
    xticks = [];
    const step = niceStep((xmax - xmin) / 6);
    for (let x = Math.ceil(xmin / step) * step; x <= xmax; x += step) xticks.push([x, opts.xfmt ? opts.xfmt(x) : x]);
  }
  const sx = x => ML + (fx(x) - xmin) / (xmax - xmin) * (PW - ML - MR);
  const sxRaw = v => ML + (v - xmin) / (xmax - xmin) * (PW - ML - MR);
  const sy = y => PH - MB - y / ymax * (PH - MT - MB);
  const axis = el("g", { class: "axis" });
  for (const [v, label] of xticks) {
    const x = sxRaw(v);
    axis.append(el("line", { x1: x, x2: x, y1: MT, y2: PH - MB }), el("text", { x, y: PH - MB + 16, "text-anchor": "middle" }, label));
  }
  const ystep = niceStep(ymax / 5);
  for (let y = 0; y <= ymax; y += ystep) {
    axis.append(el("line", { x1: ML, x2: PW - MR, y1: sy(y), y2: sy(y) }),
      el("text", { x: ML - 6, y: sy(y) + 4, "text-anchor": "end" }, opts.yfmt(y)));
  }
  axis.append(el("text", { x: (ML + PW - MR) / 2, y: PH - 4, "text-anchor": "middle" }, opts.xlabel));
  svg.append(axis);
  for (const s of series) {
    const line = s.points.filter(p => p[1] !== null).map(p => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(" ");
    svg.append(el("polyline", { class: "series", "data-series": s.name, points: line, stroke: s.color }));
  }
  const legend = el("div", { class: "legend" }, ...series.map(s => el("span", {}, el("i", { style: `background:${s.color}` }), s.name)));
  return [legend, svg];
}

function niceStep(raw) {
  if (!(raw > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}

function drawLatency(t) {
  const l = t.latency_us;
  const plot = document.getElementById("latency-plot");
  if (!l.count) {
    plot.replaceChildren(el("p", { class: "note" }, "no end-to-end latency samples yet"));
  } else {
    plot.replaceChildren(...chart([{ name: "end-to-end", color: COLORS[0], points: l.distribution }],
      { nines: true, xlabel: "percentile", yfmt: micros }));
  }
  const rows = [["samples", count(l.count)], ["p50", micros(l.p50)], ["p90", micros(l.p90)], ["p99", micros(l.p99)],
    ["p99.9", micros(l.p999)], ["p99.99", micros(l.p9999)], ["max", micros(l.max)]];
  document.getElementById("latency-table").replaceChildren(el("table", { id: "latency-percentiles" },
    el("tbody", {}, el("tr", {}, ...rows.map(r => el("th", {}, r[0]))), el("tr", {}, ...rows.map(r => el("td", { "data-p": r[0] }, r[1]))))));
  const tl = t.timeline;
  const secs = x => `${x.toFixed(0)}s`;
  document.getElementById("timeline-plot").replaceChildren(...chart([
    { name: "p50 (last 2 s)", color: COLORS[0], points: tl.map(p => [p.t, p.p50_us]) },
    { name: "p99 (last 2 s)", color: COLORS[1], points: tl.map(p => [p.t, p.p99_us]) },
  ], { xlabel: "seconds since start", yfmt: micros, xfmt: secs }));
  document.getElementById("rate-plot").replaceChildren(...chart([
    { name: "spout emits/s", color: COLORS[2], points: tl.map(p => [p.t, p.emitted_per_s]) },
    { name: "bolt executes/s", color: COLORS[3], points: tl.map(p => [p.t, p.executed_per_s]) },
  ], { xlabel: "seconds since start", yfmt: rate, xfmt: secs }));
}

// ---- tables ----------------------------------------------------------------------------

function drawComponents(t) {
  fill(document.querySelector("#components tbody"), t.components.map(c => el("tr", { "data-id": c.id, "data-kind": c.kind },
    el("td", {}, c.id), el("td", { class: "kind" }, c.kind), el("td", { class: "parallelism" }, c.parallelism),
    el("td", { class: "emitted" }, count(c.emitted)), el("td", { class: "emitted-rate" }, rate(c.rates.emitted)),
    el("td", { class: "executed" }, count(c.executed)), el("td", { class: "executed-rate" }, rate(c.rates.executed)),
    el("td", { class: "acked" }, count(c.acked)), el("td", { class: "failed" }, count(c.failed)),
    el("td", { class: "replayed" }, count(c.replayed)), el("td", { class: "restarts" }, count(c.restarts)),
    el("td", { class: "capacity" }, c.kind === "bolt" ? bar(c.capacity) : null, c.kind === "bolt" ? `${(c.capacity * 100).toFixed(0)}%` : "-"),
    el("td", { class: "queue" }, c.kind === "bolt" ? count(c.queue_depth) : "-"),
    el("td", { class: "p50" }, micros(c.latency_us.p50)), el("td", { class: "p99" }, micros(c.latency_us.p99)),
    el("td", { class: "max" }, micros(c.latency_us.max)))));
}

function drawDeadLetters(t) {
  document.getElementById("dead-count").textContent = `(${t.dead_letters.length})`;
  const rows = t.dead_letters.map(d => el("tr", { class: "dead-letter" },
    el("td", {}, d.component), el("td", {}, d.task), el("td", {}, d.attempts),
    el("td", { class: "text" }, d.error), el("td", { class: "text" }, el("code", {}, d.tuple))));
  if (!rows.length) rows.push(el("tr", {}, el("td", { class: "text", colspan: 5 }, "none")));
  fill(document.querySelector("#dead-letters tbody"), rows);
}

function drawSummary(t) {
  document.getElementById("name").textContent = t.name;
  const spouts = t.components.filter(c => c.kind === "spout");
  const emitted = spouts.reduce((a, c) => a + c.emitted, 0);
  const emitRate = spouts.reduce((a, c) => a + c.rates.emitted, 0);
  const item = (id, label, value) => el("span", { id }, `${label} `, el("b", {}, value));
  document.getElementById("summary").replaceChildren(
    item("s-guarantee", "guarantee", t.guarantee), item("s-uptime", "uptime", `${t.uptime_s.toFixed(1)} s`),
    item("s-emitted", "spout emits", count(emitted)), item("s-rate", "rate", `${rate(emitRate)}/s`),
    item("s-p99", "p99", micros(t.latency_us.p99)), item("s-restarts", "restarts", count(t.restarts)),
    item("s-checkpoints", "checkpoints", count(t.checkpoints.completed)),
    item("s-rollbacks", "rollbacks", count(t.checkpoints.rollbacks)),
    item("s-dead", "dead letters", count(t.dead_letters.length)));
}

function drawJob(j) {
  const section = document.getElementById("job-section");
  if (!j) { section.hidden = true; return; }
  section.hidden = false;
  document.getElementById("job-name").textContent = j.name;
  document.getElementById("job-summary").textContent =
    `map ${j.maps_done}/${j.maps_total} · reduce ${j.reduces_done}/${j.reduces_total} · ` +
    `${j.failed_attempts} failed and ${j.killed_attempts} killed attempts · ${j.state}`;
  fill(document.querySelector("#job-tasks tbody"), j.tasks.map(t => el("tr", { class: "job-task", "data-kind": t.kind, "data-index": t.index },
    el("td", {}, `${t.kind} ${t.index}`), el("td", { class: `state-${t.state}` }, t.state),
    el("td", {}, t.attempts), el("td", {}, t.failures),
    el("td", {}, bar(t.progress), `${(t.progress * 100).toFixed(0)}%`),
    el("td", {}, t.running_s === null ? "-" : `${t.running_s.toFixed(1)} s`),
    el("td", { class: "text" }, t.last_failure))));
  fill(document.querySelector("#job-counters tbody"), Object.entries(j.counters).map(([k, v]) =>
    el("tr", { "data-counter": k }, el("td", {}, k), el("td", {}, count(v)))));
}

function draw(t) {
  drawSummary(t);
  drawGraph(t);
  drawComponents(t);
  drawLatency(t);
  drawDeadLetters(t);
}

// ---- polling ---------------------------------------------------------------------------

let isJob = null;

function setStatus(state, text) {
  document.body.dataset.state = state;
  document.getElementById("status").textContent = text;
}

async function getJson(path) {
  const r = await fetch(path, { cache: "no-store" });
  return r.ok ? r.json() : { missing: r.status };
}

async function poll() {
  try {
    const t = await getJson("api/v1/topology");
    if (!t.missing) {
      draw(t);
      if (isJob !== false) {
        const j = await getJson("api/v1/job");
        isJob = !j.missing;
        drawJob(isJob ? j : null);
      }
      document.body.dataset.updates = String(Number(document.body.dataset.updates) + 1);
      const done = t.state === "finished";
      setStatus(done ? "finished" : "live", `${done ? "finished" : "live"} · updated ${new Date().toLocaleTimeString()}`);
    }
  } catch (e) {
    setStatus("lost", "no answer from the run: it may have ended");
  }
  setTimeout(poll, POLL_MS);
}

if (window.SQUALL_STATIC) {
  const { topology, job } = window.SQUALL_STATIC;
  if (topology) draw(topology);
  drawJob(job);
  document.body.dataset.updates = "1";
  setStatus("finished", `report of a finished run (uptime ${topology ? topology.uptime_s.toFixed(1) : "?"} s)`);
} else {
  poll();
}
