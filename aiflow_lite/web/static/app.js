// aiflow_lite web UI: live updates over Server-Sent Events, actions as POST with the CSRF token.
// No inline scripts or styles (the Content-Security-Policy forbids them): pages hand their data
// over in <script type="application/json"> blocks, and every text a user could have written is
// put in the page with textContent, never as HTML.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";

  // -- small helpers ---------------------------------------------------------------------------

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.from((root || document).querySelectorAll(selector)); }

  function jsonBlock(id, root) {
    const el = (root || document).getElementById ? (root || document).getElementById(id)
      : $("#" + id, root);
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  function svg(tag, attrs, parent) {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
    if (parent) parent.appendChild(el);
    return el;
  }

  function text(parent, x, y, value, cls, anchor) {
    const t = svg("text", { x: x, y: y, class: cls || "", "text-anchor": anchor || "start" }, parent);
    t.textContent = value;
    return t;
  }

  function tip(el, value) { svg("title", {}, el).textContent = value; }

  function statusClass(status) { return "status-" + String(status || "").toLowerCase(); }

  function readOnly() { return document.body.dataset.readOnly === "true"; }

  function csrfToken() {
    const meta = $('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function formatTime(ms) {
    if (ms === null || ms === undefined) return "";
    const d = new Date(ms);
    const pad = (n, w) => String(n).padStart(w || 2, "0");
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + "." +
      pad(d.getMilliseconds(), 3);
  }

  function formatDuration(ms) {
    if (ms < 1000) return Math.round(ms) + "ms";
    if (ms < 60000) return (ms / 1000).toFixed(1) + "s";
    const m = Math.floor(ms / 60000), s = Math.floor((ms % 60000) / 1000);
    if (m < 60) return m + "m " + String(s).padStart(2, "0") + "s";
    return Math.floor(m / 60) + "h " + String(m % 60).padStart(2, "0") + "m";
  }

  let flashTimer = null;
  function flash(message, bad) {
    const el = $("#flash");
    if (!el) return;
    el.textContent = message;
    el.className = "flash " + (bad ? "flash-bad" : "flash-ok");
    el.hidden = false;
    clearTimeout(flashTimer);
    flashTimer = setTimeout(() => { el.hidden = true; }, bad ? 8000 : 3000);
  }

  // -- actions: POST to the REST API with the CSRF token ---------------------------------------

  async function post(url) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken(), "Accept": "application/json" },
    });
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) {
      const message = body && body.error ? body.error : response.status + " " + response.statusText;
      throw new Error(message);
    }
    return body;
  }

  function initActions(root) {
    $all("button[data-action]", root).forEach((button) => {
      if (readOnly()) { button.remove(); return; }
      if (button.dataset.bound) return;
      button.dataset.bound = "1";
      button.addEventListener("click", async () => {
        // A second click confirms (no window.confirm: a page never opens a dialog).
        if (button.dataset.confirm && button.dataset.armed !== "1") {
          button.dataset.armed = "1";
          button.dataset.label = button.textContent;
          button.textContent = "Click again to confirm";
          button.classList.add("armed");
          button.title = button.dataset.confirm;
          setTimeout(() => {
            if (button.dataset.armed === "1") {
              button.dataset.armed = "";
              button.textContent = button.dataset.label;
              button.classList.remove("armed");
            }
          }, 4000);
          return;
        }
        button.dataset.armed = "";
        if (button.dataset.label) button.textContent = button.dataset.label;
        button.classList.remove("armed");
        button.disabled = true;
        try {
          const body = await post(button.dataset.action);
          let message = "done";
          if (body && typeof body === "object") {
            if (body.message) message = body.message;
            else if (body.id !== undefined) message = "done (id " + body.id + ")";
          }
          flash(message, false);
          if (button.dataset.navigate && body && body.id !== undefined) {
            window.location.href = "/executions/" + encodeURIComponent(body.id);
            return;
          }
          if (button.dataset.reload) refreshSoon(0, true);
          else refreshSoon(50);
        } catch (error) {
          flash(error.message, true);
        } finally {
          button.disabled = false;
        }
      });
    });
  }

  // -- workflow graph --------------------------------------------------------------------------

  // Leaves of a condition: [{kind: "task"|"event"|"model", ...}], composite ones flattened.
  function leaves(condition, out, group) {
    out = out || [];
    if (!condition) return out;
    const type = condition.type;
    if (type === "all" || type === "any") {
      (condition.conditions || []).forEach((c) => leaves(c, out, type));
    } else if (type === "task_status") {
      Object.entries(condition.upstream || {}).forEach(([task, status]) =>
        out.push({ kind: "task", task: task, label: status, group: group }));
    } else if (type === "model_version") {
      out.push({ kind: "input", id: "model:" + condition.model,
                 label: "model " + condition.model + " → " + (condition.stage || "any stage"),
                 group: group });
    } else {
      (condition.event_keys || []).forEach((key) => {
        if (key.indexOf("__aiflow.task_status.") === 0) {
          out.push({ kind: "task", task: key.slice(21), label: "any status", group: group });
        } else {
          out.push({ kind: "input", id: "event:" + key,
                     label: (type && type !== "event" ? type + ": " : "") + key, group: group });
        }
      });
    }
    return out;
  }

  function drawGraph(container, structure) {
    container.textContent = "";
    const tasks = (structure && structure.tasks) || [];
    if (!tasks.length) { container.textContent = "This workflow has no task."; return; }
    const byName = new Map(tasks.map((t) => [t.name, t]));
    const edges = [];
    const inputs = new Map();
    tasks.forEach((t) => {
      (t.rules || []).forEach((rule) => {
        leaves(rule.condition).forEach((leaf) => {
          const from = leaf.kind === "task" ? "task:" + leaf.task : leaf.id;
          if (leaf.kind !== "task" && !inputs.has(from)) inputs.set(from, leaf.label);
          if (leaf.kind === "task" && !byName.has(leaf.task)) inputs.set(from, "task " + leaf.task);
          edges.push({ from: from, to: "task:" + t.name, action: rule.action || "START",
                       label: (leaf.kind === "task" ? leaf.label : "") +
                         (leaf.group ? " (" + leaf.group + ")" : "") });
        });
      });
    });
    // Ranks: a task comes after the tasks it waits for; an input just before its first task.
    const rank = new Map();
    const visiting = new Set();
    function rankOf(name) {
      if (rank.has(name)) return rank.get(name);
      if (visiting.has(name)) return 1;
      visiting.add(name);
      let r = 1;
      edges.forEach((e) => {
        if (e.to === "task:" + name && e.from.indexOf("task:") === 0 && byName.has(e.from.slice(5)) &&
            e.action !== "STOP" && e.from !== e.to) {
          r = Math.max(r, rankOf(e.from.slice(5)) + 1);
        }
      });
      visiting.delete(name);
      rank.set(name, r);
      return r;
    }
    tasks.forEach((t) => rankOf(t.name));
    const nodes = [];
    const hasStart = tasks.some((t) => t.starts_with_execution);
    if (hasStart) nodes.push({ id: "start", label: "execution starts", kind: "start", rank: 0 });
    inputs.forEach((label, id) => {
      const targets = edges.filter((e) => e.from === id).map((e) => rank.get(e.to.slice(5)) || 1);
      nodes.push({ id: id, label: label, kind: "input", rank: Math.max(0, Math.min(...targets) - 1) });
    });
    tasks.forEach((t) => nodes.push({
      id: "task:" + t.name, label: t.name, kind: "task", rank: rank.get(t.name),
      sub: t.operator + (t.periodic_expression ? " · every " + t.periodic_expression : ""),
      starts: !!t.starts_with_execution,
    }));
    tasks.forEach((t) => {
      if (t.starts_with_execution) edges.push({ from: "start", to: "task:" + t.name, action: "START", label: "" });
    });
    const W = 170, H = 44, GX = 90, GY = 26, PAD = 20;
    const columns = new Map();
    nodes.forEach((n) => {
      if (!columns.has(n.rank)) columns.set(n.rank, []);
      columns.get(n.rank).push(n);
    });
    const ranks = Array.from(columns.keys()).sort((a, b) => a - b);
    const tallest = Math.max(...ranks.map((r) => columns.get(r).length));
    const height = PAD * 2 + tallest * H + (tallest - 1) * GY;
    const pos = new Map();
    ranks.forEach((r, ci) => {
      const col = columns.get(r);
      const top = (height - (col.length * H + (col.length - 1) * GY)) / 2;
      col.forEach((n, i) => pos.set(n.id, { x: PAD + ci * (W + GX), y: top + i * (H + GY), node: n }));
    });
    const width = PAD * 2 + ranks.length * W + (ranks.length - 1) * GX;
    const root = svg("svg", { viewBox: "0 0 " + width + " " + height, width: width, height: height,
                              class: "graph-svg", role: "img", "aria-label": "workflow graph" });
    const defs = svg("defs", {}, root);
    ["start", "stop", "restart"].forEach((kind) => {
      const marker = svg("marker", { id: "arrow-" + kind, viewBox: "0 0 10 10", refX: 10, refY: 5,
                                     markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
      svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow arrow-" + kind }, marker);
    });
    const edgeLayer = svg("g", { class: "edges" }, root);
    const nodeLayer = svg("g", { class: "nodes" }, root);
    edges.forEach((e) => {
      const a = pos.get(e.from), b = pos.get(e.to);
      if (!a || !b) return;
      const kind = String(e.action).toLowerCase();
      let d;
      if (a === b) {
        const x = a.x + W, y = a.y + H / 2;
        d = "M " + x + " " + (y - 8) + " C " + (x + 50) + " " + (y - 40) + ", " + (x + 50) + " " +
          (y + 40) + ", " + x + " " + (y + 8);
      } else {
        const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
        const back = x2 <= x1;
        const cx = back ? 80 : (x2 - x1) / 2;
        d = "M " + x1 + " " + y1 + " C " + (x1 + cx) + " " + y1 + ", " + (x2 - cx) + " " + y2 + ", " + x2 + " " + y2;
        // Labels sit on the curve near its source, so edges meeting at a task keep theirs apart.
        const t = 0.3, u = 1 - t;
        e.lx = u * u * u * x1 + 3 * u * u * t * (x1 + cx) + 3 * u * t * t * (x2 - cx) + t * t * t * x2;
        e.ly = u * u * u * y1 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y2;
      }
      const g = svg("g", { class: "edge edge-" + kind }, edgeLayer);
      svg("path", { d: d, class: "edge-line", "marker-end": "url(#arrow-" + kind + ")" }, g);
      tip(g, e.from.replace(/^task:|^event:/, "") + " → " + e.action + " " + e.to.slice(5) +
        (e.label ? " when " + e.label : ""));
      const label = (e.action !== "START" ? e.action + " " : "") + (e.label || "");
      if (label.trim() && a !== b) {
        text(g, e.lx, e.ly - 5, label.trim(), "edge-label", "middle");
      }
    });
    pos.forEach((p) => {
      const n = p.node;
      const g = svg("g", { class: "node node-" + n.kind + (n.starts ? " node-starts" : ""),
                           transform: "translate(" + p.x + "," + p.y + ")",
                           "data-node": n.id }, nodeLayer);
      svg("rect", { width: W, height: H, rx: n.kind === "task" ? 6 : 20, ry: n.kind === "task" ? 6 : 20 }, g);
      const short = n.label.length > 24 ? n.label.slice(0, 23) + "…" : n.label;
      text(g, W / 2, n.sub ? 18 : 27, short, "node-label", "middle");
      if (n.sub) text(g, W / 2, 34, n.sub.length > 28 ? n.sub.slice(0, 27) + "…" : n.sub, "node-sub", "middle");
      tip(g, n.label + (n.sub ? " (" + n.sub + ")" : ""));
    });
    container.appendChild(root);
  }

  // -- execution timeline ----------------------------------------------------------------------

  function drawTimeline(container, data) {
    container.textContent = "";
    const tasks = (data && data.tasks) || [];
    if (!tasks.length) { container.textContent = "No task execution yet."; return; }
    const now = Date.now();
    const names = [];
    (data.task_order || []).forEach((n) => { if (tasks.some((t) => t.task_name === n)) names.push(n); });
    tasks.forEach((t) => { if (names.indexOf(t.task_name) < 0) names.push(t.task_name); });
    const begins = tasks.map((t) => t.begin_time).filter((v) => v !== null && v !== undefined);
    const start = Math.min(...begins.concat(data.execution.begin_time ? [data.execution.begin_time] : []), now);
    const ends = tasks.map((t) => t.end_time || (t.begin_time ? now : start));
    const end = Math.max(start + 1, ...ends, data.execution.end_time || 0);
    const span = end - start;
    const LEFT = 130, RIGHT = 20, ROW = 30, TOP = 26, width = Math.max(600, container.clientWidth || 900);
    const height = TOP + names.length * ROW + 10;
    const scale = (t) => LEFT + ((t - start) / span) * (width - LEFT - RIGHT);
    const root = svg("svg", { viewBox: "0 0 " + width + " " + height, width: width, height: height,
                              class: "timeline-svg", role: "img", "aria-label": "task timeline" });
    for (let i = 0; i <= 4; i++) {
      const x = LEFT + (i / 4) * (width - LEFT - RIGHT);
      svg("line", { x1: x, y1: TOP - 6, x2: x, y2: height - 6, class: "tick" }, root);
      text(root, x, 14, "+" + formatDuration((span * i) / 4), "tick-label", i === 4 ? "end" : "middle");
    }
    names.forEach((name, i) => {
      const y = TOP + i * ROW;
      if (i % 2 === 0) svg("rect", { x: 0, y: y, width: width, height: ROW, class: "row-band" }, root);
      text(root, 8, y + ROW / 2 + 4, name, "row-label");
    });
    tasks.forEach((t) => {
      const row = names.indexOf(t.task_name);
      const y = TOP + row * ROW + 5;
      const b = t.begin_time || now, e = t.end_time || now;
      const x1 = scale(b), x2 = Math.max(x1 + 3, scale(e));
      const link = svg("a", { href: "/task-executions/" + t.id, class: "bar " + statusClass(t.status),
                              "data-task-execution-id": t.id }, root);
      svg("rect", { x: x1, y: y, width: x2 - x1, height: ROW - 10, rx: 3, ry: 3 }, link);
      const label = "#" + t.sequence_number + (t.try_number > 1 ? " try " + t.try_number : "") + " " + t.status;
      if (x2 - x1 > 70) text(link, x1 + 5, y + 14, label, "bar-label");
      tip(link, t.task_name + " #" + t.sequence_number + " (try " + t.try_number + "): " + t.status +
        "\n" + formatTime(t.begin_time) + (t.begin_time ? " for " + formatDuration(e - b) : "") +
        (t.reason ? "\nstarted: " + t.reason : "") + (t.stop_reason ? "\nstopped: " + t.stop_reason : ""));
    });
    container.appendChild(root);
  }

  // -- metric charts ---------------------------------------------------------------------------

  function drawCharts(container, charts) {
    container.textContent = "";
    (charts || []).forEach((chart) => {
      const figure = document.createElement("figure");
      figure.className = "chart";
      const caption = document.createElement("figcaption");
      caption.textContent = chart.key;
      figure.appendChild(caption);
      const W = 420, H = 220, L = 52, R = 12, T = 10, B = 28;
      const points = chart.series.flatMap((s) => s.steps.map((step, i) => [step, s.values[i]]));
      if (!points.length) return;
      let xmin = Math.min(...points.map((p) => p[0])), xmax = Math.max(...points.map((p) => p[0]));
      let ymin = Math.min(...points.map((p) => p[1])), ymax = Math.max(...points.map((p) => p[1]));
      if (xmin === xmax) { xmin -= 1; xmax += 1; }
      if (ymin === ymax) { ymin -= Math.abs(ymin) * 0.1 || 1; ymax += Math.abs(ymax) * 0.1 || 1; }
      const sx = (x) => L + ((x - xmin) / (xmax - xmin)) * (W - L - R);
      const sy = (y) => T + (1 - (y - ymin) / (ymax - ymin)) * (H - T - B);
      const root = svg("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, class: "chart-svg",
                                role: "img", "aria-label": "metric " + chart.key });
      svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }, root);
      svg("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }, root);
      const fmt = (v) => (Math.abs(v) >= 1000 || Number.isInteger(v) ? String(Math.round(v * 100) / 100)
        : v.toPrecision(3));
      for (let i = 0; i <= 4; i++) {
        const v = ymin + ((ymax - ymin) * i) / 4;
        svg("line", { x1: L, y1: sy(v), x2: W - R, y2: sy(v), class: "grid-line" }, root);
        text(root, L - 4, sy(v) + 4, fmt(v), "tick-label", "end");
      }
      text(root, L, H - 8, "step " + fmt(xmin), "tick-label", "start");
      text(root, W - R, H - 8, fmt(xmax), "tick-label", "end");
      chart.series.forEach((s, si) => {
        const cls = "series series-" + (si % 6);
        const coords = s.steps.map((step, i) => sx(step) + "," + sy(s.values[i])).join(" ");
        const g = svg("g", { class: cls }, root);
        svg("polyline", { points: coords, class: "series-line" }, g);
        s.steps.forEach((step, i) => {
          const c = svg("circle", { cx: sx(step), cy: sy(s.values[i]), r: 3, class: "series-dot" }, g);
          tip(c, s.label + " step " + step + ": " + s.values[i]);
        });
      });
      figure.appendChild(root);
      const legend = document.createElement("div");
      legend.className = "chart-legend";
      chart.series.forEach((s, si) => {
        const item = document.createElement("span");
        item.className = "legend-item series-" + (si % 6);
        item.textContent = s.label;
        legend.appendChild(item);
      });
      figure.appendChild(legend);
      container.appendChild(figure);
    });
  }

  // -- drawing what a (part of a) page holds ---------------------------------------------------

  function draw(root) {
    $all("[data-graph]", root).forEach((el) => drawGraph(el, jsonBlock(el.dataset.graph)));
    $all("[data-timeline]", root).forEach((el) => drawTimeline(el, jsonBlock(el.dataset.timeline)));
    $all("[data-charts]", root).forEach((el) => drawCharts(el, jsonBlock(el.dataset.charts)));
    $all("pre[data-autoscroll]", root).forEach((el) => { el.scrollTop = el.scrollHeight; });
    initActions(root);
  }

  // -- live: refresh the page's live part, append events ---------------------------------------

  let config = null;
  let refreshTimer = null;
  let refreshing = false;
  let refreshAgain = false;
  let lastRefresh = 0;
  let pollTimer = null;

  function refreshSoon(delay, now) {
    if (!config || !config.refresh) { if (now) window.location.reload(); return; }
    clearTimeout(refreshTimer);
    const minGap = config.min_gap_ms || 0;  // a busy home must not refetch a page per event
    const wait = Math.max(delay || 0, lastRefresh + minGap - Date.now());
    refreshTimer = setTimeout(refresh, Math.max(0, wait));
  }

  async function refresh() {
    if (refreshing) { refreshAgain = true; return; }
    refreshing = true;
    lastRefresh = Date.now();
    try {
      const response = await fetch(window.location.href, {
        credentials: "same-origin", headers: { "Accept": "text/html" }, cache: "no-store",
      });
      if (!response.ok) return;
      const doc = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = doc.getElementById(config.refresh);
      const current = document.getElementById(config.refresh);
      if (!fresh || !current) return;
      const log = $("pre.log", current);
      const follow = !log || log.scrollHeight - log.scrollTop - log.clientHeight < 40;
      // JSON blocks the live part draws from may sit outside it: bring those over too.
      $all('script[type="application/json"]', doc).forEach((block) => {
        const mine = document.getElementById(block.id);
        if (mine && block.id !== "live-config") mine.textContent = block.textContent;
      });
      const adopted = document.importNode(fresh, true);
      current.replaceWith(adopted);
      draw(adopted);
      const log2 = $("pre.log", adopted);
      if (log2 && !follow && log) log2.scrollTop = log.scrollTop;
      const scheduler = doc.getElementById("scheduler-state");
      const mine = document.getElementById("scheduler-state");
      if (scheduler && mine) mine.replaceWith(document.importNode(scheduler, true));
      const next = jsonBlock("live-config", doc);
      if (next) setPoll(next.poll_ms || 0);
    } catch (e) {
      // the server went away for a moment: the next event or poll tries again
    } finally {
      refreshing = false;
      if (refreshAgain) { refreshAgain = false; refreshSoon(30); }
    }
  }

  function setPoll(ms) {
    if (config.poll_ms === ms && pollTimer) return;
    config.poll_ms = ms;
    clearInterval(pollTimer);
    pollTimer = ms > 0 ? setInterval(() => refreshSoon(0), ms) : null;
  }

  function eventRow(event) {
    const tr = document.createElement("tr");
    tr.dataset.offset = event.offset;
    if (String(event.key).indexOf("__aiflow.") === 0) tr.className = "internal";
    const cells = [event.offset, formatTime(event.create_time), event.key,
      event.value === null || event.value === undefined ? "" : event.value,
      event.namespace || "", event.sender || "", event.context || ""];
    const classes = ["", "", "key", "value", "", "", "context"];
    cells.forEach((value, i) => {
      const td = document.createElement("td");
      if (classes[i]) td.className = classes[i];
      td.textContent = typeof value === "string" ? value : (typeof value === "object" ? JSON.stringify(value) : String(value));
      tr.appendChild(td);
    });
    tr.classList.add("fresh");
    setTimeout(() => tr.classList.remove("fresh"), 1500);
    return tr;
  }

  function contextOf(event) {
    if (!event.context) return {};
    if (typeof event.context === "object") return event.context;
    try { return JSON.parse(event.context) || {}; } catch (e) { return {}; }
  }

  function onEvent(event) {
    if (config.events_table) {
      const body = document.getElementById(config.events_table);
      if (body) {
        if (body.querySelector('tr[data-offset="' + Number(event.offset) + '"]')) return;
        body.insertBefore(eventRow(event), body.firstChild);
        const limit = parseInt(body.dataset.limit || "200", 10);
        while (body.rows.length > limit) body.deleteRow(body.rows.length - 1);
        const empty = $("#no-events");
        if (empty) empty.remove();
      }
    }
    const ctx = contextOf(event);
    if (config.status_rows && String(event.key).indexOf("__aiflow.task_status.") === 0) {
      // Show the new status at once; the refresh that follows brings times and reasons.
      // Only a number names a row: a crafted context must not make the selector throw.
      const id = Number.isSafeInteger(ctx.task_execution_id) ? ctx.task_execution_id : -1;
      const row = $('tr[data-task-execution-id="' + id + '"] .task-status');
      if (row) {
        row.textContent = "";
        const span = document.createElement("span");
        span.className = "status " + statusClass(event.value);
        span.textContent = event.value;
        row.appendChild(span);
      }
    }
    if (config.task_execution_id && ctx.task_execution_id !== undefined &&
        ctx.task_execution_id !== config.task_execution_id) return;
    if (config.refresh) refreshSoon(20);
  }

  function connect() {
    const stream = config.stream;
    const params = new URLSearchParams();
    if (stream.key) params.append("key", stream.key);
    if (stream.namespace) params.set("namespace", stream.namespace);
    if (stream.internal) params.set("internal", "1");
    if (stream.workflow_execution_id !== undefined) params.set("workflow_execution_id", stream.workflow_execution_id);
    if (stream.begin_offset !== undefined) params.set("begin_offset", stream.begin_offset);
    const state = $("#live-state");
    const source = new EventSource("/api/v1/stream?" + params.toString());
    source.addEventListener("open", () => {
      document.body.dataset.live = "open";
      if (state) { state.textContent = "live"; state.className = "live-state live-on"; }
    });
    source.addEventListener("error", () => {
      document.body.dataset.live = "reconnecting";
      if (state) { state.textContent = "reconnecting…"; state.className = "live-state live-off"; }
    });
    source.addEventListener("event", (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      onEvent(event);
    });
    window.addEventListener("pagehide", () => source.close());
  }

  function init() {
    $all("input[data-autosubmit]").forEach((input) =>
      input.addEventListener("change", () => input.form && input.form.submit()));
    draw(document);
    config = jsonBlock("live-config");
    if (!config) return;
    const poll = config.poll_ms || 0;
    config.poll_ms = -1;
    setPoll(poll);
    if (config.stream && window.EventSource) connect();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
